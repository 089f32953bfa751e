package rbac

import (
	"context"
	"fmt"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/rbacpolicy"
	"github.com/gatehousehq/gatehouse/ent/rbacrole"
	"github.com/gatehousehq/gatehouse/tenants"
)

// builtinKeys lists the resource:operation keys Seed makes.
func builtinKeys() []string {
	keys := make([]string, 0, len(Resources)*len(Operations))
	for _, res := range Resources {
		for _, op := range Operations {
			keys = append(keys, res+":"+op)
		}
	}
	return keys
}

// Backfill gives tenants made by an earlier release the built-in policies
// added since (a new resource such as "webhook"), linked to role_admin and
// role_viewer as Seed would link them. Policies a tenant already has are
// left alone, and so are links a tenant removed on purpose: only new
// policies are linked. It costs one grouped query when nothing is missing,
// so `gatehouse migrate` and `serve` run it on every start. It returns how
// many tenants it changed.
func Backfill(ctx context.Context, db *ent.Client, changed func(ctx context.Context)) (int, error) {
	sys := tenants.SystemContext(ctx, "rbac backfill: built-in policies of every tenant")
	want := builtinKeys()
	var counts []struct {
		TenantID string `json:"tenant_id"`
		Count    int    `json:"count"`
	}
	if err := db.RBACPolicy.Query().Where(rbacpolicy.KeyIn(want...)).
		GroupBy(rbacpolicy.FieldTenantID).Aggregate(ent.Count()).Scan(sys, &counts); err != nil {
		return 0, fmt.Errorf("rbac backfill: %w", err)
	}
	complete := make(map[string]bool, len(counts))
	for _, c := range counts {
		complete[c.TenantID] = c.Count >= len(want)
	}
	all, err := db.Tenant.Query().All(sys)
	if err != nil {
		return 0, fmt.Errorf("rbac backfill: %w", err)
	}
	n := 0
	for _, tn := range all {
		if complete[tn.ID] {
			continue
		}
		tctx := tenants.NewContext(ctx, tn)
		if err := backfillTenant(tctx, db, want); err != nil {
			return n, fmt.Errorf("rbac backfill of tenant %s: %w", tn.ID, err)
		}
		if changed != nil {
			changed(tctx)
		}
		n++
	}
	return n, nil
}

func backfillTenant(ctx context.Context, db *ent.Client, want []string) error {
	tx, err := db.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	have, err := tx.RBACPolicy.Query().Where(rbacpolicy.KeyIn(want...)).Select(rbacpolicy.FieldKey).Strings(ctx)
	if err != nil {
		return err
	}
	got := make(map[string]bool, len(have))
	for _, k := range have {
		got[k] = true
	}
	roles, err := tx.RBACRole.Query().Where(rbacrole.RoleIDIn(RoleAdmin, RoleViewer)).Select(rbacrole.FieldRoleID).Strings(ctx)
	if err != nil {
		return err
	}
	hasRole := map[string]bool{}
	for _, r := range roles {
		hasRole[r] = true
	}
	var links []*ent.RBACRolePolicyCreate
	for _, res := range Resources {
		for _, op := range Operations {
			if got[res+":"+op] {
				continue
			}
			id := newID("rpol")
			if _, err := tx.RBACPolicy.Create().SetPolicyID(id).SetKey(res + ":" + op).SetResource(res).SetOperation(op).
				SetName(policyName(res, op)).Save(ctx); err != nil {
				return err
			}
			if hasRole[RoleAdmin] && adminGets(res, op) {
				links = append(links, tx.RBACRolePolicy.Create().SetRoleID(RoleAdmin).SetPolicyID(id))
			}
			if hasRole[RoleViewer] && op == "read" {
				links = append(links, tx.RBACRolePolicy.Create().SetRoleID(RoleViewer).SetPolicyID(id))
			}
		}
	}
	if len(links) > 0 {
		if err := tx.RBACRolePolicy.CreateBulk(links...).Exec(ctx); err != nil {
			return err
		}
	}
	return tx.Commit()
}
