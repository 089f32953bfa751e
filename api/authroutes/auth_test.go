package authroutes_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/event"
)

// These tests pin Medusa 2.21's /auth contract (MEDUSA-CONTRACT.md section 10,
// items 1-29) and the places where Gatehouse deliberately differs: revocation
// on logout and password reset, case-insensitive emails, a password policy,
// and tenant isolation.

// envMu serialises the start of test servers: database.Migrate is not safe
// to run concurrently (ent's Atlas migration writes the package-level
// migrate.Tables), and these tests run in parallel.
var envMu sync.Mutex

// newEnv is apitest.NewWith under envMu.
func newEnv(t testing.TB, o ...apitest.Options) *apitest.Env {
	t.Helper()
	envMu.Lock()
	defer envMu.Unlock()
	var opt apitest.Options
	if len(o) > 0 {
		opt = o[0]
	}
	return apitest.NewWith(t, opt)
}

const adminPW = "correct horse battery"

// th returns the tenant header pair for tn.
func th(tn *ent.Tenant, more ...string) []string {
	return append([]string{"x-tenant-id", tn.Slug}, more...)
}

// bearer returns the tenant header and an Authorization: Bearer header.
func bearer(tn *ent.Tenant, tok string) []string {
	return th(tn, "Authorization", "Bearer "+tok)
}

// want checks status and, when body is not nil, the exact JSON body.
func want(t *testing.T, what string, r *apitest.Response, status int, body map[string]any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status = %d, want %d (body %s)", what, r.Status, status, r.Body)
	}
	if body == nil {
		return
	}
	if diff := cmp.Diff(body, r.JSON); diff != "" {
		t.Fatalf("%s: body mismatch (-want +got):\n%s\nraw: %s", what, diff, r.Body)
	}
}

var unauthorized = map[string]any{"message": "Unauthorized"}

func invalidCreds() map[string]any {
	return map[string]any{"type": "unauthorized", "message": "Invalid email or password"}
}

func invalidToken() map[string]any {
	return map[string]any{"type": "unauthorized", "message": "Invalid token"}
}

// claimsOf decodes a JWT's claims without verifying it.
func claimsOf(t *testing.T, tok string) *auth.Claims {
	t.Helper()
	c := &auth.Claims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatalf("ParseUnverified(%q) error = %v", tok, err)
	}
	return c
}

// rawClaims decodes a JWT payload into a map, to check keys as sent.
func rawClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q: want 3 parts", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal payload: %v", err)
	}
	return m
}

// tokenOf returns the "token" of a 200 {token} response, checking that the
// body has no other key.
func tokenOf(t *testing.T, what string, r *apitest.Response) string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status = %d, want 200 (body %s)", what, r.Status, r.Body)
	}
	tok, ok := r.JSON["token"].(string)
	if !ok || tok == "" || len(r.JSON) != 1 {
		t.Fatalf("%s: body = %s, want exactly {token}", what, r.Body)
	}
	return tok
}

func login(t *testing.T, env *apitest.Env, tn *ent.Tenant, actor, email, pw string, hdr ...string) string {
	t.Helper()
	r := env.Do(t, "POST", "/auth/"+actor+"/emailpass", map[string]any{"email": email, "password": pw}, append(th(tn), hdr...)...)
	return tokenOf(t, "login "+email, r)
}

// me calls GET /admin/users/me with headers.
func me(t *testing.T, env *apitest.Env, hdr ...string) *apitest.Response {
	t.Helper()
	return env.Do(t, "GET", "/admin/users/me", nil, hdr...)
}

func wantMe(t *testing.T, what string, env *apitest.Env, uid string, hdr ...string) {
	t.Helper()
	r := me(t, env, hdr...)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: GET /admin/users/me = %d %s, want 200", what, r.Status, r.Body)
	}
	u, _ := r.JSON["user"].(map[string]any)
	if u["id"] != uid {
		t.Fatalf("%s: GET /admin/users/me user.id = %v, want %s", what, u["id"], uid)
	}
}

func wantMeUnauthorized(t *testing.T, what string, env *apitest.Env, hdr ...string) {
	t.Helper()
	want(t, what+": GET /admin/users/me", me(t, env, hdr...), http.StatusUnauthorized, unauthorized)
}

// resetTokens returns the tokens of every auth.password_reset event of tn, in
// the outbox (the reset-password route never returns them over HTTP).
func resetTokens(t *testing.T, env *apitest.Env, tn *ent.Tenant) map[string]map[string]any {
	t.Helper()
	evs, err := env.DB.Client.Event.Query().Where(event.Name("auth.password_reset")).All(env.Ctx(tn))
	if err != nil {
		t.Fatalf("query events: %v", err)
	}
	out := map[string]map[string]any{}
	for _, e := range evs {
		tok, _ := e.Data["token"].(string)
		out[tok] = e.Data
	}
	return out
}

// requestReset calls the reset-password route for identifier and returns the
// token it emitted.
func requestReset(t *testing.T, env *apitest.Env, tn *ent.Tenant, actor, identifier string, hdr ...string) string {
	t.Helper()
	before := resetTokens(t, env, tn)
	r := env.Do(t, "POST", "/auth/"+actor+"/emailpass/reset-password", map[string]any{"identifier": identifier}, append(th(tn), hdr...)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("reset-password %s: %d %s, want 201", identifier, r.Status, r.Body)
	}
	// The token is made after the response (same timing for unknown
	// identifiers), so wait for it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for tok := range resetTokens(t, env, tn) {
			if _, ok := before[tok]; !ok {
				return tok
			}
		}
	}
	t.Fatalf("reset-password %s: no new auth.password_reset event", identifier)
	return ""
}

