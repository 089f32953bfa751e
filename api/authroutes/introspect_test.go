package authroutes_test

import (
	"net/url"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
)

func TestIntrospect(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "intro")
	uid, tok := env.Admin(t, tn, "a@intro.test", "intro-password-1")
	_, sk, err := env.Auth.CreateAPIKey(env.Ctx(tn), nil, auth.CreateAPIKeyInput{Title: "svc", Type: auth.KeySecret})
	if err != nil {
		t.Fatal(err)
	}
	other := env.Tenant(t, "intro2")
	_, otherTok := env.Admin(t, other, "b@intro2.test", "intro-password-2")

	ask := func(body any, cred string) *apitest.Response {
		h := []string{"x-tenant-id", "intro"}
		if cred != "" {
			h = append(h, "Authorization", cred)
		}
		return env.Do(t, "POST", "/auth/introspect", body, h...)
	}
	r := ask(map[string]any{"token": tok}, "Basic "+sk)
	if r.Status != 200 || r.JSON["active"] != true || r.JSON["actor_id"] != uid || r.JSON["tid"] != tn.ID {
		t.Errorf("introspect a live token = %d %s, want active with actor %s", r.Status, r.Body, uid)
	}
	for name, tk := range map[string]string{"garbage": "abc", "another tenant's token": otherTok, "a secret key": sk} {
		if r := ask(map[string]any{"token": tk}, "Basic "+sk); r.Status != 200 || r.JSON["active"] != false || len(r.JSON) != 1 {
			t.Errorf("introspect %s = %d %s, want exactly {\"active\":false}", name, r.Status, r.Body)
		}
	}
	// Form encoding (RFC 7662's own).
	form := url.Values{"token": {tok}}.Encode()
	req := env.Do(t, "POST", "/auth/introspect", form, "x-tenant-id", "intro", "Authorization", "Basic "+sk, "content-type", "application/x-www-form-urlencoded")
	if req.Status != 200 || req.JSON["active"] != true {
		t.Errorf("form-encoded introspection = %d %s, want active", req.Status, req.Body)
	}
	// Revoked tokens are inactive.
	env.Do(t, "POST", "/auth/logout-all", nil, "x-tenant-id", "intro", "Authorization", "Bearer "+tok)
	if r := ask(map[string]any{"token": tok}, "Basic "+sk); r.JSON["active"] != false {
		t.Errorf("introspect a revoked token = %s, want inactive", r.Body)
	}
	// Only secret keys may ask.
	if r := ask(map[string]any{"token": tok}, "Bearer "+tok); r.Status != 401 {
		t.Errorf("introspect with a user token = %d, want 401", r.Status)
	}
	if r := ask(map[string]any{"token": tok}, ""); r.Status != 401 {
		t.Errorf("introspect without credentials = %d, want 401", r.Status)
	}
	if r := ask(map[string]any{}, "Basic "+sk); r.Status != 400 {
		t.Errorf("introspect without a token = %d, want 400", r.Status)
	}
}
