package rbac

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/internal/benchscale"
	"github.com/gatehousehq/gatehouse/internal/latency"
	"github.com/gatehousehq/gatehouse/tenants"
)

// decisionFixture is one Authorizer over n seeded tenants (3 roles, 20
// policies and 100 users each) with every enforcer loaded and the decisions of
// 10 subjects per tenant cached.
type decisionFixture struct {
	a    *Authorizer
	ids  []string
	subs []string
	need []Permission
}

func newDecisionFixture(b *testing.B, n int) *decisionFixture {
	b.Helper()
	f := &decisionFixture{need: []Permission{{Resource: "r2", Operation: "update"}}}
	db := dbtest.Open(b).Client
	f.ids = make([]string, n)
	for i := range f.ids {
		f.ids[i] = fmt.Sprintf("ten_%05d", i)
		seedTenant(b, db, f.ids[i], 100)
	}
	var err error
	if f.a, err = NewAuthorizer(db, Options{Tenants: n}); err != nil {
		b.Fatal(err)
	}
	f.subs = make([]string, 10)
	for u := range f.subs {
		f.subs[u] = fmt.Sprintf("user:u%d", u)
	}
	for _, id := range f.ids {
		ctx := tenants.WithTenant(context.Background(), id)
		for _, s := range f.subs {
			if _, err := f.a.Check(ctx, s, f.need); err != nil {
				b.Fatal(err)
			}
		}
	}
	return f
}

// call times one Check for a random tenant and subject. The request context
// is made just before it, with the tenant id and subject already read, as in a
// request (authentication has compared the token's tenant with the resolved
// one and built the subject): what is timed is the decision, not the benchmark
// fetching its fixtures from memory. before, when set, runs untimed on that
// context first (but not under b.StopTimer, which reads the memory statistics,
// stopping the world, before every call).
func (f *decisionFixture) call(b *testing.B, rng *rand.Rand, before func(ctx context.Context)) time.Duration {
	id := f.ids[rng.IntN(len(f.ids))]
	sub := "user:" + f.subs[rng.IntN(len(f.subs))][len("user:"):]
	if id[len(id)-1] == 0 || sub[len(sub)-1] == 0 {
		b.Fatal("unreachable: reads the tenant id and subject before the timer")
	}
	ctx := tenants.WithTenant(context.Background(), id)
	if before != nil {
		before(ctx)
	}
	start := time.Now()
	missing, err := f.a.Check(ctx, sub, f.need)
	d := time.Since(start)
	if err != nil || (sub[len(sub)-1]-'0')%3 != 2 && len(missing) > 0 {
		// u0, u3, … are admins and u1, u4, … editors (they hold r2:update).
		b.Fatalf("Check(%s, %s) = %v, %v", id, sub, missing, err)
	}
	return d
}

// forgetTenant drops the cached decisions of the context's tenant and keeps its
// enforcer: the next Check is decided by Casbin ("cold").
func (f *decisionFixture) forgetTenant(ctx context.Context) {
	id, _ := tenants.IDFromContext(ctx)
	f.a.cache.forget(f.a.cache.slot(id))
}

// BenchmarkDecision measures one RBAC decision as the authorize middleware
// asks for it (Authorizer.Check of one policy) at 10, 1,000 and 10,000
// tenants (GATEHOUSE_BENCH_TENANTS overrides the list, e.g. "10,1000"), each
// call for a random tenant and subject (see decisionFixture.call): "cached"
// answers from the flat decision cache, "cold" misses it (Casbin evaluates on
// the loaded enforcer). Each reports its median as p50-ns, the figure the
// targets are about (cached ≤ 2 µs, cold ≤ 50 µs). BenchmarkDecisionScale
// compares tenant counts; BenchmarkDecisionCache times the cache alone.
func BenchmarkDecision(b *testing.B) {
	for _, n := range benchscale.TenantCounts(b) {
		f := newDecisionFixture(b, n)
		run := func(b *testing.B, before func(ctx context.Context)) {
			rng := rand.New(rand.NewPCG(1, 2))
			lat := new(latency.Recorder)
			evals := f.a.Evaluations()
			b.ResetTimer()
			for range b.N {
				lat.Record(f.call(b, rng, before))
			}
			b.StopTimer()
			lat.ReportMedian(b)
			// Calls Casbin evaluated: all of them when cold; when cached, the
			// decisions the cache lost to a full bucket.
			b.ReportMetric(float64(f.a.Evaluations()-evals)/float64(b.N), "evals/op")
		}
		b.Run(fmt.Sprintf("tenants=%d/cached", n), func(b *testing.B) { run(b, nil) })
		b.Run(fmt.Sprintf("tenants=%d/cold", n), func(b *testing.B) { run(b, f.forgetTenant) })
		if got := f.a.Loads(); got != int64(n) {
			b.Errorf("%d tenants: %d enforcer loads, want %d (one each: none evicted)", n, got, n)
		}
	}
}