// drain waits for the work done after responses (reset tokens).
func drain(t *testing.T, env *apitest.Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := env.Auth.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func update(t *testing.T, env *apitest.Env, tn *ent.Tenant, actor, tok string, body any) *apitest.Response {
	t.Helper()
	h := th(tn)
	if tok != "" {
		h = append(h, "Authorization", "Bearer "+tok)
	}
	return env.Do(t, "POST", "/auth/"+actor+"/emailpass/update", body, h...)
}

func sessionCookie(t *testing.T, r *apitest.Response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "connect.sid" {
			return c
		}
	}
	t.Fatalf("no connect.sid cookie in Set-Cookie %q", r.Header.Values("Set-Cookie"))
	return nil
}

// TestLoginErrors covers items 1-3: exact 401 bodies, no enumeration.
func TestLoginErrors(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	env.Admin(t, tn, "admin@acme.test", adminPW)

	tests := []struct {
		name string
		body any
		want map[string]any
	}{
		{"wrong password", map[string]any{"email": "admin@acme.test", "password": "wrong password!"}, invalidCreds()},
		{"unknown email", map[string]any{"email": "nobody@acme.test", "password": adminPW}, invalidCreds()},
		{"empty body", map[string]any{}, map[string]any{"type": "unauthorized", "message": "Password should be a string"}},
		{"no body", nil, map[string]any{"type": "unauthorized", "message": "Password should be a string"}},
		{"password only", map[string]any{"password": adminPW}, map[string]any{"type": "unauthorized", "message": "Email should be a string"}},
		{"numeric password", map[string]any{"email": "admin@acme.test", "password": 12345678}, map[string]any{"type": "unauthorized", "message": "Password should be a string"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(t, "POST", "/auth/user/emailpass", tc.body, th(tn)...)
			want(t, "POST /auth/user/emailpass", r, http.StatusUnauthorized, tc.want)
		})
	}

	t.Run("unknown and wrong password are indistinguishable", func(t *testing.T) {
		a := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "admin@acme.test", "password": "nope-nope-nope"}, th(tn)...)
		b := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "ghost@acme.test", "password": "nope-nope-nope"}, th(tn)...)
		if a.Status != b.Status || string(a.Body) != string(b.Body) {
			t.Fatalf("known email: %d %s; unknown email: %d %s; want identical", a.Status, a.Body, b.Status, b.Body)
		}
	})

	t.Run("GET login works like POST", func(t *testing.T) {
		r := env.Do(t, "GET", "/auth/user/emailpass", nil, th(tn)...)
		want(t, "GET /auth/user/emailpass", r, http.StatusUnauthorized, map[string]any{"type": "unauthorized", "message": "Password should be a string"})
	})
}

// TestLoginSuccess covers items 7 and 8.
func TestLoginSuccess(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, _ := env.Admin(t, tn, "admin@acme.test", adminPW)

	tok := login(t, env, tn, "user", "admin@acme.test", adminPW)
	c := rawClaims(t, tok)
	for k, v := range map[string]any{
		"actor_id": uid, "actor_type": "user", "auth_provider": "emailpass",
		"mfa_enabled": false, "mfa_challenge_completed_at": nil,
	} {
		if got, ok := c[k]; !ok || got != v {
			t.Errorf("login claim %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if app, _ := c["app_metadata"].(map[string]any); app["user_id"] != uid {
		t.Errorf("login app_metadata = %v, want user_id %s", c["app_metadata"], uid)
	}
	if _, ok := c["user_metadata"].(map[string]any); !ok {
		t.Errorf("login user_metadata = %v, want an object", c["user_metadata"])
	}
	wantMe(t, "login token", env, uid, bearer(tn, tok)...)

	// Item 8: a user's credentials on the customer route give an actorless
	// customer token.
	ct := login(t, env, tn, "customer", "admin@acme.test", adminPW)
	cc := claimsOf(t, ct)
	if cc.ActorID != "" || cc.ActorType != "customer" || cc.AuthIdentityID != claimsOf(t, tok).AuthIdentityID {
		t.Errorf("customer login claims = actor_id %q actor_type %q identity %q, want \"\", customer, same identity",
			cc.ActorID, cc.ActorType, cc.AuthIdentityID)
	}
}

// TestRegister covers items 4-6, the password policy and case-insensitive
// emails.
func TestRegister(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	env.Admin(t, tn, "admin@acme.test", adminPW)
	exists := map[string]any{"type": "unauthorized", "message": "Identity with email already exists"}
	reg := func(actor, email, pw string) *apitest.Response {
		return env.Do(t, "POST", "/auth/"+actor+"/emailpass/register", map[string]any{"email": email, "password": pw}, th(tn)...)
	}

	t.Run("email of a user", func(t *testing.T) {
		want(t, "register admin email", reg("user", "admin@acme.test", adminPW), http.StatusUnauthorized, exists)
	})
	t.Run("customer with another case of a user's email", func(t *testing.T) {
		want(t, "register ADMIN@Acme.Test", reg("customer", "ADMIN@Acme.Test", "another password"), http.StatusUnauthorized, exists)
	})
	t.Run("new email, then again", func(t *testing.T) {
		tok := tokenOf(t, "register", reg("customer", "new@acme.test", "customer-password"))
		c := rawClaims(t, tok)
		if c["actor_id"] != "" || c["actor_type"] != "customer" || c["auth_identity_id"] == "" {
			t.Fatalf("registration claims = %v, want actor_id \"\", actor_type customer, an identity", c)
		}
		// Same password on an actorless identity: 200 again, same identity.
		again := tokenOf(t, "register again", reg("customer", "new@acme.test", "customer-password"))
		if got := claimsOf(t, again).AuthIdentityID; got != c["auth_identity_id"] {
			t.Errorf("re-register identity = %s, want %s", got, c["auth_identity_id"])
		}
		// Emails are case-insensitive: the same identity under another case.
		upper := tokenOf(t, "register upper-case", reg("customer", "NEW@ACME.TEST", "customer-password"))
		if got := claimsOf(t, upper).AuthIdentityID; got != c["auth_identity_id"] {
			t.Errorf("re-register upper-case identity = %s, want %s", got, c["auth_identity_id"])
		}
		want(t, "register with another password", reg("customer", "new@acme.test", "other-password"), http.StatusUnauthorized, exists)
	})
	t.Run("password policy", func(t *testing.T) {
		r := reg("customer", "short@acme.test", "1234567")
		if r.Status != http.StatusBadRequest || r.JSON["type"] != "invalid_data" {
			t.Fatalf("register with a 7-character password = %d %s, want 400 invalid_data", r.Status, r.Body)
		}
		// A common password is refused too (ASVS 6.2.4).
		if r := reg("customer", "short@acme.test", "12345678"); r.Status != http.StatusBadRequest || r.JSON["type"] != "invalid_data" {
			t.Fatalf("register with a common password = %d %s, want 400 invalid_data", r.Status, r.Body)
		}
		// Nothing was created: an uncommon 8-character password now registers.
		tokenOf(t, "register 8 chars", reg("customer", "short@acme.test", "k3ng-uru"))
	})
}

// TestEmailCaseInsensitive: Gatehouse normalises emails (Medusa does not).
func TestEmailCaseInsensitive(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, _ := env.Admin(t, tn, "admin@acme.test", adminPW)
	tok := login(t, env, tn, "user", "  Admin@ACME.test ", adminPW)
	if got := claimsOf(t, tok).ActorID; got != uid {
		t.Fatalf("login with upper-case email actor_id = %s, want %s", got, uid)
	}
}

// TestProviders covers items 9 and 10.
func TestProviders(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")

	r := env.Do(t, "GET", "/auth/user/providers", nil, th(tn)...)
	want(t, "GET /auth/user/providers", r, http.StatusOK, map[string]any{"providers": []any{map[string]any{
		"id": "emailpass", "identifier": "emailpass", "display_name": "Email/Password Authentication", "flow": "credentials",
	}}})

	// Medusa's allow-list middleware (validateScopeProviderAssociation) runs
	// on login, register, reset-password and update alike.
	notAllowed := map[string]any{"type": "not_allowed", "message": "The actor type user is not allowed to use the auth provider google"}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/auth/user/google", map[string]any{"email": "a@b.test", "password": "whatever-123"}},
		{"GET", "/auth/user/google", nil},
		{"POST", "/auth/user/google/register", map[string]any{"email": "a@b.test", "password": "whatever-123"}},
		{"POST", "/auth/user/google/reset-password", map[string]any{"identifier": "a@b.test"}},
		{"POST", "/auth/user/google/update", map[string]any{"password": "whatever-123"}},
	} {
		r := env.Do(t, tc.method, tc.path, tc.body, th(tn)...)
		if r.Status != http.StatusBadRequest || !cmp.Equal(r.JSON, notAllowed) {
			t.Errorf("%s %s = %d %s, want 400 %v", tc.method, tc.path, r.Status, r.Body, notAllowed)
		}
	}
	// An actor type without an allow-list may use any registered provider;
	// an unregistered one fails as the module does (401), except on
	// reset-password, which answers 201 whatever happens (item 13).
	r = env.Do(t, "POST", "/auth/customer/google", map[string]any{"email": "a@b.test", "password": "whatever-123"}, th(tn)...)
	if r.Status != http.StatusUnauthorized || r.JSON["type"] != "unauthorized" ||
		!strings.HasPrefix(r.JSON["message"].(string), "Unable to retrieve the auth provider with id: google") {
		t.Errorf("POST /auth/customer/google = %d %s, want 401 Unable to retrieve the auth provider…", r.Status, r.Body)
	}
	r = env.Do(t, "GET", "/auth/customer/providers", nil, th(tn)...)
	if ps, _ := r.JSON["providers"].([]any); r.Status != http.StatusOK || len(ps) != 1 {
		t.Errorf("GET /auth/customer/providers = %d %s, want emailpass", r.Status, r.Body)
	}
}

// TestResetPassword covers items 11-23 and Gatehouse's revocation on reset.
func TestResetPassword(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, _ := env.Admin(t, tn, "admin@acme.test", adminPW)

	t.Run("identifier required", func(t *testing.T) {
		r := env.Do(t, "POST", "/auth/user/emailpass/reset-password", map[string]any{}, th(tn)...)
		want(t, "reset-password {}", r, http.StatusBadRequest, map[string]any{
			"type": "invalid_data", "message": "Invalid request: Field 'identifier' is required"})
	})
	t.Run("201 for unknown identifier and provider", func(t *testing.T) {
		before := len(resetTokens(t, env, tn))
		for _, path := range []string{"/auth/user/emailpass/reset-password", "/auth/customer/nonexistent/reset-password"} {
			r := env.Do(t, "POST", path, map[string]any{"identifier": "nobody@acme.test"}, th(tn)...)
			if r.Status != http.StatusCreated || string(r.Body) != "Created" {
				t.Errorf("POST %s (unknown) = %d %q, want 201 \"Created\"", path, r.Status, r.Body)
			}
		}
		drain(t, env)
		if after := len(resetTokens(t, env, tn)); after != before {
			t.Errorf("events after unknown resets = %d, want %d", after, before)
		}
	})
	t.Run("known identifier: same answer, event with metadata", func(t *testing.T) {
		before := resetTokens(t, env, tn)
		r := env.Do(t, "POST", "/auth/user/emailpass/reset-password",
			map[string]any{"identifier": "admin@acme.test", "metadata": map[string]any{"lang": "fr"}}, th(tn)...)
		if r.Status != http.StatusCreated || string(r.Body) != "Created" {
			t.Fatalf("reset-password known = %d %q, want 201 \"Created\"", r.Status, r.Body)
		}
		drain(t, env)
		var data map[string]any
		for tok, d := range resetTokens(t, env, tn) {
			if _, ok := before[tok]; !ok {
				data = d
			}
		}
		if data == nil {
			t.Fatal("no auth.password_reset event")
		}
		if data["entity_id"] != "admin@acme.test" || data["actor_type"] != "user" ||
			!cmp.Equal(data["metadata"], map[string]any{"lang": "fr"}) || data["token"] == "" {
			t.Errorf("auth.password_reset data = %v, want entity_id, actor_type user, token, metadata", data)
		}
	})

	t.Run("update: single use, revokes old tokens, new login works", func(t *testing.T) {
		old := login(t, env, tn, "user", "admin@acme.test", adminPW)
		wantMe(t, "before reset", env, uid, bearer(tn, old)...)
		tok := requestReset(t, env, tn, "user", "admin@acme.test")
		r := update(t, env, tn, "user", tok, map[string]any{"password": "brand new password"})
		want(t, "update", r, http.StatusOK, map[string]any{"success": true})
		want(t, "update again (reuse)", update(t, env, tn, "user", tok, map[string]any{"password": "third password!"}),
			http.StatusUnauthorized, invalidToken())
		want(t, "old password", env.Do(t, "POST", "/auth/user/emailpass",
			map[string]any{"email": "admin@acme.test", "password": adminPW}, th(tn)...), http.StatusUnauthorized, invalidCreds())
		// Gatehouse differs: the earlier JWT is revoked.
		wantMeUnauthorized(t, "JWT issued before reset", env, bearer(tn, old)...)
		fresh := login(t, env, tn, "user", "admin@acme.test", "brand new password")
		wantMe(t, "login after reset", env, uid, bearer(tn, fresh)...)
	})

	t.Run("second reset invalidates the first", func(t *testing.T) {
		first := requestReset(t, env, tn, "user", "admin@acme.test")
		second := requestReset(t, env, tn, "user", "admin@acme.test")
		want(t, "first token", update(t, env, tn, "user", first, map[string]any{"password": "first reset pw"}),
			http.StatusUnauthorized, invalidToken())
		want(t, "second token", update(t, env, tn, "user", second, map[string]any{"password": "second reset pw"}),
			http.StatusOK, map[string]any{"success": true})
		login(t, env, tn, "user", "admin@acme.test", "second reset pw")
	})

	t.Run("update changes only the password", func(t *testing.T) {
		tok := requestReset(t, env, tn, "user", "admin@acme.test")
		r := update(t, env, tn, "user", tok, map[string]any{"email": "evil@acme.test", "password": "password nineteen"})
		want(t, "update with email", r, http.StatusOK, map[string]any{"success": true})
		want(t, "login with the new email", env.Do(t, "POST", "/auth/user/emailpass",
			map[string]any{"email": "evil@acme.test", "password": "password nineteen"}, th(tn)...), http.StatusUnauthorized, invalidCreds())
		login(t, env, tn, "user", "admin@acme.test", "password nineteen")
	})

	t.Run("update without a password: 200, token used, nothing changed", func(t *testing.T) {
		tok := requestReset(t, env, tn, "user", "ADMIN@acme.test") // identifiers are case-insensitive too
		want(t, "update {}", update(t, env, tn, "user", tok, map[string]any{}), http.StatusOK, map[string]any{"success": true})
		want(t, "update again", update(t, env, tn, "user", tok, map[string]any{"password": "password twenty"}),
			http.StatusUnauthorized, invalidToken())
		login(t, env, tn, "user", "admin@acme.test", "password nineteen")
	})

	t.Run("invalid tokens", func(t *testing.T) {
		loginJWT := login(t, env, tn, "user", "admin@acme.test", "password nineteen")
		userReset := requestReset(t, env, tn, "user", "admin@acme.test")

		// Item 20: a reset token past its 15 minutes. The same claims (so the
		// stored jti matches), re-signed by the tenant with an exp in the past.
		rc := &auth.ResetClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(userReset, rc); err != nil {
			t.Fatal(err)
		}
		rc.IssuedAt = jwt.NewNumericDate(time.Now().Add(-16 * time.Minute))
		rc.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
		expired, err := env.Auth.Tokens().Sign(env.Ctx(tn), auth.TypeReset, rc)
		if err != nil {
			t.Fatal(err)
		}

		// Item 23: the same claims signed with another secret.
		rc2 := *rc
		rc2.ExpiresAt = jwt.NewNumericDate(time.Now().Add(10 * time.Minute))
		forged := jwt.NewWithClaims(jwt.SigningMethodHS256, &rc2)
		forged.Header["typ"] = auth.TypeReset
		forged.Header["kid"] = claimsHeaderKID(t, userReset)
		otherSecret, err := forged.SignedString([]byte("supersecret-supersecret-supersecret"))
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name, actor, token string
		}{
			{"no Authorization (item 21)", "user", ""},
			{"login JWT (item 18)", "user", loginJWT},
			{"user reset token on customer route (item 22)", "customer", userReset},
			{"expired reset token (item 20)", "user", expired},
			{"signed with another secret (item 23)", "user", otherSecret},
			{"garbage", "user", "not.a.jwt"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := update(t, env, tn, tc.actor, tc.token, map[string]any{"password": "hijacked password"})
				want(t, "update", r, http.StatusUnauthorized, invalidToken())
			})
		}
		// None of them changed the password, and the user reset token was
		// not consumed by the wrong-actor attempt.
		login(t, env, tn, "user", "admin@acme.test", "password nineteen")
		want(t, "user reset token on its own route", update(t, env, tn, "user", userReset, map[string]any{"password": "password twenty"}),
			http.StatusOK, map[string]any{"success": true})
	})
}

func claimsHeaderKID(t *testing.T, tok string) string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := p.Header["kid"].(string)
	return kid
}

// TestRefresh covers items 24-26.
func TestRefresh(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", adminPW)
	before := claimsOf(t, tok)

	t.Run("keeps claims, advances iat", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond) // iat has one-second precision
		r := env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, tok)...)
		fresh := tokenOf(t, "refresh", r)
		after := claimsOf(t, fresh)
		if after.ActorID != uid || after.ActorType != before.ActorType || after.AuthIdentityID != before.AuthIdentityID ||
			after.AuthProvider != "emailpass" {
			t.Errorf("refreshed claims = %+v, want those of %+v", after, before)
		}
		if !after.IssuedAt.After(before.IssuedAt.Time) || !after.ExpiresAt.After(before.ExpiresAt.Time) {
			t.Errorf("refreshed iat/exp = %v/%v, want after %v/%v", after.IssuedAt, after.ExpiresAt, before.IssuedAt, before.ExpiresAt)
		}
		if after.ID == before.ID {
			t.Errorf("refreshed jti = %s, want a new one", after.ID)
		}
		wantMe(t, "refreshed token", env, uid, bearer(tn, fresh)...)
	})

	t.Run("keeps custom app_metadata, auth_provider and user_metadata", func(t *testing.T) {
		raw, err := env.Auth.Tokens().IssueAccess(env.Ctx(tn), tn, &auth.Claims{
			ActorID: uid, ActorType: auth.ActorUser, AuthIdentityID: before.AuthIdentityID, AuthProvider: "emailpass",
			AppMetadata:  map[string]any{"user_id": uid, "plan": "gold"},
			UserMetadata: map[string]any{"nickname": "ada"},
			SessionID:    "01JTESTSESSION0000000000000",
		}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		fresh := tokenOf(t, "refresh", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, raw)...))
		c := rawClaims(t, fresh)
		app, _ := c["app_metadata"].(map[string]any)
		if app["plan"] != "gold" || app["user_id"] != uid {
			t.Errorf("refreshed app_metadata = %v, want plan gold and user_id", app)
		}
		if !cmp.Equal(c["user_metadata"], map[string]any{"nickname": "ada"}) || c["auth_provider"] != "emailpass" {
			t.Errorf("refreshed user_metadata = %v, auth_provider = %v", c["user_metadata"], c["auth_provider"])
		}
	})

	t.Run("no auth_provider", func(t *testing.T) {
		raw, err := env.Auth.Tokens().IssueAccess(env.Ctx(tn), tn, &auth.Claims{
			ActorID: uid, ActorType: auth.ActorUser, AuthIdentityID: before.AuthIdentityID,
			AppMetadata: map[string]any{"user_id": uid},
		}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "refresh", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, raw)...), http.StatusUnauthorized,
			map[string]any{"type": "unauthorized", "message": "The auth provider is not set while refreshing token"})
	})

	t.Run("no credentials", func(t *testing.T) {
		want(t, "refresh", env.Do(t, "POST", "/auth/token/refresh", nil, th(tn)...), http.StatusUnauthorized, unauthorized)
	})
}

