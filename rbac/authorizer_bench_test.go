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

// BenchmarkDecision measures one RBAC decision as the authorize middleware
// asks for it (Authorizer.Check of one policy) at 10, 1,000 and 10,000
// tenants (3 roles, 20 policies and 100 users each; GATEHOUSE_BENCH_TENANTS
// overrides the list, e.g. "10,1000"), each call for a random tenant and
// subject: "cached" answers from the flat decision cache (every enforcer
// loaded, 10 subjects per tenant decided), "cold" misses it (Casbin evaluates
// on the loaded enforcer). Each reports its median as p50-ns, the figure the
// targets are about (cached ≤ 2 µs, cold ≤ 50 µs, the 10,000 tenant figure
// within 1.5× of the 10 tenant one).
//
// Each call gets a request context made just before it, with the tenant id
// and subject already read, as in a request (authentication has compared the
// token's tenant with the resolved one and built the subject): what is timed
// is the decision, not the benchmark fetching its fixtures from memory.
// BenchmarkDecisionCache times the cache with cold keys as well.
func BenchmarkDecision(b *testing.B) {
	counts := benchscale.TenantCounts(b)
	const subjects = 10
	need := []Permission{{Resource: "r2", Operation: "update"}}
	for _, n := range counts {
		db := dbtest.Open(b).Client
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("ten_%05d", i)
			seedTenant(b, db, ids[i], 100)
		}
		a, err := NewAuthorizer(db, Options{Tenants: n})
		if err != nil {
			b.Fatal(err)
		}
		subs := make([]string, subjects)
		for u := range subs {
			subs[u] = fmt.Sprintf("user:u%d", u)
		}
		for _, id := range ids {
			ctx := tenants.WithTenant(context.Background(), id)
			for _, s := range subs {
				if _, err := a.Check(ctx, s, need); err != nil {
					b.Fatal(err)
				}
			}
		}
		run := func(b *testing.B, before func(ctx context.Context)) {
			rng := rand.New(rand.NewPCG(1, 2))
			lat := new(latency.Recorder)
			var touched int
			evals := a.Evaluations()
			b.ResetTimer()
			for range b.N {
				id := ids[rng.IntN(n)]
				sub := "user:" + subs[rng.IntN(subjects)][len("user:"):]
				touched += int(id[len(id)-1]) + int(sub[len(sub)-1])
				ctx := tenants.WithTenant(context.Background(), id)
				if before != nil {
					// Outside the timed call, but not b.StopTimer: it reads
					// the memory statistics (stopping the world) before
					// every call, which is no part of a decision.
					before(ctx)
				}
				start := time.Now()
				missing, err := a.Check(ctx, sub, need)
				d := time.Since(start)
				if err != nil || (sub[len(sub)-1]-'0')%3 != 2 && len(missing) > 0 {
					// u0, u3, … are admins and u1, u4, … editors (they hold r2:update).
					b.Fatalf("Check(%s, %s) = %v, %v", id, sub, missing, err)
				}
				lat.Record(d)
			}
			b.StopTimer()
			lat.ReportMedian(b)
			// Calls Casbin evaluated: all of them when cold; when cached, the
			// decisions the cache lost to a full bucket.
			b.ReportMetric(float64(a.Evaluations()-evals)/float64(b.N), "evals/op")
			if touched == 0 {
				b.Log(touched)
			}
		}
		b.Run(fmt.Sprintf("tenants=%d/cached", n), func(b *testing.B) { run(b, nil) })
		b.Run(fmt.Sprintf("tenants=%d/cold", n), func(b *testing.B) {
			run(b, func(ctx context.Context) {
				// Drop the tenant's cached decisions, keep its enforcer.
				id, _ := tenants.IDFromContext(ctx)
				a.cache.forget(a.cache.slot(id))
			})
		})
		if got := a.Loads(); got != int64(n) {
			b.Errorf("%d tenants: %d enforcer loads, want %d (one each: none evicted)", n, got, n)
		}
	}
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
