package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestAPIKeyRateLimits (checklist 34): a key may carry its own per-minute
// budget; past it the key gets 429 with Retry-After while other keys go on;
// the limit can be changed or removed, and bad values are refused.
func TestAPIKeyRateLimits(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "limits")
	_, tok := env.Admin(t, tn, "admin@limits.test", "correct-horse-9")

	body := wantStatus(t, "create limited secret key", env.Do(t, "POST", "/admin/api-keys",
		map[string]any{"title": "batch job", "type": "secret", "rate_limit": 3}, as(tn, tok)...), 200)
	k := obj(t, body, "api_key")
	id, raw := k["id"].(string), k["token"].(string)
	if k["rate_limit"] != float64(3) {
		t.Fatalf("created key = %v, want rate_limit 3", k)
	}
	_, free := mkKey(t, env, tn, tok, "unlimited", "secret")
	if k := getKey(t, env, tn, tok, id); k["rate_limit"] != float64(3) {
		t.Errorf("GET key = %v, want rate_limit 3", k)
	}

	for i := 0; i < 3; i++ {
		wantStatus(t, "within the budget", env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...), 200)
	}
	r := env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...)
	wantBody(t, "over the budget", r, http.StatusTooManyRequests, map[string]any{"type": "not_allowed", "message": "Too many requests"})
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	wantStatus(t, "another key", env.Do(t, "GET", "/admin/users", nil, basic(tn, free)...), 200)
	wantStatus(t, "the admin's own token", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 200)

	wantStatus(t, "rate_limit 0", env.Do(t, "POST", "/admin/api-keys/"+id, map[string]any{"rate_limit": 0}, as(tn, tok)...), http.StatusBadRequest)
	wantStatus(t, "rate_limit text", env.Do(t, "POST", "/admin/api-keys/"+id, map[string]any{"rate_limit": "many"}, as(tn, tok)...), http.StatusBadRequest)
	wantStatus(t, "create with a negative limit", env.Do(t, "POST", "/admin/api-keys",
		map[string]any{"title": "x", "type": "secret", "rate_limit": -1}, as(tn, tok)...), http.StatusBadRequest)
	k = obj(t, wantStatus(t, "remove the limit", env.Do(t, "POST", "/admin/api-keys/"+id, map[string]any{"rate_limit": nil}, as(tn, tok)...), 200), "api_key")
	if _, has := k["rate_limit"]; has || k["title"] != "batch job" {
		t.Errorf("after removing the limit: %v", k)
	}
	wantStatus(t, "no limit any more", env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...), 200)

	t.Run("publishable", func(t *testing.T) {
		body := wantStatus(t, "create limited publishable key", env.Do(t, "POST", "/admin/api-keys",
			map[string]any{"title": "storefront", "type": "publishable", "rate_limit": 2}, as(tn, tok)...), 200)
		pk := obj(t, body, "api_key")["token"].(string)
		h := []string{"x-tenant-id", tn.Slug, "x-publishable-api-key", pk}
		for i := 0; i < 2; i++ {
			wantStatus(t, "store call within the budget", env.Do(t, "GET", "/decisions/store/customers/me", nil, h...), 200)
		}
		wantStatus(t, "store call over the budget", env.Do(t, "GET", "/decisions/store/customers/me", nil, h...), http.StatusTooManyRequests)
	})
}
