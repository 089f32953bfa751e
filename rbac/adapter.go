package rbac

import (
	"context"
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/apikey"
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
	return loadChannelScopes(ctx, a.db, tenantID, m)
}

// channelsLimited is the g2 role that marks a subject limited to the sales
// channels it is linked to (see model.conf).
const channelsLimited = "channels:limited"

// loadChannelScopes adds the g2 lines of the tenant's partner keys: secret
// keys linked to sales channels are limited to them. A disabled channel still
// limits its key but admits nothing, so it gets no line of its own.
func loadChannelScopes(ctx context.Context, db *ent.Client, tenantID string, m model.Model) error {
	keys, err := db.APIKey.Query().
		Where(apikey.TypeEQ(apikey.TypeSecret), apikey.DeletedAtIsNil(), apikey.HasSalesChannels()).
		WithSalesChannels().
		All(ctx)
	if err != nil {
		return fmt.Errorf("load partner key channels: %w", err)
	}
	for _, k := range keys {
		sub := KeySubject(k.ID)
		if err := persist.LoadPolicyArray([]string{"g2", sub, channelsLimited, tenantID}, m); err != nil {
			return err
		}
		for _, sc := range k.Edges.SalesChannels {
			if sc.IsDisabled {
				continue
			}
			if err := persist.LoadPolicyArray([]string{"g2", sub, sc.ID, tenantID}, m); err != nil {
				return err
			}
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