var clearedCookie = regexp.MustCompile(`^connect\.sid=;`)

// TestSession covers items 27-29 and Gatehouse's revocation on logout.
func TestSession(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", adminPW)

	r := env.Do(t, "POST", "/auth/session", nil, bearer(tn, tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("POST /auth/session = %d %s", r.Status, r.Body)
	}
	user, _ := r.JSON["user"].(map[string]any)
	if len(r.JSON) != 1 || user["actor_id"] != uid || user["actor_type"] != "user" || user["auth_provider"] != "emailpass" {
		t.Errorf("POST /auth/session body = %s, want {user: claims}", r.Body)
	}
	if sc := r.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "connect.sid=") {
		t.Errorf("Set-Cookie = %q, want connect.sid=…", sc)
	}
	ck := sessionCookie(t, r)
	if !ck.HttpOnly || ck.Path != "/" || ck.Value == "" {
		t.Errorf("session cookie = %+v, want HttpOnly, Path=/, a value", ck)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(raw) < 16 {
		t.Errorf("session id %q: want at least 128 bits", ck.Value)
	}
	cookie := "connect.sid=" + ck.Value
	wantMe(t, "cookie alone", env, uid, th(tn, "Cookie", cookie)...)

	t.Run("DELETE with only a bearer", func(t *testing.T) {
		want(t, "DELETE /auth/session", env.Do(t, "DELETE", "/auth/session", nil, bearer(tn, tok)...), http.StatusUnauthorized, unauthorized)
		wantMe(t, "cookie still works", env, uid, th(tn, "Cookie", cookie)...)
	})

	t.Run("DELETE with the cookie", func(t *testing.T) {
		r := env.Do(t, "DELETE", "/auth/session", nil, th(tn, "Cookie", cookie)...)
		want(t, "DELETE /auth/session", r, http.StatusOK, map[string]any{"success": true})
		sc := r.Header.Get("Set-Cookie")
		if !clearedCookie.MatchString(sc) || !strings.Contains(sc, "Expires=") {
			t.Errorf("Set-Cookie = %q, want ^connect.sid=; with Expires=", sc)
		}
		wantMeUnauthorized(t, "old cookie", env, th(tn, "Cookie", cookie)...)
		// Gatehouse differs from Medusa: the JWT the session came from dies too.
		wantMeUnauthorized(t, "original JWT", env, bearer(tn, tok)...)
		want(t, "refresh with the original JWT", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, tok)...),
			http.StatusUnauthorized, unauthorized)
		// Another login is unaffected.
		wantMe(t, "new login", env, uid, bearer(tn, login(t, env, tn, "user", "admin@acme.test", adminPW))...)
	})
}

