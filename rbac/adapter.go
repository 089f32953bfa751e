package rbac

import (
	"context"
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// errReadOnly is returned by the adapter's write methods: policies are
// written through Service (with its escalation guards), never through an
// enforcer.
var errReadOnly = errors.New("rbac adapter: policies are written through rbac.Service")

// errUnfiltered refuses loading every tenant into one enforcer.
var errUnfiltered = errors.New("rbac adapter: load one tenant with LoadFilteredPolicy")

// Adapter loads one tenant's roles, policies and assignments from Ent into a
// Casbin model. It is made per load because Casbin's adapter methods take no
// context.
type Adapter struct {
	ctx context.Context
	db  *ent.Client
}

var (
	_ persist.Adapter         = (*Adapter)(nil)
	_ persist.FilteredAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter reading db with ctx.
func NewAdapter(ctx context.Context, db *ent.Client) *Adapter { return &Adapter{ctx: ctx, db: db} }

// LoadPolicy refuses: an enforcer holds one tenant.
func (a *Adapter) LoadPolicy(model.Model) error { return errUnfiltered }

// LoadFilteredPolicy loads the tenant whose id is filter (a string).
func (a *Adapter) LoadFilteredPolicy(m model.Model, filter any) error {
	tenantID, ok := filter.(string)
	if !ok || tenantID == "" {
		return errUnfiltered
	}
	ctx := tenants.WithTenant(a.ctx, tenantID)
	pols, err := a.db.RBACPolicy.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	byID := make(map[string]*ent.RBACPolicy, len(pols))
	for _, p := range pols {
		byID[p.PolicyID] = p
	}
	links, err := a.db.RBACRolePolicy.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("load role policies: %w", err)
	}
	for _, l := range links {
		p, ok := byID[l.PolicyID]
		if !ok {
			continue
		}
		if err := persist.LoadPolicyArray([]string{"p", l.RoleID, tenantID, p.Resource, p.Operation}, m); err != nil {
			return err
		}
	}
	roles, err := a.db.RBACRole.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("load roles: %w", err)
	}
	for _, r := range roles {
		if r.ParentID != nil && *r.ParentID != "" {
			if err := persist.LoadPolicyArray([]string{"g", r.RoleID, *r.ParentID, tenantID}, m); err != nil {
				return err
			}
		}
	}
	as, err := a.db.RBACAssignment.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("load assignments: %w", err)
	}
	for _, x := range as {
		if err := persist.LoadPolicyArray([]string{"g", string(x.SubjectType) + ":" + x.SubjectID, x.RoleID, tenantID}, m); err != nil {
			return err
		}
	}
	return nil
}

// IsFiltered reports true: the model never holds more than one tenant.
func (a *Adapter) IsFiltered() bool { return true }

// SavePolicy refuses (see errReadOnly).
func (a *Adapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy refuses (see errReadOnly).
func (a *Adapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy refuses (see errReadOnly).
func (a *Adapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy refuses (see errReadOnly).
func (a *Adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }
