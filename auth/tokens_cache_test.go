package auth

import (
	"context"
	"hash/maphash"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehousehq/gatehouse/ent"
)

// TestVerifiedCacheNeedsTheSignature: an entry of the verified-token cache
// answers only the token whose signature it recorded. An entry under the
// same hash with another signature (what a 64-bit collision would look like)
// is dropped and the token verified, here refused as malformed.
func TestVerifiedCacheNeedsTheSignature(t *testing.T) {
	tk := NewTokens(nil, "http://gatehouse.test", 0)
	tn := &ent.Tenant{ID: "ten_a"}
	raw := "x.y.zzzz"
	claims := &Claims{TenantID: "ten_a"}
	claims.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))

	tk.cache.Add(maphash.String(tk.seed, raw), verified{claims: claims, sig: "zzzz"})
	if got, err := tk.VerifyAccess(context.Background(), tn, raw); err != nil || got != claims {
		t.Fatalf("matching signature: %v, %v; want the cached claims", got, err)
	}
	tk.cache.Add(maphash.String(tk.seed, raw), verified{claims: claims, sig: "zzzy"})
	if got, err := tk.VerifyAccess(context.Background(), tn, raw); err == nil || got != nil {
		t.Fatalf("other signature under the same hash: %v, %v; want the token verified (and refused)", got, err)
	}
	if tk.cache.Contains(maphash.String(tk.seed, raw)) {
		t.Error("the mismatched entry is still cached")
	}
	// Another tenant's token is never answered from the cache either.
	tk.cache.Add(maphash.String(tk.seed, raw), verified{claims: claims, sig: "zzzz"})
	if got, err := tk.VerifyAccess(context.Background(), &ent.Tenant{ID: "ten_b"}, raw); err == nil || got != nil {
		t.Fatalf("tenant B: %v, %v; want refused", got, err)
	}
}