// TestSessionRevokesRefreshedTokens: tokens refreshed from a login die with
// that login's session.
func TestSessionRevokesRefreshedTokens(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", adminPW)
	refreshed := tokenOf(t, "refresh", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, tok)...))
	ck := sessionCookie(t, env.Do(t, "POST", "/auth/session", nil, bearer(tn, tok)...))
	wantMe(t, "refreshed token", env, uid, bearer(tn, refreshed)...)
	want(t, "logout", env.Do(t, "DELETE", "/auth/session", nil, th(tn, "Cookie", "connect.sid="+ck.Value)...), http.StatusOK, nil)
	wantMeUnauthorized(t, "token refreshed from the logged-out login", env, bearer(tn, refreshed)...)
}

// TestLogoutAll: POST /auth/logout-all revokes every token of the identity.
func TestLogoutAll(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	uid, _ := env.Admin(t, tn, "admin@acme.test", adminPW)
	other, _ := env.Admin(t, tn, "other@acme.test", adminPW)
	otherTok := login(t, env, tn, "user", "other@acme.test", adminPW)

	a := login(t, env, tn, "user", "admin@acme.test", adminPW)
	b := login(t, env, tn, "user", "admin@acme.test", adminPW)
	ck := sessionCookie(t, env.Do(t, "POST", "/auth/session", nil, bearer(tn, b)...))
	wantMe(t, "token a", env, uid, bearer(tn, a)...)
	wantMe(t, "token b", env, uid, bearer(tn, b)...)
	// Revocation has millisecond precision (the jti's ULID time); see
	// TestLogoutAllSameMillisecond in package auth for the edge.
	time.Sleep(2 * time.Millisecond)

	want(t, "logout-all", env.Do(t, "POST", "/auth/logout-all", nil, bearer(tn, a)...), http.StatusOK, map[string]any{"success": true})
	wantMeUnauthorized(t, "token a", env, bearer(tn, a)...)
	wantMeUnauthorized(t, "token b", env, bearer(tn, b)...)
	wantMeUnauthorized(t, "session of token b", env, th(tn, "Cookie", "connect.sid="+ck.Value)...)
	want(t, "refresh token b", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, b)...), http.StatusUnauthorized, unauthorized)
	wantMe(t, "another user's token", env, other, bearer(tn, otherTok)...)
	wantMe(t, "a new login", env, uid, bearer(tn, login(t, env, tn, "user", "admin@acme.test", adminPW))...)
}

