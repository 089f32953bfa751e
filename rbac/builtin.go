package rbac

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehousehq/gatehouse/ent"
)

// Built-in role ids: the same in every tenant (Medusa clients expect
// role_super_admin).
const (
	RoleSuperAdmin = "role_super_admin"
	RoleAdmin      = "role_admin"
	RoleViewer     = "role_viewer"
)

// PolicySuperAdmin is the id of the "*:*" policy, as in Medusa.
const PolicySuperAdmin = "rpol_super_admin"

// Resources are the code-registered resources: each gets a read, create,
// update and delete policy in every tenant.
var Resources = []string{"user", "api_key", "invite", "sales_channel", "rbac_role", "rbac_policy", "customer", "audit", "webhook"}

// Operations are the code-registered operations.
var Operations = []string{"read", "create", "update", "delete"}

// policyName is Medusa's generated name: ReadUser, CreateApiKey, …
func policyName(resource, operation string) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(operation[:1]) + operation[1:])
	for _, part := range strings.Split(resource, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// adminGets reports whether role_admin holds resource:operation: everything
// but changing roles and policies.
func adminGets(resource, operation string) bool {
	return operation == "read" || (resource != "rbac_role" && resource != "rbac_policy")
}

// Seed creates the built-in policies and roles of a new tenant (a
// tenants.CreateHook: tx is the creation transaction, ctx is scoped to the
// tenant). It runs on every tenant creation, so it writes one INSERT per table
// (three round trips) rather than one per row: the 37 policies one by one were
// most of the time a creation took.
func Seed(ctx context.Context, tx *ent.Client) error {
	superName, superDesc := "Super Admin", "Full access to everything in the tenant"
	policies := []*ent.RBACPolicyCreate{tx.RBACPolicy.Create().SetPolicyID(PolicySuperAdmin).SetKey("*:*").
		SetResource("*").SetOperation("*").SetName(superName).SetDescription(superDesc)}
	links := []*ent.RBACRolePolicyCreate{tx.RBACRolePolicy.Create().SetRoleID(RoleSuperAdmin).SetPolicyID(PolicySuperAdmin)}
	for _, res := range Resources {
		for _, op := range Operations {
			id := newID("rpol")
			policies = append(policies, tx.RBACPolicy.Create().SetPolicyID(id).SetKey(res+":"+op).SetResource(res).
				SetOperation(op).SetName(policyName(res, op)))
			if adminGets(res, op) {
				links = append(links, tx.RBACRolePolicy.Create().SetRoleID(RoleAdmin).SetPolicyID(id))
			}
			if op == "read" {
				links = append(links, tx.RBACRolePolicy.Create().SetRoleID(RoleViewer).SetPolicyID(id))
			}
		}
	}
	roles := []*ent.RBACRoleCreate{
		tx.RBACRole.Create().SetRoleID(RoleSuperAdmin).SetName(superName).SetDescription(superDesc),
		tx.RBACRole.Create().SetRoleID(RoleAdmin).SetName("Admin").
			SetDescription("Manages users, invites, API keys, sales channels and customers; reads roles and policies"),
		tx.RBACRole.Create().SetRoleID(RoleViewer).SetName("Viewer").SetDescription("Read-only access"),
	}
	if err := tx.RBACPolicy.CreateBulk(policies...).Exec(ctx); err != nil {
		return fmt.Errorf("seed rbac policies: %w", err)
	}
	if err := tx.RBACRole.CreateBulk(roles...).Exec(ctx); err != nil {
		return fmt.Errorf("seed rbac roles: %w", err)
	}
	if err := tx.RBACRolePolicy.CreateBulk(links...).Exec(ctx); err != nil {
		return fmt.Errorf("seed rbac role policies: %w", err)
	}
	return nil
}
