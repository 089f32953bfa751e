package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

const secretAsBearerHint = "A secret API key was passed as a Bearer token. Secret API keys must be sent using HTTP Basic authentication instead (Authorization: Basic <secret-api-key>)."

// basic returns the headers of a request to tn authenticated with a secret key.
func basic(tn *ent.Tenant, cred string) []string {
	return []string{"x-tenant-id", tn.Slug, "Authorization", "Basic " + cred}
}

// mkKey creates an API key through the API and returns its id and raw token.
func mkKey(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, title, typ string) (string, string) {
	t.Helper()
	body := wantStatus(t, "POST /admin/api-keys "+title, env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": title, "type": typ}, as(tn, tok)...), 200)
	k := obj(t, body, "api_key")
	id, _ := k["id"].(string)
	raw, _ := k["token"].(string)
	if !strings.HasPrefix(id, "apk_") || raw == "" {
		t.Fatalf("POST /admin/api-keys = %v, want apk_… id and a token", k)
	}
	return id, raw
}

// mkChannel creates a sales channel through the API and returns its id.
func mkChannel(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, name string) string {
	t.Helper()
	body := wantStatus(t, "POST /admin/sales-channels "+name, env.Do(t, "POST", "/admin/sales-channels", map[string]any{"name": name}, as(tn, tok)...), 200)
	id, _ := obj(t, body, "sales_channel")["id"].(string)
	if !strings.HasPrefix(id, "sc_") {
		t.Fatalf("POST /admin/sales-channels = %v, want an sc_… id", body)
	}
	return id
}

func getKey(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, id string) map[string]any {
	t.Helper()
	return obj(t, wantStatus(t, "GET /admin/api-keys/"+id, env.Do(t, "GET", "/admin/api-keys/"+id, nil, as(tn, tok)...), 200), "api_key")
}

// channelIDs returns the ids of a key's sales_channels, which Medusa always
// sends (as [] when there are none) except in the create response.
func channelIDs(t *testing.T, k map[string]any) []string {
	t.Helper()
	if _, ok := k["sales_channels"].([]any); !ok {
		t.Errorf("api_key %v: sales_channels = %#v, want a list ([] when empty)", k["id"], k["sales_channels"])
		return nil
	}
	return ids(list(t, k, "sales_channels"))
}

func TestAPIKeys(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", "correct horse 1")

	// Behaviour 40.
	body := wantStatus(t, "create secret key", env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "Sample CI", "type": "secret"}, as(tn, tok)...), 200)
	created := obj(t, body, "api_key")
	skID, _ := created["id"].(string)
	sk, _ := created["token"].(string)
	if !strings.HasPrefix(sk, "sk_") || !auth.ValidKeyFormat(sk, "sk_") || created["created_by"] != uid || created["type"] != "secret" ||
		created["title"] != "Sample CI" || created["last_used_at"] != nil || created["revoked_at"] != nil || created["revoked_by"] != nil {
		t.Errorf("create secret key = %v, want sk_ token of 67 chars, created_by %s", created, uid)
	}
	if want := sk[:6] + "***" + sk[len(sk)-3:]; created["redacted"] != want {
		t.Errorf("create secret key: redacted = %v, want %s", created["redacted"], want)
	}
	pkID, pk := mkKey(t, env, tn, tok, "Storefront", "publishable")
	if !auth.ValidKeyFormat(pk, "pk_") {
		t.Errorf("publishable token %q, want pk_ + 64 hex", pk)
	}

	t.Run("validation", func(t *testing.T) {
		wantBody(t, "create with bad type", env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "x", "type": "magic"}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Expected: 'publishable, secret' for field 'type', but got: 'magic'"})
		wantBody(t, "create without title", env.Do(t, "POST", "/admin/api-keys", map[string]any{"type": "secret"}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Field 'title' is required"})
		wantBody(t, "update without title", env.Do(t, "POST", "/admin/api-keys/"+skID, map[string]any{}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Field 'title' is required"})
		wantBody(t, "GET unknown key", env.Do(t, "GET", "/admin/api-keys/apk_nope", nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "API Key with id: apk_nope was not found"})
	})

	t.Run("secret token shown once", func(t *testing.T) {
		// Behaviour 41.
		body := wantStatus(t, "GET /admin/api-keys", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, tok)...), 200)
		if body["limit"] != float64(20) || body["offset"] != float64(0) {
			t.Errorf("GET /admin/api-keys limit/offset = %v/%v, want 20/0", body["limit"], body["offset"])
		}
		seen := map[string]bool{}
		for _, k := range list(t, body, "api_keys") {
			seen[k["id"].(string)] = true
			switch k["id"] {
			case skID:
				if k["token"] != "" || k["redacted"] != created["redacted"] {
					t.Errorf("listed secret key = %v, want token \"\" and redacted %v", k, created["redacted"])
				}
			case pkID:
				if k["token"] != pk {
					t.Errorf("listed publishable key token = %v, want %s", k["token"], pk)
				}
			}
		}
		if !seen[skID] || !seen[pkID] {
			t.Errorf("GET /admin/api-keys ids = %v, want %s and %s", seen, skID, pkID)
		}
		k := getKey(t, env, tn, tok, skID)
		if k["token"] != "" {
			t.Errorf("GET secret key token = %v, want \"\"", k["token"])
		}
		if got := channelIDs(t, k); len(got) != 0 {
			t.Errorf("GET secret key sales_channels = %v, want []", got)
		}
		// Behaviour 52, and q matches titles.
		body = wantStatus(t, "GET /admin/api-keys?q=sample", env.Do(t, "GET", "/admin/api-keys?q=sample", nil, as(tn, tok)...), 200)
		if got := ids(list(t, body, "api_keys")); body["limit"] != float64(20) || body["offset"] != float64(0) || len(got) != 1 || got[0] != skID {
			t.Errorf("GET /admin/api-keys?q=sample = %v, want only %s, limit 20, offset 0", body, skID)
		}
		body = wantStatus(t, "GET /admin/api-keys?type=publishable", env.Do(t, "GET", "/admin/api-keys?type=publishable", nil, as(tn, tok)...), 200)
		if got := ids(list(t, body, "api_keys")); len(got) != 1 || got[0] != pkID {
			t.Errorf("GET /admin/api-keys?type=publishable ids = %v, want [%s]", got, pkID)
		}
	})

	t.Run("update title", func(t *testing.T) {
		body := wantStatus(t, "POST /admin/api-keys/:id", env.Do(t, "POST", "/admin/api-keys/"+skID, map[string]any{"title": "Sample CI 2"}, as(tn, tok)...), 200)
		if k := obj(t, body, "api_key"); k["title"] != "Sample CI 2" || k["token"] != "" {
			t.Errorf("update title = %v, want title Sample CI 2 and no token", k)
		}
		wantBody(t, "update with type", env.Do(t, "POST", "/admin/api-keys/"+skID, map[string]any{"title": "x", "type": "publishable"}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'type'"})
	})

	t.Run("revoke and delete", func(t *testing.T) {
		id, _ := mkKey(t, env, tn, tok, "doomed", "secret")
		// Behaviour 44.
		wantBody(t, "DELETE unrevoked key", env.Do(t, "DELETE", "/admin/api-keys/"+id, nil, as(tn, tok)...), 400,
			map[string]any{"type": "not_allowed", "message": "Cannot delete api keys that are not revoked - " + id})
		// Behaviour 42.
		body := wantStatus(t, "revoke", env.Do(t, "POST", "/admin/api-keys/"+id+"/revoke", map[string]any{}, as(tn, tok)...), 200)
		k := obj(t, body, "api_key")
		if k["revoked_by"] != uid || k["revoked_at"] == nil || !strings.HasPrefix(k["revoked_by"].(string), "user_") {
			t.Errorf("revoke = %v, want revoked_by %s and revoked_at set", k, uid)
		}
		// Behaviour 43.
		wantBody(t, "revoke again", env.Do(t, "POST", "/admin/api-keys/"+id+"/revoke", map[string]any{}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "There are 1 secret keys that are already revoked."})
		// Behaviour 45.
		wantBody(t, "DELETE revoked key", env.Do(t, "DELETE", "/admin/api-keys/"+id, nil, as(tn, tok)...), 200,
			map[string]any{"id": id, "object": "api_key", "deleted": true})
		wantBody(t, "GET deleted key", env.Do(t, "GET", "/admin/api-keys/"+id, nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "API Key with id: " + id + " was not found"})
		body = wantStatus(t, "list after delete", env.Do(t, "GET", "/admin/api-keys?limit=100", nil, as(tn, tok)...), 200)
		if got := ids(list(t, body, "api_keys")); contains(got, id) {
			t.Errorf("GET /admin/api-keys ids = %v, still lists deleted %s", got, id)
		}

		// A publishable key can be revoked again.
		pid, _ := mkKey(t, env, tn, tok, "pk doomed", "publishable")
		wantStatus(t, "revoke publishable", env.Do(t, "POST", "/admin/api-keys/"+pid+"/revoke", map[string]any{}, as(tn, tok)...), 200)
		wantStatus(t, "revoke publishable again", env.Do(t, "POST", "/admin/api-keys/"+pid+"/revoke", map[string]any{}, as(tn, tok)...), 200)
		wantBody(t, "revoke unknown", env.Do(t, "POST", "/admin/api-keys/apk_nope/revoke", map[string]any{}, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "API Key with id: apk_nope was not found"})
	})
}

func TestSecretKeyAuthentication(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "admin@acme.test", "correct horse 1")
	id, sk := mkKey(t, env, tn, tok, "backend", "secret")
	b64 := base64.StdEncoding.EncodeToString

	t.Run("accepted forms", func(t *testing.T) {
		for name, h := range map[string][]string{
			"Basic raw":          basic(tn, sk),
			"Basic raw colon":    basic(tn, sk+":"),
			"Basic base64":       basic(tn, b64([]byte(sk))),
			"Basic base64 colon": basic(tn, b64([]byte(sk+":"))),
			"basic lower case":   {"x-tenant-id", tn.Slug, "Authorization", "basic " + b64([]byte(sk+":"))},
			"legacy header":      {"x-tenant-id", tn.Slug, "x-medusa-access-token", sk},
		} {
			wantStatus(t, name+" GET /admin/users", env.Do(t, "GET", "/admin/users", nil, h...), 200)
		}
		// The actor is the key, not a user.
		wantBody(t, "key GET /admin/users/me", env.Do(t, "GET", "/admin/users/me", nil, basic(tn, sk)...), 404,
			map[string]any{"type": "not_found", "message": "User with id: " + id + " was not found"})
		// A key created by a key records the key as its creator.
		body := wantStatus(t, "key creates key", env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "child", "type": "publishable"}, basic(tn, sk)...), 200)
		if k := obj(t, body, "api_key"); k["created_by"] != id {
			t.Errorf("key created by a key: created_by = %v, want %s", k["created_by"], id)
		}
	})

	t.Run("refused forms", func(t *testing.T) {
		// Behaviour 48.
		wantBody(t, "Bearer sk_", env.Do(t, "GET", "/admin/users", nil, as(tn, sk)...), 401, map[string]any{"message": secretAsBearerHint})
		other := "sk_" + strings.Repeat("0", 64)
		for name, h := range map[string][]string{
			"unknown key":           basic(tn, other),
			"unknown key base64":    basic(tn, b64([]byte(other+":"))),
			"garbage":               basic(tn, "!!!notbase64"),
			"key as password":       basic(tn, b64([]byte("user:"+sk))),
			"upper-case key":        basic(tn, strings.ToUpper(sk[:3])+sk[3:]),
			"truncated key":         basic(tn, sk[:len(sk)-1]),
			"legacy header unknown": {"x-tenant-id", tn.Slug, "x-medusa-access-token", other},
		} {
			wantBody(t, name, env.Do(t, "GET", "/admin/users", nil, h...), 401, unauthorizedBody)
		}
		// A secret key is not a customer credential, nor a publishable key.
		wantBody(t, "secret key on /store", env.Do(t, "GET", "/store/customers/me", nil, basic(tn, sk)...), 400,
			map[string]any{"type": "not_allowed", "message": "Publishable API key required in the request header: x-publishable-api-key. You can manage your keys in settings in the dashboard."})
		wantBody(t, "secret key as publishable key", env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", tn.Slug, "x-publishable-api-key", sk), 400,
			map[string]any{"type": "not_allowed", "message": "A valid publishable key is required to proceed with the request"})
	})

	t.Run("publishable key on /admin", func(t *testing.T) {
		_, pk := mkKey(t, env, tn, tok, "storefront", "publishable")
		for name, h := range map[string][]string{
			"Basic pk":         basic(tn, pk),
			"Basic base64 pk":  basic(tn, b64([]byte(pk+":"))),
			"Bearer pk":        as(tn, pk),
			"pk header":        {"x-tenant-id", tn.Slug, "x-publishable-api-key", pk},
			"legacy header pk": {"x-tenant-id", tn.Slug, "x-medusa-access-token", pk},
		} {
			wantBody(t, name+" GET /admin/users", env.Do(t, "GET", "/admin/users", nil, h...), 401, unauthorizedBody)
		}
	})

	t.Run("last_used_at", func(t *testing.T) {
		uid, usk := mkKey(t, env, tn, tok, "used", "secret")
		if k := getKey(t, env, tn, tok, uid); k["last_used_at"] != nil {
			t.Fatalf("unused key last_used_at = %v, want null", k["last_used_at"])
		}
		wantStatus(t, "use key", env.Do(t, "GET", "/admin/users", nil, basic(tn, usk)...), 200)
		deadline := time.Now().Add(2 * time.Second)
		for {
			k := getKey(t, env, tn, tok, uid)
			if k["last_used_at"] != nil {
				if _, err := time.Parse(time.RFC3339, k["last_used_at"].(string)); err != nil {
					t.Errorf("last_used_at = %v, want an ISO time", k["last_used_at"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("last_used_at still null 2 s after use")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("revoked now", func(t *testing.T) {
		rid, rsk := mkKey(t, env, tn, tok, "revoked", "secret")
		wantStatus(t, "before revoke", env.Do(t, "GET", "/admin/users", nil, basic(tn, rsk)...), 200)
		wantStatus(t, "revoke", env.Do(t, "POST", "/admin/api-keys/"+rid+"/revoke", map[string]any{}, as(tn, tok)...), 200)
		// Behaviour 47, on the very next request.
		wantBody(t, "after revoke", env.Do(t, "GET", "/admin/users", nil, basic(tn, rsk)...), 401, unauthorizedBody)
		wantBody(t, "after revoke (legacy header)", env.Do(t, "GET", "/admin/users", nil, "x-tenant-id", tn.Slug, "x-medusa-access-token", rsk), 401, unauthorizedBody)
		wantBody(t, "after revoke (base64)", env.Do(t, "GET", "/admin/users", nil, basic(tn, b64([]byte(rsk+":")))...), 401, unauthorizedBody)
	})

	t.Run("revoke_in", func(t *testing.T) {
		rid, rsk := mkKey(t, env, tn, tok, "scheduled", "secret")
		wantStatus(t, "before", env.Do(t, "GET", "/admin/users", nil, basic(tn, rsk)...), 200)
		body := wantStatus(t, "revoke_in 1", env.Do(t, "POST", "/admin/api-keys/"+rid+"/revoke", map[string]any{"revoke_in": 1}, as(tn, tok)...), 200)
		at, err := time.Parse(time.RFC3339, obj(t, body, "api_key")["revoked_at"].(string))
		if err != nil || !at.After(time.Now()) {
			t.Errorf("revoke_in 1: revoked_at = %v (%v), want in the future", at, err)
		}
		wantStatus(t, "within the grace period", env.Do(t, "GET", "/admin/users", nil, basic(tn, rsk)...), 200)
		time.Sleep(1200 * time.Millisecond)
		wantBody(t, "after the grace period", env.Do(t, "GET", "/admin/users", nil, basic(tn, rsk)...), 401, unauthorizedBody)
	})
}

// TestRevokedKeyOnSecondNode revokes keys on one node and expects the other
// node, which shares the database (and Redis when configured) and has the keys
// cached, to refuse each on its very next request. Several keys are revoked
// in turn, because a late cache invalidation shows only now and then.
func TestRevokedKeyOnSecondNode(t *testing.T) {
	shared := os.Getenv(apitest.RedisEnv) != ""
	prefix := ""
	if shared {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		prefix = "ghtest" + hex.EncodeToString(b)
		t.Cleanup(func() { dropRedisPrefix(t, prefix) })
	}
	n1 := apitest.NewWith(t, apitest.Options{RedisPrefix: prefix})
	n2 := apitest.NewWith(t, apitest.Options{DB: n1.DB, RedisPrefix: prefix})
	tn := n1.Tenant(t, "acme")
	_, tok := n1.Admin(t, tn, "admin@acme.test", "correct horse 1")
	if !shared {
		t.Logf("%s unset: node 2 has its own memory store, checking node 1 only", apitest.RedisEnv)
	}

	const n = 20
	type key struct{ id, raw string }
	keys := make([]key, n)
	for i := range keys {
		keys[i].id, keys[i].raw = mkKey(t, n1, tn, tok, "two nodes", "secret")
		wantStatus(t, "node 1 before revoke", n1.Do(t, "GET", "/admin/users", nil, basic(tn, keys[i].raw)...), 200)
		wantStatus(t, "node 2 before revoke", n2.Do(t, "GET", "/admin/users", nil, basic(tn, keys[i].raw)...), 200)
	}
	var late []string
	for _, k := range keys {
		wantStatus(t, "revoke on node 1", n1.Do(t, "POST", "/admin/api-keys/"+k.id+"/revoke", map[string]any{}, as(tn, tok)...), 200)
		if shared {
			if r := n2.Do(t, "GET", "/admin/users", nil, basic(tn, k.raw)...); r.Status != 401 {
				late = append(late, k.id)
			}
		}
		wantBody(t, "node 1 right after revoke", n1.Do(t, "GET", "/admin/users", nil, basic(tn, k.raw)...), 401, unauthorizedBody)
	}
	if len(late) > 0 {
		t.Errorf("node 2 accepted %d of %d revoked keys on the request right after revocation: %v", len(late), n, late)
	}
	if !shared {
		return
	}
	for _, k := range keys {
		wantBody(t, "node 2 later", n2.Do(t, "GET", "/admin/users", nil, basic(tn, k.raw)...), 401, unauthorizedBody)
	}
}

// dropRedisPrefix deletes the keys a test wrote under a Redis prefix it chose.
func dropRedisPrefix(t *testing.T, prefix string) {
	opt, err := redis.ParseURL(os.Getenv(apitest.RedisEnv))
	if err != nil {
		return
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx := context.Background()
	iter := rc.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		rc.Del(ctx, iter.Val())
	}
}

// TestAPIKeysCrossTenant checks that keys of tenant B authenticate nothing on
// tenant A, and that B's admin can neither see nor touch A's keys.
func TestAPIKeysCrossTenant(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	_, atok := env.Admin(t, a, "admin@acme.test", "correct horse 1")
	_, btok := env.Admin(t, b, "admin@globex.test", "correct horse 1")
	aid, ask := mkKey(t, env, a, atok, "acme backend", "secret")
	_, bsk := mkKey(t, env, b, btok, "globex backend", "secret")
	_, bpk := mkKey(t, env, b, btok, "globex storefront", "publishable")

	// Warm B's key in the cache first: a cached key must not leak across tenants either.
	wantStatus(t, "B's key on B", env.Do(t, "GET", "/admin/users", nil, basic(b, bsk)...), 200)
	for name, h := range map[string][]string{
		"Basic":         basic(a, bsk),
		"Basic base64":  basic(a, base64.StdEncoding.EncodeToString([]byte(bsk+":"))),
		"legacy header": {"x-tenant-id", a.Slug, "x-medusa-access-token", bsk},
		"path prefix":   {"Authorization", "Basic " + bsk},
	} {
		path := "/admin/users"
		if name == "path prefix" {
			path = "/t/acme/admin/users"
		}
		wantBody(t, "B's secret key on A ("+name+")", env.Do(t, "GET", path, nil, h...), 401, unauthorizedBody)
	}
	wantBody(t, "B's admin token on A's keys", env.Do(t, "GET", "/admin/api-keys", nil, as(a, btok)...), 401, unauthorizedBody)

	// B's publishable key on A's store.
	wantStatus(t, "B's pk on B's store", env.Do(t, "POST", "/store/customers", map[string]any{}, "x-tenant-id", b.Slug, "x-publishable-api-key", bpk), 401)
	wantBody(t, "B's pk on A's store", env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", a.Slug, "x-publishable-api-key", bpk), 400,
		map[string]any{"type": "not_allowed", "message": "A valid publishable key is required to proceed with the request"})

	// A's key ids through B's admin.
	nf := map[string]any{"type": "not_found", "message": "API Key with id: " + aid + " was not found"}
	wantBody(t, "B GET A's key", env.Do(t, "GET", "/admin/api-keys/"+aid, nil, as(b, btok)...), 404, nf)
	wantBody(t, "B update A's key", env.Do(t, "POST", "/admin/api-keys/"+aid, map[string]any{"title": "pwned"}, as(b, btok)...), 404, nf)
	wantBody(t, "B revoke A's key", env.Do(t, "POST", "/admin/api-keys/"+aid+"/revoke", map[string]any{}, as(b, btok)...), 404, nf)
	wantBody(t, "B delete A's key", env.Do(t, "DELETE", "/admin/api-keys/"+aid, nil, as(b, btok)...), 404, nf)
	wantBody(t, "B link A's key", env.Do(t, "POST", "/admin/api-keys/"+aid+"/sales-channels", map[string]any{"add": []string{}}, as(b, btok)...), 404, nf)
	body := wantStatus(t, "B lists keys", env.Do(t, "GET", "/admin/api-keys?limit=100", nil, as(b, btok)...), 200)
	if got := ids(list(t, body, "api_keys")); contains(got, aid) || len(got) != 2 {
		t.Errorf("B GET /admin/api-keys ids = %v, want B's two keys only", got)
	}
	body = wantStatus(t, "B searches A's key", env.Do(t, "GET", "/admin/api-keys?q=acme", nil, as(b, btok)...), 200)
	if got := list(t, body, "api_keys"); len(got) != 0 {
		t.Errorf("B GET /admin/api-keys?q=acme = %v, want []", got)
	}

	// A's key is untouched and still works on A.
	if k := getKey(t, env, a, atok, aid); k["title"] != "acme backend" || k["revoked_at"] != nil {
		t.Errorf("A's key after B's requests = %v, want untouched", k)
	}
	wantStatus(t, "A's key on A", env.Do(t, "GET", "/admin/users", nil, basic(a, ask)...), 200)

	// A's sales channel is not B's.
	sc := mkChannel(t, env, a, atok, "acme web")
	bpk2ID, _ := mkKey(t, env, b, btok, "globex pk 2", "publishable")
	wantBody(t, "B links A's channel", env.Do(t, "POST", "/admin/api-keys/"+bpk2ID+"/sales-channels", map[string]any{"add": []string{sc}}, as(b, btok)...), 400,
		map[string]any{"type": "invalid_data", "message": "Sales channels with IDs " + sc + " do not exist"})
	wantBody(t, "B creates a key with A's channel", env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "x", "type": "publishable", "sales_channel_ids": []string{sc}}, as(b, btok)...), 400,
		map[string]any{"type": "invalid_data", "message": "Sales channels with IDs " + sc + " do not exist"})
	wantBody(t, "B GET A's channel", env.Do(t, "GET", "/admin/sales-channels/"+sc, nil, as(b, btok)...), 404,
		map[string]any{"type": "not_found", "message": "Sales channel with id: " + sc + " not found"})
}

func TestAPIKeySalesChannels(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "admin@acme.test", "correct horse 1")
	sc := mkChannel(t, env, tn, tok, "Web")
	skID, _ := mkKey(t, env, tn, tok, "backend", "secret")
	pkID, _ := mkKey(t, env, tn, tok, "storefront", "publishable")
	link := func(id string, body map[string]any) *apitest.Response {
		return env.Do(t, "POST", "/admin/api-keys/"+id+"/sales-channels", body, as(tn, tok)...)
	}

	// Behaviour 49.
	wantBody(t, "channel on a secret key", link(skID, map[string]any{"add": []string{sc}}), 400,
		map[string]any{"type": "invalid_data", "message": "Sales channels can only be associated with publishable API keys"})
	// Behaviour 50.
	wantBody(t, "phony channel", link(pkID, map[string]any{"add": []string{"phony"}}), 400,
		map[string]any{"type": "invalid_data", "message": "Sales channels with IDs phony do not exist"})
	// Behaviour 51.
	k := obj(t, wantStatus(t, "add", link(pkID, map[string]any{"add": []string{sc}}), 200), "api_key")
	if got := list(t, k, "sales_channels"); len(got) != 1 || got[0]["id"] != sc || got[0]["name"] != "Web" {
		t.Errorf("add: sales_channels = %v, want [{%s Web}]", got, sc)
	}
	ch := obj(t, wantStatus(t, "GET channel", env.Do(t, "GET", "/admin/sales-channels/"+sc, nil, as(tn, tok)...), 200), "sales_channel")
	if got := ids(list(t, ch, "publishable_api_keys")); !contains(got, pkID) {
		t.Errorf("channel publishable_api_keys = %v, want %s", got, pkID)
	}
	k = obj(t, wantStatus(t, "remove", link(pkID, map[string]any{"remove": []string{sc}}), 200), "api_key")
	if got := channelIDs(t, k); len(got) != 0 {
		t.Errorf("remove: sales_channels = %v, want []", got)
	}
	wantStatus(t, "add again", link(pkID, map[string]any{"add": []string{sc}}), 200)
	wantStatus(t, "revoke", env.Do(t, "POST", "/admin/api-keys/"+pkID+"/revoke", map[string]any{}, as(tn, tok)...), 200)
	wantStatus(t, "delete", env.Do(t, "DELETE", "/admin/api-keys/"+pkID, nil, as(tn, tok)...), 200)
	ch = obj(t, wantStatus(t, "GET channel after key deletion", env.Do(t, "GET", "/admin/sales-channels/"+sc, nil, as(tn, tok)...), 200), "sales_channel")
	if got := ids(list(t, ch, "publishable_api_keys")); contains(got, pkID) {
		t.Errorf("channel publishable_api_keys after deletion = %v, still has %s", got, pkID)
	}

	t.Run("create with unknown channels", func(t *testing.T) {
		wantBody(t, "create with unknown channels", env.Do(t, "POST", "/admin/api-keys",
			map[string]any{"title": "x", "type": "publishable", "sales_channel_ids": []string{"sc_nope", sc, "sc_gone"}}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Sales channels with IDs sc_nope, sc_gone do not exist"})
		body := wantStatus(t, "list", env.Do(t, "GET", "/admin/api-keys?q=x&limit=100", nil, as(tn, tok)...), 200)
		for _, k := range list(t, body, "api_keys") {
			if k["title"] == "x" {
				t.Errorf("a key was created despite the unknown channels: %v", k)
			}
		}
	})

	t.Run("secret key with channels needs partner_keys", func(t *testing.T) {
		// Without the tenant setting, channels cannot reach a secret key by
		// the create route either.
		r := env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "sneaky", "type": "secret", "sales_channel_ids": []string{sc}}, as(tn, tok)...)
		wantBody(t, "create secret key with channels (no partner_keys)", r, 400,
			map[string]any{"type": "invalid_data", "message": "Sales channels can only be associated with publishable API keys"})
	})

	t.Run("partner keys", func(t *testing.T) {
		ptn, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "partner", Name: "Partner",
			Settings: map[string]any{"partner_keys": true}})
		if err != nil {
			t.Fatalf("Create(partner) = %v", err)
		}
		_, ptok := env.Admin(t, ptn, "admin@partner.test", "correct horse 1")
		psc := mkChannel(t, env, ptn, ptok, "Partner web")
		pskID, psk := mkKey(t, env, ptn, ptok, "partner backend", "secret")
		k := obj(t, wantStatus(t, "partner: channel on a secret key",
			env.Do(t, "POST", "/admin/api-keys/"+pskID+"/sales-channels", map[string]any{"add": []string{psc}}, as(ptn, ptok)...), 200), "api_key")
		if got := channelIDs(t, k); len(got) != 1 || got[0] != psc {
			t.Errorf("partner secret key sales_channels = %v, want [%s]", got, psc)
		}
		if k["token"] != "" {
			t.Errorf("partner secret key token = %v, want \"\"", k["token"])
		}
		// The limited key still authenticates.
		wantStatus(t, "partner key GET /admin/users", env.Do(t, "GET", "/admin/users", nil, basic(ptn, psk)...), 200)
		body := wantStatus(t, "partner: create secret key with channels", env.Do(t, "POST", "/admin/api-keys",
			map[string]any{"title": "partner 2", "type": "secret", "sales_channel_ids": []string{psc}}, as(ptn, ptok)...), 200)
		id, _ := obj(t, body, "api_key")["id"].(string)
		if got := channelIDs(t, getKey(t, env, ptn, ptok, id)); len(got) != 1 || got[0] != psc {
			t.Errorf("partner key created with channels: sales_channels = %v, want [%s]", got, psc)
		}
		// The setting is per tenant: acme still refuses.
		wantBody(t, "acme after partner tenant exists", link(skID, map[string]any{"add": []string{sc}}), 400,
			map[string]any{"type": "invalid_data", "message": "Sales channels can only be associated with publishable API keys"})
	})
}

// TestAPIKeyNarrowRoles: "roles" at creation gives a secret key only some of
// its creator's roles (least privilege for integrations); a role the creator
// does not hold is refused, as are an empty list and roles on a publishable
// key; nothing of it crosses tenants.
func TestAPIKeyNarrowRoles(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "narrow")
	other := env.Tenant(t, "narrow-b")
	superID, super := env.Admin(t, tn, "owner@narrow.test", "correct-horse-9")
	adminID, admin := env.Admin(t, tn, "admin@narrow.test", "correct-horse-9")
	ctx := env.Ctx(tn)
	if err := env.RBAC.AssignRoles(ctx, "user:"+superID, "user:"+adminID, []string{"role_admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.RBAC.UnassignRoles(ctx, "user:"+adminID, []string{"role_super_admin"}); err != nil {
		t.Fatal(err)
	}
	create := func(tok string, body map[string]any) *apitest.Response {
		return env.Do(t, "POST", "/admin/api-keys", body, as(tn, tok)...)
	}
	r := create(super, map[string]any{"title": "reader", "type": "secret", "roles": []string{"role_viewer", "role_viewer"}})
	k := obj(t, wantStatus(t, "narrowed key", r, 200), "api_key")
	id, _ := k["id"].(string)
	raw, _ := k["token"].(string)
	roles := wantStatus(t, "its roles", env.Do(t, "GET", "/admin/api-keys/"+id+"/roles", nil, as(tn, super)...), 200)
	if rs, _ := roles["roles"].([]any); len(rs) != 1 || rs[0].(map[string]any)["id"] != "role_viewer" {
		t.Errorf("roles of the narrowed key = %v, want only role_viewer", roles)
	}
	wantStatus(t, "narrowed key reads users", env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...), 200)
	if r := env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "x", "type": "secret"}, basic(tn, raw)...); r.Status != 403 ||
		r.JSON["message"] != "Insufficient permissions. Required policies: api_key:create" {
		t.Errorf("narrowed key creates a key = %d %s, want 403 api_key:create", r.Status, r.Body)
	}
	if r := env.Do(t, "GET", "/admin/users", nil, basic(other, raw)...); r.Status != 401 {
		t.Errorf("narrowed key in another tenant = %d, want 401", r.Status)
	}
	// Without "roles" a key still gets all of its creator's.
	_, full := mkKey(t, env, tn, admin, "full", "secret")
	wantStatus(t, "an admin's full key creates a key", env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "y", "type": "publishable"}, basic(tn, full)...), 200)

	for _, tt := range []struct {
		name   string
		tok    string
		body   map[string]any
		status int
		msg    string
	}{
		{"a role the creator lacks", admin, map[string]any{"title": "t", "type": "secret", "roles": []string{"role_super_admin"}}, 403, "You do not have permission to assign these roles"},
		{"an unknown role", super, map[string]any{"title": "t", "type": "secret", "roles": []string{"role_nope"}}, 404, ""},
		{"no roles", super, map[string]any{"title": "t", "type": "secret", "roles": []string{}}, 400, "Field 'roles' must name at least one role (omit it to give the key all of yours)"},
		{"a publishable key", super, map[string]any{"title": "t", "type": "publishable", "roles": []string{"role_viewer"}}, 400, "Roles can only be given to secret API keys"},
		{"not a list", super, map[string]any{"title": "t", "type": "secret", "roles": "role_viewer"}, 400, ""},
	} {
		r := create(tt.tok, tt.body)
		if r.Status != tt.status || tt.msg != "" && r.JSON["message"] != tt.msg {
			t.Errorf("%s: %d %s, want %d %q", tt.name, r.Status, r.Body, tt.status, tt.msg)
		}
	}
	// Nothing was created by the refused requests.
	list := wantStatus(t, "list keys", env.Do(t, "GET", "/admin/api-keys?type=secret", nil, as(tn, super)...), 200)
	if list["count"] != float64(2) {
		t.Errorf("secret keys = %v, want 2 (the refused requests made none)", list["count"])
	}
}
