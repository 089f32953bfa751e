package auth_test

import (
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
)

// BenchmarkAuthenticateSecretKey measures secret-key verification in process:
// cold is the first sight of a key (one indexed query), cached every later
// request (an HMAC and a map lookup).
func BenchmarkAuthenticateSecretKey(b *testing.B) {
	env := apitest.New(b)
	tn := env.Tenant(b, "bench")
	ctx := env.Ctx(tn)
	b.Run("cached", func(b *testing.B) {
		_, raw, err := env.Auth.CreateAPIKey(ctx, nil, auth.CreateAPIKeyInput{Title: "b", Type: auth.KeySecret})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := env.Auth.AuthenticateSecretKey(ctx, tn, raw); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := env.Auth.AuthenticateSecretKey(ctx, tn, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		raws := make([]string, 0, 2000)
		for range 2000 {
			_, raw, err := env.Auth.CreateAPIKey(ctx, nil, auth.CreateAPIKeyInput{Title: "b", Type: auth.KeySecret})
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, raw)
		}
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if i == len(raws) {
				b.StopTimer()
				env.Auth.ChannelsChanged(ctx) // drops the key cache
				i = 0
				b.StartTimer()
			}
			if _, err := env.Auth.AuthenticateSecretKey(ctx, tn, raws[i]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
