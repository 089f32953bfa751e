package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/rbacpolicy"
	"github.com/gatehousehq/gatehouse/ent/rbacrole"
	"github.com/gatehousehq/gatehouse/ent/rbacrolepolicy"
	"github.com/gatehousehq/gatehouse/ent/signingkey"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

// ownedRows counts what the tenant id owns of each table tenant creation
// writes to.
type ownedRows struct{ Keys, ActiveKeys, NextKeys, Roles, Policies, RolePolicies int }

func countOwned(ctx context.Context, db *ent.Client, id string) (ownedRows, error) {
	ctx = tenants.SystemContext(ctx, "test: count tenant rows")
	var (
		n   ownedRows
		err error
	)
	count := func(dst *int, q interface {
		Count(context.Context) (int, error)
	}) {
		if err == nil {
			*dst, err = q.Count(ctx)
		}
	}
	count(&n.Keys, db.SigningKey.Query().Where(signingkey.TenantID(id)))
	count(&n.ActiveKeys, db.SigningKey.Query().Where(signingkey.TenantID(id), signingkey.StatusEQ(signingkey.StatusActive)))
	count(&n.NextKeys, db.SigningKey.Query().Where(signingkey.TenantID(id), signingkey.StatusEQ(signingkey.StatusNext)))
	count(&n.Roles, db.RBACRole.Query().Where(rbacrole.TenantID(id)))
	count(&n.Policies, db.RBACPolicy.Query().Where(rbacpolicy.TenantID(id)))
	count(&n.RolePolicies, db.RBACRolePolicy.Query().Where(rbacrolepolicy.TenantID(id)))
	return n, err
}

// TestCreateTenant checks what the production wiring makes with a tenant
// (two signing keys, the built-in roles and policies, written in bulk) and
// that a failing create hook leaves nothing of it behind.
func TestCreateTenant(t *testing.T) {
	freshEnv(t)
	ctx := context.Background()
	var logs bytes.Buffer
	err := withApp(ctx, &logs, func(a *App) error {
		boom := errors.New("boom")
		var failedID string
		// Runs after the signing keys and the built-in roles are written.
		a.Tenants.OnCreate(func(_ context.Context, _ *ent.Client, tn *ent.Tenant) error {
			if tn.Slug == "fails" {
				failedID = tn.ID
				return boom
			}
			return nil
		})

		tn, err := a.Tenants.Create(ctx, tenants.CreateInput{Slug: "acme", Name: "Acme"})
		if err != nil {
			return fmt.Errorf("create acme: %w", err)
		}
		got, err := countOwned(ctx, a.DB.Client, tn.ID)
		if err != nil {
			return err
		}
		builtin := 1 + len(rbac.Resources)*len(rbac.Operations)
		want := ownedRows{Keys: 2, ActiveKeys: 1, NextKeys: 1, Roles: 3, Policies: builtin, RolePolicies: got.RolePolicies}
		if got != want || got.RolePolicies == 0 {
			t.Errorf("rows of a new tenant = %+v, want %+v (and role policies)", got, want)
		}
		tctx := tenants.NewContext(ctx, tn)
		roles, _, err := a.RBAC.FindRoles(tctx, rbac.RoleFilter{Limit: 100})
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, r := range roles {
			have[r.RoleID] = true
		}
		for _, r := range []string{rbac.RoleSuperAdmin, rbac.RoleAdmin, rbac.RoleViewer} {
			if !have[r] {
				t.Errorf("FindRoles(acme) has no %s (have %v)", r, have)
			}
		}
		jwks, err := a.Keys.JWKS(tctx)
		if err != nil {
			return fmt.Errorf("JWKS(acme): %w", err)
		}
		// The next key is published from the start.
		if len(jwks) != 2 || jwks[0].Alg != auth.AlgEdDSA || jwks[1].Alg != auth.AlgEdDSA || jwks[0].Kid == jwks[1].Kid {
			t.Errorf("JWKS(acme) = %+v, want the active and the next EdDSA key", jwks)
		}

		_, err = a.Tenants.Create(ctx, tenants.CreateInput{Slug: "fails", Name: "Fails"})
		if !errors.Is(err, boom) {
			t.Fatalf("Create(fails) = %v, want the hook's error", err)
		}
		if failedID == "" {
			t.Fatal("the failing hook did not run")
		}
		if got, err := countOwned(ctx, a.DB.Client, failedID); err != nil || got != (ownedRows{}) {
			t.Errorf("rows of the failed tenant = %+v, %v; want none", got, err)
		}
		if _, err := a.Tenants.FindBySlugOrID(ctx, "fails"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("FindBySlugOrID(fails) after the rollback = %v, want not found", err)
		}
		if _, err := a.Tenants.FindByID(ctx, failedID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("FindByID(%s) after the rollback = %v, want not found", failedID, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
}

// BenchmarkCreateTenant measures tenant creation through the production
// wiring (signing keys and built-in roles in the creation transaction),
// reporting the p50 and p99 of single creations.
func BenchmarkCreateTenant(b *testing.B) {
	freshEnv(b)
	ctx := context.Background()
	var logs bytes.Buffer
	err := withApp(ctx, &logs, func(a *App) error {
		var ds []time.Duration
		i := 0
		for b.Loop() {
			t0 := time.Now()
			slug := fmt.Sprintf("bench-%06d", i)
			if _, err := a.Tenants.Create(ctx, tenants.CreateInput{Slug: slug, Name: "Tenant " + slug}); err != nil {
				return err
			}
			ds = append(ds, time.Since(t0))
			i++
		}
		b.ReportMetric(float64(percentile(ds, 0.50).Microseconds()), "p50-µs")
		b.ReportMetric(float64(percentile(ds, 0.99).Microseconds()), "p99-µs")
		return nil
	})
	if err != nil {
		b.Fatalf("%v\n%s", err, logs.String())
	}
}
