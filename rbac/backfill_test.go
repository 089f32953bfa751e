package rbac

import (
	"context"
	"testing"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/rbacpolicy"
	"github.com/gatehousehq/gatehouse/ent/rbacrolepolicy"
	"github.com/gatehousehq/gatehouse/tenants"
)

// TestBackfill: a tenant made before a resource existed gets its built-in
// policies, linked as Seed links them, without undoing the tenant's own
// changes; complete tenants are untouched and a second run does nothing.
func TestBackfill(t *testing.T) {
	db := dbtest.Open(t).Client
	reg := tenants.NewRegistry(db, tenants.Options{BaseDomain: "localhost"})
	reg.OnCreate(func(ctx context.Context, tx *ent.Client, _ *ent.Tenant) error { return Seed(ctx, tx) })
	old, err := reg.Create(context.Background(), tenants.CreateInput{Slug: "old", Name: "Old"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Create(context.Background(), tenants.CreateInput{Slug: "fresh", Name: "Fresh"}); err != nil {
		t.Fatal(err)
	}
	ctx := tenants.NewContext(context.Background(), old)
	// "old" predates webhooks, and its owner took user:delete from role_admin.
	pids, err := db.RBACPolicy.Query().Where(rbacpolicy.Resource("webhook")).Select(rbacpolicy.FieldPolicyID).Strings(ctx)
	if err != nil || len(pids) != 4 {
		t.Fatalf("webhook policies = %v (%v), want 4", pids, err)
	}
	if _, err := db.RBACRolePolicy.Delete().Where(rbacrolepolicy.PolicyIDIn(pids...)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RBACPolicy.Delete().Where(rbacpolicy.Resource("webhook")).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	del, err := db.RBACPolicy.Query().Where(rbacpolicy.Key("user:delete")).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RBACRolePolicy.Delete().Where(rbacrolepolicy.RoleID(RoleAdmin), rbacrolepolicy.PolicyID(del.PolicyID)).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	var announced []string
	n, err := Backfill(context.Background(), db, func(ctx context.Context) {
		id, _ := tenants.IDFromContext(ctx)
		announced = append(announced, id)
	})
	if err != nil || n != 1 || len(announced) != 1 || announced[0] != old.ID {
		t.Fatalf("Backfill = %d, %v (announced %v), want 1 tenant (%s)", n, err, announced, old.ID)
	}
	keysOf := func(role string) map[string]bool {
		links, err := db.RBACRolePolicy.Query().Where(rbacrolepolicy.RoleID(role)).Select(rbacrolepolicy.FieldPolicyID).Strings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := db.RBACPolicy.Query().Where(rbacpolicy.PolicyIDIn(links...)).Select(rbacpolicy.FieldKey).Strings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, k := range keys {
			out[k] = true
		}
		return out
	}
	admin, viewer := keysOf(RoleAdmin), keysOf(RoleViewer)
	for _, op := range Operations {
		if !admin["webhook:"+op] {
			t.Errorf("role_admin lacks webhook:%s after the backfill", op)
		}
		if viewer["webhook:"+op] != (op == "read") {
			t.Errorf("role_viewer webhook:%s = %v", op, viewer["webhook:"+op])
		}
	}
	if admin["user:delete"] {
		t.Error("the backfill gave back a link the tenant had removed")
	}
	if n, err := Backfill(context.Background(), db, nil); err != nil || n != 0 {
		t.Errorf("second Backfill = %d, %v, want 0", n, err)
	}
}