// TestTenantRouting: the same routes through the three ways of naming a tenant.
func TestTenantRouting(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	acme := env.Tenant(t, "acme")
	globex := env.Tenant(t, "globex")
	uid, _ := env.Admin(t, acme, "admin@acme.test", adminPW)
	env.Admin(t, globex, "admin@globex.test", adminPW)
	creds := map[string]any{"email": "admin@acme.test", "password": adminPW}

	t.Run("path prefix", func(t *testing.T) {
		tok := tokenOf(t, "login", env.Do(t, "POST", "/t/acme/auth/user/emailpass", creds))
		if c := claimsOf(t, tok); c.ActorID != uid || c.Issuer != "http://gatehouse.test/t/acme" {
			t.Errorf("claims = actor %s iss %s, want %s and the acme issuer", c.ActorID, c.Issuer, uid)
		}
		r := env.Do(t, "GET", "/t/acme/admin/users/me", nil, "Authorization", "Bearer "+tok)
		if r.Status != http.StatusOK {
			t.Errorf("GET /t/acme/admin/users/me = %d %s", r.Status, r.Body)
		}
		want(t, "acme token under /t/globex", env.Do(t, "GET", "/t/globex/admin/users/me", nil, "Authorization", "Bearer "+tok),
			http.StatusUnauthorized, unauthorized)
		want(t, "acme credentials under /t/globex", env.Do(t, "POST", "/t/globex/auth/user/emailpass", creds),
			http.StatusUnauthorized, invalidCreds())
		r = env.Do(t, "GET", "/t/acme/auth/user/providers", nil)
		if r.Status != http.StatusOK {
			t.Errorf("GET /t/acme/auth/user/providers = %d %s", r.Status, r.Body)
		}
	})

	t.Run("host", func(t *testing.T) {
		tok := tokenOf(t, "login", env.Do(t, "POST", "/auth/user/emailpass", creds, "Host", "acme.localhost"))
		if c := claimsOf(t, tok); c.ActorID != uid {
			t.Errorf("claims actor %s, want %s", c.ActorID, uid)
		}
		wantMe(t, "host", env, uid, "Host", "acme.localhost", "Authorization", "Bearer "+tok)
		want(t, "acme token at globex.localhost", me(t, env, "Host", "globex.localhost", "Authorization", "Bearer "+tok),
			http.StatusUnauthorized, unauthorized)
		ck := sessionCookie(t, env.Do(t, "POST", "/auth/session", nil, "Host", "acme.localhost", "Authorization", "Bearer "+tok))
		wantMe(t, "cookie at acme.localhost", env, uid, "Host", "acme.localhost", "Cookie", "connect.sid="+ck.Value)
		want(t, "acme cookie at globex.localhost", me(t, env, "Host", "globex.localhost", "Cookie", "connect.sid="+ck.Value),
			http.StatusUnauthorized, unauthorized)
	})

	t.Run("no tenant", func(t *testing.T) {
		r := env.Do(t, "POST", "/auth/user/emailpass", creds)
		if r.Status != http.StatusNotFound {
			t.Errorf("login without a tenant = %d %s, want 404", r.Status, r.Body)
		}
	})
}

// TestCrossTenant: nothing issued by tenant B works in tenant A.
func TestCrossTenant(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	uidA, tokA := env.Admin(t, a, "admin@shared.test", adminPW)
	uidB, tokB := env.Admin(t, b, "admin@shared.test", adminPW)

	t.Run("same email, two identities", func(t *testing.T) {
		ia, ib := claimsOf(t, tokA).AuthIdentityID, claimsOf(t, tokB).AuthIdentityID
		if ia == ib || uidA == uidB {
			t.Fatalf("identities %s / %s, users %s / %s: want different per tenant", ia, ib, uidA, uidB)
		}
		ra := env.Do(t, "POST", "/auth/customer/emailpass/register", map[string]any{"email": "cust@shared.test", "password": "customer pw 1"}, th(a)...)
		rb := env.Do(t, "POST", "/auth/customer/emailpass/register", map[string]any{"email": "cust@shared.test", "password": "customer pw 2"}, th(b)...)
		ca, cb := claimsOf(t, tokenOf(t, "register a", ra)), claimsOf(t, tokenOf(t, "register b", rb))
		if ca.AuthIdentityID == cb.AuthIdentityID {
			t.Fatalf("registered auth_identity_id %s in both tenants, want two", ca.AuthIdentityID)
		}
	})

	t.Run("token of B on A", func(t *testing.T) {
		want(t, "B token on A", me(t, env, bearer(a, tokB)...), http.StatusUnauthorized, unauthorized)
		want(t, "refresh B token on A", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(a, tokB)...), http.StatusUnauthorized, unauthorized)
		want(t, "session from B token on A", env.Do(t, "POST", "/auth/session", nil, bearer(a, tokB)...), http.StatusUnauthorized, unauthorized)
		want(t, "logout-all with B token on A", env.Do(t, "POST", "/auth/logout-all", nil, bearer(a, tokB)...), http.StatusUnauthorized, unauthorized)
		wantMe(t, "B token on B", env, uidB, bearer(b, tokB)...)
	})

	t.Run("session cookie of B on A", func(t *testing.T) {
		ck := sessionCookie(t, env.Do(t, "POST", "/auth/session", nil, bearer(b, tokB)...))
		want(t, "B cookie on A", me(t, env, th(a, "Cookie", "connect.sid="+ck.Value)...), http.StatusUnauthorized, unauthorized)
		want(t, "DELETE A session with B cookie", env.Do(t, "DELETE", "/auth/session", nil, th(a, "Cookie", "connect.sid="+ck.Value)...),
			http.StatusUnauthorized, unauthorized)
		wantMe(t, "B cookie on B", env, uidB, th(b, "Cookie", "connect.sid="+ck.Value)...)
	})

	t.Run("reset token of B on A", func(t *testing.T) {
		tokB := requestReset(t, env, b, "user", "admin@shared.test")
		want(t, "B reset token on A", update(t, env, a, "user", tokB, map[string]any{"password": "hijacked password"}),
			http.StatusUnauthorized, invalidToken())
		login(t, env, a, "user", "admin@shared.test", adminPW)
		// Still good in B: the attempt on A consumed nothing.
		want(t, "B reset token on B", update(t, env, b, "user", tokB, map[string]any{"password": "new password B"}),
			http.StatusOK, map[string]any{"success": true})
		login(t, env, a, "user", "admin@shared.test", adminPW)
	})

	t.Run("logout in B leaves A alone", func(t *testing.T) {
		fresh := login(t, env, b, "user", "admin@shared.test", "new password B")
		want(t, "logout-all B", env.Do(t, "POST", "/auth/logout-all", nil, bearer(b, fresh)...), http.StatusOK, nil)
		wantMe(t, "A token after B logout-all", env, uidA, bearer(a, tokA)...)
	})

	t.Run("outbox is per tenant", func(t *testing.T) {
		requestReset(t, env, a, "user", "admin@shared.test")
		for tok := range resetTokens(t, env, a) {
			if got := claimsOf(t, tok).TenantID; got != a.ID {
				t.Errorf("tenant A outbox holds a reset token of tenant %s", got)
			}
		}
	})
}