// scaleSlice is how many calls BenchmarkDecisionScale makes on one fixture
// before it switches to the other: long enough that a switch costs little
// (the small fixture's few cache lines come back at once), short enough that
// both see the machine in the same state.
const scaleSlice = 2048

// BenchmarkDecisionScale measures how the decision latency grows with the
// number of tenants: the smallest and the largest count of
// GATEHOUSE_BENCH_TENANTS (10 and 10,000 by default) are built side by side
// and timed in alternating slices of scaleSlice calls, so that both medians
// come from the same seconds. BenchmarkDecision times one count after the
// other, a minute or more apart, and on a machine shared with other guests
// the speed of memory changes in between. Reported: each median
// (p50-ns-N) and large/small, the ratio the target is about (within 1.5×),
// for cached and cold decisions.
func BenchmarkDecisionScale(b *testing.B) {
	counts := benchscale.TenantCounts(b)
	lo, hi := counts[0], counts[0]
	for _, n := range counts {
		lo, hi = min(lo, n), max(hi, n)
	}
	if lo == hi {
		b.Skipf("GATEHOUSE_BENCH_TENANTS=%v: nothing to compare (two different tenant counts are needed)", counts)
	}
	fs := [2]*decisionFixture{newDecisionFixture(b, lo), newDecisionFixture(b, hi)}
	run := func(b *testing.B, cold bool) {
		var lat [2]latency.Recorder
		rngs := [2]*rand.Rand{rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))}
		b.ResetTimer()
		for i := range b.N {
			k := i / scaleSlice % 2
			var before func(context.Context)
			if cold {
				before = fs[k].forgetTenant
			}
			lat[k].Record(fs[k].call(b, rngs[k], before))
		}
		b.StopTimer()
		if lat[1].Count() == 0 {
			return // b.N too small to reach the second fixture (the first, probing run)
		}
		small, large := lat[0].Quantile(0.5), lat[1].Quantile(0.5)
		b.ReportMetric(float64(small.Nanoseconds()), fmt.Sprintf("p50-ns-%d", lo))
		b.ReportMetric(float64(large.Nanoseconds()), fmt.Sprintf("p50-ns-%d", hi))
		b.ReportMetric(float64(large)/float64(small), "ratio")
	}
	name := fmt.Sprintf("tenants=%d-vs-%d", lo, hi)
	b.Run(name+"/cached", func(b *testing.B) { run(b, false) })
	b.Run(name+"/cold", func(b *testing.B) { run(b, true) })
}

// BenchmarkDecisionCache measures the flat cache alone (hash and lookup, no
// context or database) with the keys of 10 and 10,000 tenants × 10 subjects,
// looked up in random order: how much of BenchmarkDecision's cached figure is
// the cache itself.
func BenchmarkDecisionCache(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			c := newDecisionCache(1 << 18)
			type k struct{ t, s string }
			keys := make([]k, 0, n*10)
			for i := range n {
				for u := range 10 {
					keys = append(keys, k{fmt.Sprintf("ten_%05d", i), fmt.Sprintf("user:u%d", u)})
					h := c.key(keys[len(keys)-1].t, keys[len(keys)-1].s, "r2", "update", "")
					c.put(h, c.gen(c.slot(keys[len(keys)-1].t)), valAllow)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			idx := make([]int, 1<<16)
			for i := range idx {
				idx[i] = rng.IntN(len(keys))
			}
			misses := 0
			b.ResetTimer()
			for i := range b.N {
				kk := &keys[idx[i&(len(idx)-1)]]
				h := c.key(kk.t, kk.s, "r2", "update", "")
				if _, ok := c.get(h, c.gen(c.slot(kk.t))); !ok {
					misses++ // a bucket overflowed (evicted when filled)
				}
			}
			b.ReportMetric(float64(misses)/float64(b.N), "miss/op")
		})
	}
}
