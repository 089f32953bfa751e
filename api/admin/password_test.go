package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/ent/event"
)

// TestChangeOwnPassword (checklist 22): changing a password needs the
// current one, ends every other login, keeps the caller's, and refuses weak
// passwords, API keys and other tenants' credentials.
func TestChangeOwnPassword(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", "correct-horse-9")
	other := wantStatus(t, "second login", env.Do(t, "POST", "/auth/user/emailpass",
		map[string]any{"email": "admin@acme.test", "password": "correct-horse-9"}, as(tn, "")...), 200)["token"].(string)
	r := env.Do(t, "POST", "/auth/session", nil, as(tn, other)...)
	if r.Status != 200 {
		t.Fatalf("session: %d %s", r.Status, r.Body)
	}
	var cookie string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "connect.sid" {
			cookie = "connect.sid=" + c.Value
		}
	}
	change := func(tok string, body any, more ...string) *apitest.Response {
		return env.Do(t, "POST", "/admin/users/me/password", body, append(as(tn, tok), more...)...)
	}

	wantBody(t, "wrong current password", change(tok, map[string]any{"current_password": "not-it-at-all", "new_password": "a-new-secret-42"}),
		http.StatusBadRequest, map[string]any{"type": "invalid_data", "message": "The current password is incorrect"})
	wantStatus(t, "missing fields", change(tok, map[string]any{"new_password": "a-new-secret-42"}), http.StatusBadRequest)
	wantStatus(t, "unknown field", change(tok, map[string]any{"current_password": "correct-horse-9", "new_password": "a-new-secret-42", "email": "x@y.z"}), http.StatusBadRequest)
	wantStatus(t, "common new password", change(tok, map[string]any{"current_password": "correct-horse-9", "new_password": "password123"}), http.StatusBadRequest)
	wantStatus(t, "still the old password", env.Do(t, "GET", "/admin/users/me", nil, as(tn, tok)...), 200)

	_, sk := mkKey(t, env, tn, tok, "ci", "secret")
	wantStatus(t, "secret key", env.Do(t, "POST", "/admin/users/me/password",
		map[string]any{"current_password": "correct-horse-9", "new_password": "a-new-secret-42"}, basic(tn, sk)...), http.StatusBadRequest)

	b := env.Tenant(t, "globex")
	_, tokB := env.Admin(t, b, "admin@globex.test", "correct-horse-9")
	wantBody(t, "tenant B's token on tenant A", change(tokB, map[string]any{"current_password": "correct-horse-9", "new_password": "a-new-secret-42"}),
		http.StatusUnauthorized, unauthorizedBody)

	body := wantStatus(t, "change", change(tok, map[string]any{"current_password": "correct-horse-9", "new_password": "a-new-secret-42"}), 200)
	if obj(t, body, "user")["id"] != uid {
		t.Errorf("change: user = %v, want %s", body["user"], uid)
	}
	fresh, _ := body["token"].(string)
	if fresh == "" {
		t.Fatalf("change: no token in %v", body)
	}
	wantBody(t, "the old token", env.Do(t, "GET", "/admin/users/me", nil, as(tn, tok)...), http.StatusUnauthorized, unauthorizedBody)
	wantBody(t, "another login", env.Do(t, "GET", "/admin/users/me", nil, as(tn, other)...), http.StatusUnauthorized, unauthorizedBody)
	wantBody(t, "another login's session", env.Do(t, "GET", "/admin/users/me", nil, "x-tenant-id", tn.Slug, "Cookie", cookie), http.StatusUnauthorized, unauthorizedBody)
	wantStatus(t, "the returned token", env.Do(t, "GET", "/admin/users/me", nil, as(tn, fresh)...), 200)
	wantStatus(t, "tenant B untouched", env.Do(t, "GET", "/admin/users/me", nil, as(b, tokB)...), 200)
	wantStatus(t, "login with the new password", env.Do(t, "POST", "/auth/user/emailpass",
		map[string]any{"email": "admin@acme.test", "password": "a-new-secret-42"}, as(tn, "")...), 200)
	wantBody(t, "login with the old password", env.Do(t, "POST", "/auth/user/emailpass",
		map[string]any{"email": "admin@acme.test", "password": "correct-horse-9"}, as(tn, "")...),
		http.StatusUnauthorized, map[string]any{"type": "unauthorized", "message": "Invalid email or password"})
	n, err := env.DB.Client.Event.Query().Where(event.Name("auth.password_changed")).Count(env.Ctx(tn))
	if err != nil || n != 1 {
		t.Errorf("auth.password_changed events = %d (%v), want 1", n, err)
	}
}

// TestChangeOwnPasswordKeepsSession: a cookie-session caller stays signed in
// after changing the password; the session moves to the new token.
func TestChangeOwnPasswordKeepsSession(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "admin@acme.test", "correct-horse-9")
	r := env.Do(t, "POST", "/auth/session", nil, as(tn, tok)...)
	var cookie string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "connect.sid" {
			cookie = "connect.sid=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("no session cookie: %d %s", r.Status, r.Body)
	}
	h := []string{"x-tenant-id", tn.Slug, "Cookie", cookie, "Sec-Fetch-Site", "same-origin"}
	wantStatus(t, "change over the session", env.Do(t, "POST", "/admin/users/me/password",
		map[string]any{"current_password": "correct-horse-9", "new_password": "a-new-secret-42"}, h...), 200)
	wantStatus(t, "the session after the change", env.Do(t, "GET", "/admin/users/me", nil, h...), 200)
	wantBody(t, "the token the session came from", env.Do(t, "GET", "/admin/users/me", nil, as(tn, tok)...), http.StatusUnauthorized, unauthorizedBody)
}
