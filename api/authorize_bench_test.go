package api

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/internal/benchscale"
	"github.com/gatehousehq/gatehouse/internal/latency"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

// BenchmarkAuthorizeStep measures the decision of an /admin request as the
// server makes it — checkPolicies: the auth.check span and metrics around
// the Authorizer's answer — at 10, 1,000 and 10,000 tenants (the built-in
// roles and their policies, 100 users each, assigned round-robin;
// GATEHOUSE_BENCH_TENANTS overrides the list). Each call asks for
// api_key:create (super admins and admins hold it, viewers are refused) for
// a random tenant and one of 10 users, with a request context made just
// before it, as the tenant and authenticate middleware make one, after every
// tenant was decided once. Reports the median of every call of the run as
// p50-ns. rbac's
// BenchmarkDecision times Authorizer.Check alone, cached and cold.
func BenchmarkAuthorizeStep(b *testing.B) {
	counts := benchscale.TenantCounts(b)
	tel, err := observability.New(context.Background(), observability.Config{}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	const users = 100
	const subjects = 10
	need := []rbac.Permission{{Resource: "api_key", Operation: "create"}}
	roles := []string{rbac.RoleSuperAdmin, rbac.RoleAdmin, rbac.RoleViewer}
	for _, n := range counts {
		db := dbtest.Open(b).Client
		tns := make([]*ent.Tenant, n)
		for i := range tns {
			tns[i] = &ent.Tenant{ID: fmt.Sprintf("ten_%05d", i)}
			ctx := tenants.WithTenant(context.Background(), tns[i].ID)
			if err := rbac.Seed(ctx, db); err != nil {
				b.Fatal(err)
			}
			as := make([]*ent.RBACAssignmentCreate, users)
			for u := range as {
				as[u] = db.RBACAssignment.Create().SetSubjectType("user").SetSubjectID(fmt.Sprintf("u%d", u)).SetRoleID(roles[u%3])
			}
			if err := db.RBACAssignment.CreateBulk(as...).Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		authz, err := rbac.NewAuthorizer(db, rbac.Options{Tenants: n})
		if err != nil {
			b.Fatal(err)
		}
		s := &Server{deps: Deps{Telemetry: tel, RBAC: rbac.NewService(db, authz)}}
		decide := func(tn *ent.Tenant, u int) (time.Duration, error) {
			ac := &auth.Context{TenantID: tn.ID, ActorType: auth.ActorUser, ActorID: "u" + strconv.Itoa(u)}
			ctx := tenants.NewContext(context.Background(), tn)
			start := time.Now()
			err := s.checkPolicies(ctx, ac, need, true, nil)
			return time.Since(start), err
		}
		for _, tn := range tns {
			for u := range subjects {
				if _, err := decide(tn, u); err != nil && u%3 != 2 {
					b.Fatalf("%s u%d: %v", tn.ID, u, err)
				}
			}
		}
		b.Run(fmt.Sprintf("tenants=%d/cached", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			lat := new(latency.Recorder)
			b.ResetTimer()
			for range b.N {
				tn, u := tns[rng.IntN(n)], rng.IntN(subjects)
				d, err := decide(tn, u)
				if (err == nil) != (u%3 != 2) {
					b.Fatalf("%s u%d: %v (viewers are refused, the others allowed)", tn.ID, u, err)
				}
				lat.Record(d)
			}
			b.StopTimer()
			lat.ReportMedian(b)
		})
	}
}
