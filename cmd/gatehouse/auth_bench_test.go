package main

import (
	"context"
	"testing"

	"github.com/gatehousehq/gatehouse/tenants"
)

// BenchmarkAuthenticate measures the authentication of a repeated
// credential through the production wiring (Build): token verification from
// the verified-token cache, the revocation state from the CachedStore, the
// key from the API-key cache. With Redis (GATEHOUSE_TEST_REDIS_URL) no round
// trip is made while the invalidation stream is fresh.
func BenchmarkAuthenticate(b *testing.B) {
	a := newBenchApp(b)
	ctx := tenants.NewContext(context.Background(), a.tn)
	b.Run("bearer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Auth.AuthenticateBearer(ctx, a.tn, a.tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("secret-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Auth.AuthenticateSecretKey(ctx, a.tn, a.sk); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("publishable-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Auth.AuthenticatePublishableKey(ctx, a.tn, a.pk); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("actor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Auth.FindUserByID(ctx, a.adminID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
