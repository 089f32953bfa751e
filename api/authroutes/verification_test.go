package authroutes_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/event"
)

// verificationCodes returns the codes of the tenant's
// auth.verification_requested events, oldest first.
func verificationCodes(t *testing.T, env *apitest.Env, tn *ent.Tenant) []string {
	t.Helper()
	evs, err := env.DB.Client.Event.Query().Where(event.Name("auth.verification_requested")).Order(ent.Asc(event.FieldCreatedAt)).All(env.Ctx(tn))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		c, _ := e.Data["code"].(string)
		out = append(out, c)
	}
	return out
}

// TestEmailVerification mirrors contract 2.12 and the login rule of 2.1: a
// tenant that requires a verified email answers logins with
// verification_required until the code is confirmed; codes are single-use,
// expire after 15 minutes, stay inside their tenant and never appear in
// responses.
func TestEmailVerification(t *testing.T) {
	t.Parallel()
	var clk clock
	env := newEnv(t, apitest.Options{Auth: auth.Config{Now: clk.now}})
	require := map[string]any{"auth_verifications_per_actor": map[string]any{
		"user": []any{map[string]any{"auth_provider": "emailpass", "entity_type": "email"}},
	}}
	tn := tenantWith(t, env, "verify", require)
	const email = "admin@verify.test"
	uid, pending := env.Admin(t, tn, email, adminPW)

	r := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": email, "password": adminPW}, th(tn)...)
	if r.Status != 200 || r.JSON["verification_required"] != true || r.JSON["token"] == nil || len(r.JSON) != 2 {
		t.Fatalf("login before any request: %d %s, want {verification_required, token}", r.Status, r.Body)
	}
	if c := claimsOf(t, pending); c.ActorID != "" {
		t.Fatalf("pending token has actor %q", c.ActorID)
	}
	want(t, "admin route with the pending token", env.Do(t, "GET", "/admin/users/me", nil, bearer(tn, pending)...), http.StatusUnauthorized, unauthorized)

	req := func(tok string, body any) *apitest.Response {
		return env.Do(t, "POST", "/auth/verification/request", body, bearer(tn, tok)...)
	}
	want(t, "request without a token", env.Do(t, "POST", "/auth/verification/request", map[string]any{"entity_id": email, "entity_type": "email"}, th(tn)...),
		http.StatusUnauthorized, unauthorized)
	if r := req(pending, map[string]any{"entity_type": "email"}); r.Status != 400 || r.JSON["type"] != "invalid_data" {
		t.Errorf("request without entity_id: %d %s", r.Status, r.Body)
	}
	r = req(pending, map[string]any{"entity_id": email, "entity_type": "email", "metadata": map[string]any{"lang": "en"}})
	v, _ := r.JSON["verification"].(map[string]any)
	if r.Status != http.StatusCreated || v["entity_id"] != email || v["verified_at"] != nil || v["code_provider"] != "token" {
		t.Fatalf("request: %d %s", r.Status, r.Body)
	}
	if _, leaked := v["code"]; leaked {
		t.Fatalf("request response carries the code: %s", r.Body)
	}
	codes := verificationCodes(t, env, tn)
	if len(codes) != 1 || len(codes[0]) < 43 {
		t.Fatalf("codes = %q, want one 256-bit code", codes)
	}
	r = env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": email, "password": adminPW}, th(tn)...)
	if lv, _ := r.JSON["verification"].(map[string]any); r.JSON["verification_required"] != true || lv["id"] != v["id"] {
		t.Fatalf("login after the request: %s, want the pending verification", r.Body)
	}

	confirm := func(body any, hdr ...string) *apitest.Response {
		return env.Do(t, "POST", "/auth/verification/confirm", body, append(th(tn), hdr...)...)
	}
	wantError(t, "wrong code", confirm(map[string]any{"code": "not-a-code"}), 400, "not_allowed", "Verification code is invalid or already used")
	wantError(t, "other provider", confirm(map[string]any{"code": codes[0], "code_provider": "sms"}), 400, "not_allowed", `Verification code does not belong to provider "sms"`)
	if r := confirm(map[string]any{}); r.Status != 400 || r.JSON["type"] != "invalid_data" {
		t.Errorf("confirm without a code: %d %s", r.Status, r.Body)
	}
	other := tenantWith(t, env, "other", nil)
	wantError(t, "code of tenant A on tenant B", env.Do(t, "POST", "/auth/verification/confirm", map[string]any{"code": codes[0]}, th(other)...),
		400, "not_allowed", "Verification code is invalid or already used")

	r = confirm(map[string]any{"code": codes[0]}) // no credential needed
	if r.Status != 200 || r.JSON["entity_id"] != email || r.JSON["entity_type"] != "email" || r.JSON["code_provider"] != "token" || r.JSON["verified_at"] == nil {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	wantError(t, "confirm twice", confirm(map[string]any{"code": codes[0]}), 400, "not_allowed", "Verification code is invalid or already used")

	tok := tokenOf(t, "refresh after verifying", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, pending)...))
	if claimsOf(t, tok).ActorID != uid {
		t.Fatalf("refreshed token actor = %q, want %s", claimsOf(t, tok).ActorID, uid)
	}
	wantMe(t, "after verification", env, uid, bearer(tn, tok)...)
	tokenOf(t, "login after verification", env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": email, "password": adminPW}, th(tn)...))

	r = req(tok, map[string]any{"entity_id": email, "entity_type": "email"})
	if v, _ := r.JSON["verification"].(map[string]any); r.Status != http.StatusCreated || v["verified_at"] == nil {
		t.Errorf("request once verified: %d %s, want it as it is", r.Status, r.Body)
	}
	if n := len(verificationCodes(t, env, tn)); n != 1 {
		t.Errorf("a verified entity got a new code (%d events)", n)
	}

	t.Run("expiry", func(t *testing.T) {
		req(tok, map[string]any{"entity_id": "+15550100", "entity_type": "phone"})
		codes := verificationCodes(t, env, tn)
		clk.advance(auth.VerificationTTL + time.Second)
		wantError(t, "expired code", confirm(map[string]any{"code": codes[len(codes)-1]}), 400, "not_allowed", "Verification code has expired")
	})
}