// TestOAuthRoutes: the OAuth routes answer as Medusa's do when emailpass is
// the only provider: the callback is the provider's 401 (after the same
// allow-list as login), and POST /auth/{provider}/user (bearer, actor user,
// registration tokens allowed) ends in Medusa's 400s, creating nothing.
// Its static segment wins over login's /{actor_type}/{provider} for POST
// only. Another tenant's token is a 401.
func TestOAuthRoutes(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "acme")
	other := env.Tenant(t, "globex")
	env.Admin(t, tn, "admin@acme.test", adminPW)
	adminTok := login(t, env, tn, "user", "admin@acme.test", adminPW)

	notImplemented := map[string]any{"type": "unauthorized", "message": "Callback authentication not implemented for provider emailpass"}
	for _, m := range []string{"GET", "POST"} {
		want(t, m+" callback", env.Do(t, m, "/auth/user/emailpass/callback?code=abc&state=xyz", nil, th(tn)...), http.StatusUnauthorized, notImplemented)
		want(t, m+" google callback for users", env.Do(t, m, "/auth/user/google/callback", nil, th(tn)...), http.StatusBadRequest,
			map[string]any{"type": "not_allowed", "message": "The actor type user is not allowed to use the auth provider google"})
		r := env.Do(t, m, "/auth/customer/google/callback", nil, th(tn)...)
		if r.Status != http.StatusUnauthorized || !strings.HasPrefix(fmt.Sprint(r.JSON["message"]), "Unable to retrieve the auth provider with id: google") {
			t.Errorf("%s /auth/customer/google/callback = %d %s, want 401 Unable to retrieve the auth provider…", m, r.Status, r.Body)
		}
	}

	reg := tokenOf(t, "register", env.Do(t, "POST", "/auth/user/emailpass/register",
		map[string]any{"email": "new@acme.test", "password": "k3ng-uru-9"}, th(tn)...))
	otherReg := tokenOf(t, "register in globex", env.Do(t, "POST", "/auth/user/emailpass/register",
		map[string]any{"email": "new@globex.test", "password": "k3ng-uru-9"}, th(other)...))
	custReg := tokenOf(t, "register a customer", env.Do(t, "POST", "/auth/customer/emailpass/register",
		map[string]any{"email": "shopper@acme.test", "password": "k3ng-uru-9"}, th(tn)...))
	provision := func(provider string, hdr []string) *apitest.Response {
		return env.Do(t, "POST", "/auth/"+provider+"/user", map[string]any{}, hdr...)
	}
	want(t, "no token", provision("emailpass", th(tn)), http.StatusUnauthorized, unauthorized)
	want(t, "globex's token in acme", provision("emailpass", bearer(tn, otherReg)), http.StatusUnauthorized, unauthorized)
	want(t, "a customer's token", provision("emailpass", bearer(tn, custReg)), http.StatusUnauthorized, unauthorized)
	want(t, "registration token", provision("emailpass", bearer(tn, reg)), http.StatusBadRequest,
		map[string]any{"type": "invalid_data", "message": "Email is required to create a user account."})
	want(t, "an admin's token", provision("emailpass", bearer(tn, adminTok)), http.StatusBadRequest,
		map[string]any{"type": "invalid_data", "message": "The user is already registered and cannot create a new account."})
	want(t, "google", provision("google", bearer(tn, reg)), http.StatusBadRequest,
		map[string]any{"type": "not_allowed", "message": "The actor type user is not allowed to use the auth provider google"})
	// GET is still login, with actor type "emailpass" and provider "user".
	r := env.Do(t, "GET", "/auth/emailpass/user", nil, th(tn)...)
	if r.Status != http.StatusUnauthorized || !strings.HasPrefix(fmt.Sprint(r.JSON["message"]), "Unable to retrieve the auth provider with id: user") {
		t.Errorf("GET /auth/emailpass/user = %d %s, want login's 401 for provider user", r.Status, r.Body)
	}
	users := env.Do(t, "GET", "/admin/users", nil, bearer(tn, adminTok)...)
	if users.Status != http.StatusOK || users.JSON["count"] != 1.0 {
		t.Errorf("GET /admin/users = %d %s, want the one admin (nothing provisioned)", users.Status, users.Body)
	}
}
