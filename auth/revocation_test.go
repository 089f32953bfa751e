package auth_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

// twoNodes returns two servers over one database and, with Redis, one shared
// store: a revocation made on one must be seen by the other on its next
// request. Without GATEHOUSE_TEST_REDIS_URL two nodes cannot share the memory
// store, so both are the same node and the scenario still runs.
func twoNodes(t *testing.T) (*apitest.Env, *apitest.Env) {
	t.Helper()
	u := os.Getenv(apitest.RedisEnv)
	if u == "" {
		env := newEnv(t)
		return env, env
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ghtest-rev" + hex.EncodeToString(b)
	// Registered first so that it runs last, after both stores are closed:
	// apitest deletes only the keys of prefixes it chose itself.
	t.Cleanup(func() {
		opt, err := redis.ParseURL(u)
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
	})
	env1 := newEnv(t, apitest.Options{RedisPrefix: prefix})
	env2 := newEnv(t, apitest.Options{DB: env1.DB, RedisPrefix: prefix})
	return env1, env2
}

func wantStatus(t *testing.T, what string, r *apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
	if status == http.StatusUnauthorized && string(r.Body) != `{"message":"Unauthorized"}` {
		t.Fatalf("%s: body %s, want {\"message\":\"Unauthorized\"}", what, r.Body)
	}
}

func meOn(t *testing.T, env *apitest.Env, tn *ent.Tenant, hdr ...string) *apitest.Response {
	t.Helper()
	return env.Do(t, "GET", "/admin/users/me", nil, tenantHeader(tn, hdr...)...)
}

// TestRevocationAcrossNodes: logout and password reset on node 1 are refused
// by node 2 on its very next request, even for a token node 2 has verified
// (and cached) before.
func TestRevocationAcrossNodes(t *testing.T) {
	t.Parallel()
	env1, env2 := twoNodes(t)
	tn := env1.Tenant(t, "acme")
	uid, tok := env1.Admin(t, tn, "admin@acme.test", testPassword)

	// The token and the tenant are known to node 2.
	wantStatus(t, "node 2, token from node 1", meOn(t, env2, tn, "Authorization", "Bearer "+tok), http.StatusOK)

	t.Run("logout", func(t *testing.T) {
		r := env1.Do(t, "POST", "/auth/session", nil, tenantHeader(tn, "Authorization", "Bearer "+tok)...)
		wantStatus(t, "POST /auth/session on node 1", r, http.StatusOK)
		var sid string
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "connect.sid" {
				sid = c.Value
			}
		}
		if sid == "" {
			t.Fatalf("no connect.sid cookie in %q", r.Header.Values("Set-Cookie"))
		}
		cookie := "connect.sid=" + sid
		wantStatus(t, "node 2, session of node 1", meOn(t, env2, tn, "Cookie", cookie), http.StatusOK)

		wantStatus(t, "DELETE /auth/session on node 1", env1.Do(t, "DELETE", "/auth/session", nil, tenantHeader(tn, "Cookie", cookie)...), http.StatusOK)
		wantStatus(t, "node 2, the session's JWT", meOn(t, env2, tn, "Authorization", "Bearer "+tok), http.StatusUnauthorized)
		wantStatus(t, "node 2, the session cookie", meOn(t, env2, tn, "Cookie", cookie), http.StatusUnauthorized)
		wantStatus(t, "node 2, refresh with the session's JWT",
			env2.Do(t, "POST", "/auth/token/refresh", nil, tenantHeader(tn, "Authorization", "Bearer "+tok)...), http.StatusUnauthorized)
	})

	t.Run("password reset", func(t *testing.T) {
		older := loginHTTP(t, env2, tn, "admin@acme.test", testPassword)
		wantStatus(t, "node 2, token before reset", meOn(t, env2, tn, "Authorization", "Bearer "+older), http.StatusOK)
		r := env1.Do(t, "POST", "/admin/users/"+uid+"/reset-password", nil, tenantHeader(tn, "Authorization", "Bearer "+older)...)
		wantStatus(t, "reset-password on node 1", r, http.StatusOK)
		reset, _ := r.JSON["token"].(string)
		// Revocation has millisecond precision; see TestLogoutAllSameMillisecond.
		time.Sleep(2 * time.Millisecond)
		wantStatus(t, "update on node 1", env1.Do(t, "POST", "/auth/user/emailpass/update",
			map[string]any{"password": "a new password"}, tenantHeader(tn, "Authorization", "Bearer "+reset)...), http.StatusOK)

		wantStatus(t, "node 2, token issued before the reset", meOn(t, env2, tn, "Authorization", "Bearer "+older), http.StatusUnauthorized)
		wantStatus(t, "node 1, token issued before the reset", meOn(t, env1, tn, "Authorization", "Bearer "+older), http.StatusUnauthorized)
		fresh := loginHTTP(t, env2, tn, "admin@acme.test", "a new password")
		wantStatus(t, "node 1, login on node 2 after the reset", meOn(t, env1, tn, "Authorization", "Bearer "+fresh), http.StatusOK)
		wantStatus(t, "node 2, login on node 2 after the reset", meOn(t, env2, tn, "Authorization", "Bearer "+fresh), http.StatusOK)
	})
}

// TestLogoutAllSameMillisecond pins the millisecond boundary of a
// logout-everywhere (and of a password reset, which revokes the same way):
// token issue times are the jti's ULID milliseconds, so the not-before must
// revoke a token issued earlier in the same millisecond as the logout, yet
// accept one issued after LogoutAll has returned, however soon ("the new
// login works immediately").
func TestLogoutAllSameMillisecond(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", testPassword)
	_, c := parseUnverified(t, tok)
	ctx := env.Ctx(tn)
	issue := func() string {
		t.Helper()
		raw, err := env.Auth.Tokens().IssueAccess(ctx, tn, &auth.Claims{ActorID: uid, ActorType: auth.ActorUser,
			AuthIdentityID: c.AuthIdentityID, AuthProvider: "emailpass", AppMetadata: map[string]any{"user_id": uid}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	caller := &auth.Context{TenantID: tn.ID, ActorID: uid, ActorType: auth.ActorUser, AuthIdentityID: c.AuthIdentityID}
	survivors, refused := 0, 0
	const rounds = 50
	for i := 0; i < rounds; i++ {
		before := issue()
		if err := env.Auth.LogoutAll(ctx, caller); err != nil {
			t.Fatalf("LogoutAll() error = %v", err)
		}
		if _, err := env.Auth.AuthenticateBearer(ctx, tn, before); err == nil {
			survivors++
		}
		after := issue()
		if _, err := env.Auth.AuthenticateBearer(ctx, tn, after); err != nil {
			refused++
		}
	}
	if survivors > 0 {
		t.Errorf("%d of %d tokens issued just before LogoutAll still authenticate after it (fail open)", survivors, rounds)
	}
	if refused > 0 {
		t.Errorf("%d of %d tokens issued just after LogoutAll returned are refused", refused, rounds)
	}
}
