package tenants_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/tenants"
)

// BenchmarkResolve measures tenant resolution among 1,000 tenants: by the
// x-tenant-id header (slug or id) and by a verified domain, from the cache,
// and "cold" (the cache dropped before each call: one or two indexed
// queries).
func BenchmarkResolve(b *testing.B) {
	db := dbtest.Open(b)
	bus := &fakeBus{}
	bus.fresh.Store(true)
	r := tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: "gatehouse.test", Bus: bus})
	ctx := context.Background()
	var last string
	for i := range 1000 {
		slug := fmt.Sprintf("t%04d", i)
		tn, err := r.Create(ctx, tenants.CreateInput{Slug: slug, Name: slug, Domains: []string{slug + ".shop.test"}})
		if err != nil {
			b.Fatal(err)
		}
		last = tn.ID
	}
	reqs := []struct {
		name string
		req  tenants.Request
	}{
		{"slug", tenants.Request{Host: "127.0.0.1:9000", HeaderID: "t0999"}},
		{"id", tenants.Request{Host: "127.0.0.1:9000", HeaderID: last}},
		{"domain", tenants.Request{Host: "t0999.shop.test"}},
		{"subdomain", tenants.Request{Host: "t0999.gatehouse.test"}},
	}
	for _, rq := range reqs {
		b.Run(rq.name+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(ctx, rq.req); err != nil {
					b.Fatal(err)
				}
			}
		})
		// A stale bus makes every call read the database.
		b.Run(rq.name+"/cold", func(b *testing.B) {
			bus.fresh.Store(false)
			defer bus.fresh.Store(true)
			for b.Loop() {
				if _, err := r.Resolve(ctx, rq.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
