package rbac

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casbin/casbin/v2/model"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/rbacassignment"
	"github.com/gatehousehq/gatehouse/internal/latency"
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
// roles, 20 policies and 100 users each: "cached" answers from the flat
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
			lat := new(latency.Recorder)
			b.ResetTimer()
			for i := range b.N {
				ctx := ctxs[i%n]
				if before != nil {
					before(i, ctx) // outside the timed call (b.StopTimer would stop the world)
				}
				start := time.Now()
				if _, err := a.Allowed(ctx, subs[(i/n)%100], "r2", "update"); err != nil {
					b.Fatal(err)
				}
				lat.Record(time.Since(start))
			}
			b.StopTimer()
			lat.ReportMedian(b)
		}
		b.Run(fmt.Sprintf("tenants=%d/cached", n), func(b *testing.B) { run(b, nil) })
		b.Run(fmt.Sprintf("tenants=%d/cold", n), func(b *testing.B) {
			run(b, func(_ int, ctx context.Context) {
				// Drop the tenant's cached decisions, keep its enforcer.
				id, _ := tenants.IDFromContext(ctx)
				a.cache.forget(a.cache.slot(id))
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

// staleBus is a Bus whose messages may be missed (Fresh reports fresh).
type staleBus struct{ fresh atomic.Bool }

func (*staleBus) Publish(context.Context, string, string) error { return nil }
func (*staleBus) Subscribe(context.Context, string, func(string)) (func(), error) {
	return func() {}, nil
}
func (b *staleBus) Fresh() bool { return b.fresh.Load() }

// TestDecisionCacheInvalidation: a cached allow turns into a deny right after
// Changed, after a change message from another node and after "*", and
// tenant B's cached decisions survive tenant A's change.
func TestDecisionCacheInvalidation(t *testing.T) {
	db := dbtest.Open(t).Client
	seedTenant(t, db, "ten_a", 3)
	seedTenant(t, db, "ten_b", 3)
	bus := &staleBus{}
	bus.fresh.Store(true)
	a, err := NewAuthorizer(db, Options{Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	ctxA := tenants.WithTenant(context.Background(), "ten_a")
	ctxB := tenants.WithTenant(context.Background(), "ten_b")
	allowed := func(ctx context.Context, sub string) bool {
		t.Helper()
		ok, err := a.Allowed(ctx, sub, "r3", "delete")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	revoke := func(ctx context.Context, id string) {
		t.Helper()
		if _, err := db.RBACAssignment.Delete().Where(rbacassignment.SubjectID(id)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	regrant := func(ctx context.Context, id string) {
		t.Helper()
		if err := db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID(id).SetRoleID("role_admin").Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, how := range []struct {
		name   string
		notify func()
	}{
		{"Changed", func() { a.Changed(ctxA, "ten_a") }},
		{"bus message", func() { a.forget("ten_a") }},
		{"purge", func() { a.forget("*") }},
	} {
		decided, cached := allowed(ctxA, "user:u0"), allowed(ctxA, "user:u0") // the second from the cache
		if !decided || !cached || !allowed(ctxB, "user:u0") {
			t.Fatalf("%s: admin u0 denied before the change", how.name)
		}
		loads := a.Loads()
		revoke(ctxA, "u0")
		if !allowed(ctxA, "user:u0") {
			t.Fatalf("%s: the cached allow was dropped before any notification", how.name)
		}
		how.notify()
		if allowed(ctxA, "user:u0") {
			t.Errorf("%s: cached allow survived the change", how.name)
		}
		if !allowed(ctxB, "user:u0") {
			t.Errorf("%s: tenant B's admin denied", how.name)
		}
		if how.name != "purge" && a.Loads() != loads+1 {
			t.Errorf("%s: %d loads, want %d (tenant A only)", how.name, a.Loads(), loads+1)
		}
		regrant(ctxA, "u0")
		a.Changed(ctxA, "ten_a")
	}

	// While the bus is not fresh the cache is bypassed: a change made
	// elsewhere is seen without any message (within lagReuse, the age of
	// the enforcer loaded from the database), a change made here at once,
	// and nothing decided then is cached.
	if !allowed(ctxA, "user:u0") {
		t.Fatal("u0 denied")
	}
	bus.fresh.Store(false)
	revoke(ctxA, "u0")
	if allowed(ctxA, "user:u0") {
		t.Error("stale bus: answered from the cache")
	}
	regrant(ctxA, "u0")
	time.Sleep(lagReuse + 10*time.Millisecond)
	if !allowed(ctxA, "user:u0") {
		t.Error("stale bus: the regrant made elsewhere is not seen after lagReuse")
	}
	revoke(ctxA, "u0")
	a.Changed(ctxA, "ten_a")
	if allowed(ctxA, "user:u0") {
		t.Error("stale bus: a revocation made on this node is not seen at once")
	}
	regrant(ctxA, "u0")
	a.Changed(ctxA, "ten_a")
	if !allowed(ctxA, "user:u0") {
		t.Error("stale bus: the regrant made on this node is not seen at once")
	}
	revoke(ctxA, "u0")
	bus.fresh.Store(true)
	a.forget("*") // what the CachedStore sends when the heartbeats return
	if allowed(ctxA, "user:u0") {
		t.Error("after the bus recovered: a decision made while stale was cached")
	}
}

// TestDecisionCacheBounded: many more decisions than the cache holds stay
// within its fixed size and are still answered right.
func TestDecisionCacheBounded(t *testing.T) {
	db := dbtest.Open(t).Client
	seedTenant(t, db, "ten_a", 30)
	a, err := NewAuthorizer(db, Options{CachedDecisions: 16})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.cache.capacity(); got < 16 || got > 32 {
		t.Fatalf("capacity %d for 16 decisions", got)
	}
	ctx := tenants.WithTenant(context.Background(), "ten_a")
	for round := range 3 {
		for u := range 30 {
			for r := range 5 {
				for _, op := range Operations {
					got, err := a.Allowed(ctx, fmt.Sprintf("user:u%d", u), fmt.Sprintf("r%d", r), op)
					want := u%3 == 0 || (u%3 == 1 && (op == "read" || op == "update")) || (u%3 == 2 && op == "read")
					if err != nil || got != want {
						t.Fatalf("round %d: Allowed(u%d, r%d, %s) = %v, %v, want %v", round, u, r, op, got, err, want)
					}
				}
			}
		}
		if n := a.cache.len(); n > a.cache.capacity() || n == 0 {
			t.Errorf("round %d: %d cached decisions, capacity %d", round, n, a.cache.capacity())
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = a.Allowed(ctx, "user:u29", "r4", "read") }); n != 0 {
		t.Errorf("a cached decision allocates %v times", n)
	}
}

// TestDecisionCacheConcurrent: readers racing writers on one bucket, where
// every put evicts another key, never see a decision stored under another
// key (run with -race too): an entry is one word, tag and flags together, so
// a reader sees all of one entry or none of it.
func TestDecisionCacheConcurrent(t *testing.T) {
	c := newDecisionCache(bucketWays) // one bucket: writers evict each other
	gen := c.gen(0)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 200000 {
				h := rng.Uint64() % 64 * 0x9e3779b97f4a7c15
				want := h >> 61 & valFlags // the flags this key always stores
				if rng.IntN(2) == 0 {
					c.put(h, gen, want)
				} else if d, ok := c.get(h, gen); ok && d != want {
					t.Errorf("key %x: got flags %b, want %b", h, d, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestChannelCondition: a secret key linked to sales channels is limited to
// them inside the Casbin decision (g2 lines the adapter loads); a disabled
// channel admits nothing yet still limits the key; an unlimited key and a
// user act in any channel; nothing crosses tenants.
func TestChannelCondition(t *testing.T) {
	db := dbtest.Open(t).Client
	seedTenant(t, db, "ten_a", 3)
	seedTenant(t, db, "ten_b", 3)
	ctxA := tenants.WithTenant(context.Background(), "ten_a")
	ctxB := tenants.WithTenant(context.Background(), "ten_b")
	chs := map[string]*ent.SalesChannel{}
	for _, name := range []string{"mine", "other", "off"} {
		sc, err := db.SalesChannel.Create().SetName(name).SetIsDisabled(name == "off").Save(ctxA)
		if err != nil {
			t.Fatal(err)
		}
		chs[name] = sc
	}
	key := func(ctx context.Context, title string, channels ...*ent.SalesChannel) string {
		t.Helper()
		k, err := db.APIKey.Create().SetTitle(title).SetType("secret").SetDigest("d-" + title).SetRedacted("sk_…").
			AddSalesChannels(channels...).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RBACAssignment.Create().SetSubjectType("apikey").SetSubjectID(k.ID).SetRoleID("role_editor").Save(ctx); err != nil {
			t.Fatal(err)
		}
		return KeySubject(k.ID)
	}
	partner := key(ctxA, "partner", chs["mine"], chs["off"])
	backend := key(ctxA, "backend")
	a, err := NewAuthorizer(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	read := []Permission{{"r1", "read"}}
	tests := []struct {
		name     string
		ctx      context.Context
		subject  string
		need     []Permission
		channels []string
		missing  int
		denied   string // the channel a *ChannelDenied names
		noRoles  bool
	}{
		{"partner, no channel named", ctxA, partner, read, nil, 0, "", false},
		{"partner, own channel", ctxA, partner, read, []string{chs["mine"].ID}, 0, "", false},
		{"partner, other channel", ctxA, partner, read, []string{chs["other"].ID}, 0, chs["other"].ID, false},
		{"partner, own then other", ctxA, partner, read, []string{chs["mine"].ID, chs["other"].ID}, 0, chs["other"].ID, false},
		{"partner, disabled channel", ctxA, partner, read, []string{chs["off"].ID}, 0, chs["off"].ID, false},
		{"partner, lacks the policy in its own channel", ctxA, partner, []Permission{{"r1", "delete"}}, []string{chs["mine"].ID}, 1, "", false},
		{"partner, no policy needed, other channel", ctxA, partner, nil, []string{chs["other"].ID}, 0, chs["other"].ID, false},
		{"partner, no policy needed, own channel", ctxA, partner, nil, []string{chs["mine"].ID}, 0, "", false},
		{"unlimited key, any channel", ctxA, backend, read, []string{chs["other"].ID}, 0, "", false},
		{"user, any channel", ctxA, UserSubject("u1"), read, []string{chs["other"].ID}, 0, "", false},
		{"partner of tenant A in tenant B", ctxB, partner, read, []string{chs["mine"].ID}, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for pass := range 2 { // the second answer comes from the decision cache
				missing, err := a.Check(tt.ctx, tt.subject, tt.need, tt.channels...)
				var denied *ChannelDenied
				switch {
				case tt.noRoles:
					if !errors.Is(err, ErrNoRoles) {
						t.Fatalf("pass %d: Check = %v, %v, want ErrNoRoles", pass, missing, err)
					}
				case tt.denied != "":
					if !errors.As(err, &denied) || denied.Channel != tt.denied {
						t.Fatalf("pass %d: Check = %v, %v, want ChannelDenied{%s}", pass, missing, err, tt.denied)
					}
				default:
					if err != nil || len(missing) != tt.missing {
						t.Fatalf("pass %d: Check = %v, %v, want %d missing", pass, missing, err, tt.missing)
					}
				}
			}
		})
	}

	// Relinking is seen once the tenant's change is announced.
	k, err := db.APIKey.Query().All(ctxA)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range k {
		if KeySubject(x.ID) == partner {
			if err := db.APIKey.UpdateOne(x).AddSalesChannels(chs["other"]).Exec(ctxA); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.Changed(ctxA, "ten_a")
	if _, err := a.Check(ctxA, partner, read, chs["other"].ID); err != nil {
		t.Errorf("after linking the other channel: Check = %v, want allowed", err)
	}
}

// TestCheckCachedVerdicts: Check answers an allowed policy, a refused one
// (the subject holds other roles) and a role-less subject the same from the
// cache as from Casbin, and every change reaches it: a role granted turns the
// refusal into an allow, all roles removed turns it into ErrNoRoles (never a
// cached "missing"), a subject made afterwards is found without a message.
func TestCheckCachedVerdicts(t *testing.T) {
	db := dbtest.Open(t).Client
	seedTenant(t, db, "ten_a", 3) // u0 admin, u1 editor, u2 viewer
	a, err := NewAuthorizer(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenants.WithTenant(context.Background(), "ten_a")
	del := []Permission{{"r1", "delete"}}
	check := func(sub string) ([]Permission, error) {
		t.Helper()
		m1, err1 := a.Check(ctx, sub, del)
		m2, err2 := a.Check(ctx, sub, del) // from the cache
		if !slices.Equal(m1, m2) || !errors.Is(err2, err1) && err1 != err2 {
			t.Fatalf("%s: Check = %v, %v then %v, %v from the cache", sub, m1, err1, m2, err2)
		}
		return m2, err2
	}
	if m, err := check("user:u0"); err != nil || len(m) != 0 {
		t.Fatalf("admin: %v, %v, want allowed", m, err)
	}
	if m, err := check("user:u2"); err != nil || !slices.Equal(m, del) {
		t.Fatalf("viewer: %v, %v, want missing %v", m, err, del)
	}
	// Each verdict is one entry, the refusal marked as that of a subject
	// holding roles (no second lookup names what is missing).
	gen := a.cache.gen(a.cache.slot("ten_a"))
	for sub, want := range map[string]uint64{"user:u0": valAllow | valRoles, "user:u2": valRoles} {
		if v, ok := a.cache.get(a.cache.key("ten_a", sub, "r1", "delete", ""), gen); !ok || v != want {
			t.Errorf("%s: cached flags %b (%v), want %b", sub, v, ok, want)
		}
	}
	if _, err := check("user:nobody"); !errors.Is(err, ErrNoRoles) {
		t.Fatalf("role-less: %v, want ErrNoRoles", err)
	}

	// The viewer becomes an admin.
	if err := db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID("u2").SetRoleID("role_admin").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	a.Changed(ctx, "ten_a")
	if m, err := check("user:u2"); err != nil || len(m) != 0 {
		t.Errorf("viewer made admin: %v, %v, want allowed", m, err)
	}
	// Every role of the editor is removed.
	if _, err := db.RBACAssignment.Delete().Where(rbacassignment.SubjectID("u1")).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if m, err := check("user:u1"); err != nil || !slices.Equal(m, del) {
		t.Fatalf("editor before the change message: %v, %v, want the cached refusal", m, err)
	}
	a.Changed(ctx, "ten_a")
	if _, err := check("user:u1"); !errors.Is(err, ErrNoRoles) {
		t.Errorf("editor without roles: %v, want ErrNoRoles", err)
	}
	// A subject given roles on another node (no message yet) is confirmed
	// against the database, not refused from the cache.
	if err := db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID("nobody").SetRoleID("role_admin").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if m, err := check("user:nobody"); err != nil || len(m) != 0 {
		t.Errorf("subject granted elsewhere: %v, %v, want allowed", m, err)
	}
}
