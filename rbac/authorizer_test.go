package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/casbin/casbin/v2/model"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// seedTenant gives tenant id roles over generated policies: "admin" holds the
// 20 policies (5 resources × 4 operations), "editor" read and update,
// "viewer" read; users are assigned round-robin.
func seedTenant(tb testing.TB, db *ent.Client, id string, users int) {
	tb.Helper()
	ctx := tenants.WithTenant(context.Background(), id)
	var pols []*ent.RBACPolicyCreate
	var links []*ent.RBACRolePolicyCreate
	for r := range 5 {
		for _, op := range Operations {
			pid := fmt.Sprintf("rpol_r%d_%s", r, op)
			res := fmt.Sprintf("r%d", r)
			pols = append(pols, db.RBACPolicy.Create().SetPolicyID(pid).SetKey(res+":"+op).SetResource(res).SetOperation(op))
			links = append(links, db.RBACRolePolicy.Create().SetRoleID("role_admin").SetPolicyID(pid))
			if op == "read" || op == "update" {
				links = append(links, db.RBACRolePolicy.Create().SetRoleID("role_editor").SetPolicyID(pid))
			}
			if op == "read" {
				links = append(links, db.RBACRolePolicy.Create().SetRoleID("role_viewer").SetPolicyID(pid))
			}
		}
	}
	roles := []string{"role_admin", "role_editor", "role_viewer"}
	var rs []*ent.RBACRoleCreate
	for _, r := range roles {
		rs = append(rs, db.RBACRole.Create().SetRoleID(r).SetName(r))
	}
	var as []*ent.RBACAssignmentCreate
	for u := range users {
		as = append(as, db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID(fmt.Sprintf("u%d", u)).SetRoleID(roles[u%3]))
	}
	for _, err := range []error{
		db.RBACPolicy.CreateBulk(pols...).Exec(ctx),
		db.RBACRole.CreateBulk(rs...).Exec(ctx),
		db.RBACRolePolicy.CreateBulk(links...).Exec(ctx),
		db.RBACAssignment.CreateBulk(as...).Exec(ctx),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func TestAllowed(t *testing.T) {
	db := dbtest.Open(t).Client
	seedTenant(t, db, "ten_a", 6)
	seedTenant(t, db, "ten_b", 6)
	a, err := NewAuthorizer(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctxA := tenants.WithTenant(context.Background(), "ten_a")
	ctxB := tenants.WithTenant(context.Background(), "ten_b")
	// Wildcards and a parent: "ops" holds r0:* and inherits role_viewer;
	// "root" holds *:*.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.RBACPolicy.Create().SetPolicyID("rpol_r0_any").SetKey("r0:*").SetResource("r0").SetOperation("*").Exec(ctxA))
	must(db.RBACPolicy.Create().SetPolicyID("rpol_any").SetKey("*:*").SetResource("*").SetOperation("*").Exec(ctxA))
	must(db.RBACRole.Create().SetRoleID("role_ops").SetName("ops").SetParentID("role_viewer").Exec(ctxA))
	must(db.RBACRole.Create().SetRoleID("role_root").SetName("root").Exec(ctxA))
	must(db.RBACRolePolicy.Create().SetRoleID("role_ops").SetPolicyID("rpol_r0_any").Exec(ctxA))
	must(db.RBACRolePolicy.Create().SetRoleID("role_root").SetPolicyID("rpol_any").Exec(ctxA))
	must(db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID("ops").SetRoleID("role_ops").Exec(ctxA))
	must(db.RBACAssignment.Create().SetSubjectType("apikey").SetSubjectID("root").SetRoleID("role_root").Exec(ctxA))

	cases := []struct {
		ctx           context.Context
		sub, res, act string
		want          bool
	}{
		{ctxA, "user:u0", "r3", "delete", true},  // admin
		{ctxA, "user:u1", "r3", "update", true},  // editor
		{ctxA, "user:u1", "r3", "delete", false}, // editor
		{ctxA, "user:u2", "r3", "read", true},    // viewer
		{ctxA, "user:u2", "r3", "create", false}, // viewer
		{ctxA, "user:ops", "r0", "delete", true}, // r0:*
		{ctxA, "user:ops", "r1", "read", true},   // inherited from role_viewer
		{ctxA, "user:ops", "r1", "update", false},
		{ctxA, "apikey:root", "anything", "at_all", true}, // *:*
		{ctxA, "user:root", "r0", "read", false},          // a user is not the key of the same id
		{ctxA, "user:nobody", "r0", "read", false},
		{ctxB, "user:ops", "r0", "read", false},    // tenant A's assignment
		{ctxB, "apikey:root", "r0", "read", false}, // tenant A's super key
		{ctxB, "user:u0", "r3", "delete", true},    // tenant B's own admin
		{ctxA, "user:u0", "*", "*", false},         // holding everything listed is not *:*
		{ctxA, "apikey:root", "*", "*", true},
	}
	for _, c := range cases {
		for range 2 { // the second answer comes from the decision cache
			got, err := a.Allowed(c.ctx, c.sub, c.res, c.act)
			if err != nil || got != c.want {
				tid, _ := tenants.IDFromContext(c.ctx)
				t.Errorf("Allowed(%s, %s, %s, %s) = %v, %v, want %v", tid, c.sub, c.res, c.act, got, err, c.want)
			}
		}
	}
	if _, err := a.Allowed(context.Background(), "user:u0", "r0", "read"); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Allowed without a tenant = %v, want ErrNoTenant", err)
	}
	if rs, _ := a.Roles(ctxA, "user:ops"); !slices.Equal(rs, []string{"role_ops"}) {
		t.Errorf("Roles(ops) = %v, want [role_ops]", rs)
	}
	if _, err := a.Check(ctxA, "user:nobody", []Permission{{"r0", "read"}}); !errors.Is(err, ErrNoRoles) {
		t.Errorf("Check(nobody) = %v, want ErrNoRoles", err)
	}
	missing, err := a.Check(ctxA, "user:u2", []Permission{{"r0", "read"}, {"r0", "update"}, {"r1", "delete"}})
	if err != nil || len(missing) != 2 || missing[0].String() != "r0:update" {
		t.Errorf("Check(viewer) = %v, %v, want [r0:update r1:delete]", missing, err)
	}

	// A change is seen after Changed, not before (the enforcer is cached).
	loads := a.Loads()
	must(db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID("late").SetRoleID("role_admin").Exec(ctxA))
	if ok, _ := a.Allowed(ctxA, "user:late", "r0", "read"); ok {
		t.Log("decision reflected a change before Changed: the enforcer was reloaded")
	}
	a.Changed(ctxA, "ten_a")
	if ok, _ := a.Allowed(ctxA, "user:late", "r0", "read"); !ok {
		t.Errorf("Allowed(late) after Changed = false, want true")
	}
	if a.Loads() != loads+1 {
		t.Errorf("loads = %d, want %d: Changed must reload only tenant A", a.Loads(), loads+1)
	}
	if ok, _ := a.Allowed(ctxB, "user:u0", "r3", "delete"); !ok || a.Loads() != loads+1 {
		t.Errorf("tenant B was reloaded by tenant A's change")
	}
	// A role-less answer is confirmed against the database (a subject made
	// on another node).
	must(db.RBACAssignment.Create().SetSubjectType("apikey").SetSubjectID("new").SetRoleID("role_viewer").Exec(ctxA))
	if missing, err := a.Check(ctxA, "apikey:new", []Permission{{"r0", "read"}}); err != nil || len(missing) != 0 {
		t.Errorf("Check(new key) = %v, %v, want allowed", missing, err)
	}
}

func TestAdapterRefusesUnfiltered(t *testing.T) {
	db := dbtest.Open(t).Client
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		t.Fatal(err)
	}
	ad := NewAdapter(context.Background(), db)
	if err := ad.LoadPolicy(m); !errors.Is(err, errUnfiltered) {
		t.Errorf("LoadPolicy = %v, want errUnfiltered", err)
	}
	if err := ad.AddPolicy("p", "p", []string{"a"}); !errors.Is(err, errReadOnly) {
		t.Errorf("AddPolicy = %v, want errReadOnly", err)
	}
}

// BenchmarkAllowed measures one decision with 10 and 1,000 tenants of 3
// roles, 20 policies and 100 users each: "cached" answers from the tenant's
// decision cache, "cold" misses it (Casbin evaluates on a loaded enforcer),
// "load" also reloads the tenant's enforcer from the database. Each reports
// its median as p50-ns.
func BenchmarkAllowed(b *testing.B) {
	for _, n := range []int{10, 1000} {
		db := dbtest.Open(b).Client
		for i := range n {
			seedTenant(b, db, fmt.Sprintf("ten_%05d", i), 100)
		}
		a, err := NewAuthorizer(db, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctxs := make([]context.Context, n)
		for i := range ctxs {
			ctxs[i] = tenants.WithTenant(context.Background(), fmt.Sprintf("ten_%05d", i))
			for u := range 100 { // warm every enforcer and decision
				if _, err := a.Allowed(ctxs[i], fmt.Sprintf("user:u%d", u), "r2", "update"); err != nil {
					b.Fatal(err)
				}
			}
		}
		subs := make([]string, 100)
		for u := range subs {
			subs[u] = fmt.Sprintf("user:u%d", u)
		}
		run := func(b *testing.B, before func(i int, ctx context.Context)) {
			samples := make([]time.Duration, 0, min(b.N, 1<<20))
			b.ResetTimer()
			for i := range b.N {
				ctx := ctxs[i%n]
				if before != nil {
					b.StopTimer()
					before(i, ctx)
					b.StartTimer()
				}
				start := time.Now()
				if _, err := a.Allowed(ctx, subs[(i/n)%100], "r2", "update"); err != nil {
					b.Fatal(err)
				}
				if len(samples) < cap(samples) {
					samples = append(samples, time.Since(start))
				}
			}
			b.StopTimer()
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			if len(samples) > 0 {
				b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
			}
		}
		b.Run(fmt.Sprintf("tenants=%d/cached", n), func(b *testing.B) { run(b, nil) })
		b.Run(fmt.Sprintf("tenants=%d/cold", n), func(b *testing.B) {
			run(b, func(_ int, ctx context.Context) {
				te, _, err := a.enforcer(ctx)
				if err != nil {
					b.Fatal(err)
				}
				te.cmu.Lock()
				clear(te.decisions)
				te.cmu.Unlock()
			})
		})
		b.Run(fmt.Sprintf("tenants=%d/load", n), func(b *testing.B) {
			run(b, func(_ int, ctx context.Context) {
				id, _ := tenants.IDFromContext(ctx)
				a.forget(id)
			})
		})
	}
}
