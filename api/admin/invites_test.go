package admin_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/ent"
)

// mkInvite creates an invite through the API and returns its id and token.
func mkInvite(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, email string) (string, string) {
	t.Helper()
	body := wantStatus(t, "POST /admin/invites "+email, env.Do(t, "POST", "/admin/invites", map[string]any{"email": email}, as(tn, tok)...), 200)
	inv := obj(t, body, "invite")
	id, _ := inv["id"].(string)
	itok, _ := inv["token"].(string)
	if !strings.HasPrefix(id, "invite_") || itok == "" || inv["email"] != email || inv["accepted"] != false {
		t.Fatalf("POST /admin/invites %s = %v, want invite_… id, token, email, accepted false", email, inv)
	}
	return id, itok
}

// accept posts to /admin/invites/accept with an invite token and a bearer.
func accept(t *testing.T, env *apitest.Env, tn *ent.Tenant, inviteTok, bearer string, body any) *apitest.Response {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	return env.Do(t, "POST", "/admin/invites/accept?token="+url.QueryEscape(inviteTok), body, as(tn, bearer)...)
}

// userIDs lists the ids of tn's users with email.
func userIDs(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, email string) []string {
	t.Helper()
	body := wantStatus(t, "GET /admin/users?email="+email, env.Do(t, "GET", "/admin/users?email="+url.QueryEscape(email), nil, as(tn, tok)...), 200)
	return ids(list(t, body, "users"))
}

func TestInviteFlow(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "admin@acme.test", "correct horse 1")

	id, itok := mkInvite(t, env, tn, tok, "new@acme.test")
	reg := authToken(t, env, tn, "user", "/register", "new@acme.test", "correct horse 2")

	// Behaviour 30: accept with the registration bearer.
	body := wantStatus(t, "accept", accept(t, env, tn, itok, reg, map[string]any{"first_name": "New", "last_name": "Person"}), 200)
	u := obj(t, body, "user")
	if u["email"] != "new@acme.test" || u["first_name"] != "New" || u["last_name"] != "Person" || !strings.HasPrefix(u["id"].(string), "user_") {
		t.Errorf("accept = %v, want user new@acme.test New Person", u)
	}
	ltok := authToken(t, env, tn, "user", "", "new@acme.test", "correct horse 2")
	body = wantStatus(t, "new user GET /admin/users/me", env.Do(t, "GET", "/admin/users/me", nil, as(tn, ltok)...), 200)
	if me := obj(t, body, "user"); me["id"] != u["id"] {
		t.Errorf("GET /admin/users/me = %v, want %v", me["id"], u["id"])
	}

	// The invite is consumed.
	wantBody(t, "GET accepted invite", env.Do(t, "GET", "/admin/invites/"+id, nil, as(tn, tok)...), 404,
		map[string]any{"type": "not_found", "message": "Invite with id: " + id + " was not found"})
	// Behaviour 32: the same invite again, with the same (still actorless) registration token.
	wantBody(t, "accept an accepted invite", accept(t, env, tn, itok, reg, nil), 401, unauthorizedBody)
	// Behaviour 33: a token with an actor.
	wantBody(t, "accept with an actor token", accept(t, env, tn, itok, ltok, nil), 400,
		map[string]any{"type": "invalid_data", "message": "The user is already authenticated and cannot accept an invite."})
	// Behaviour 36: the email is now a user's.
	wantBody(t, "invite an existing user", env.Do(t, "POST", "/admin/invites", map[string]any{"email": "new@acme.test"}, as(tn, tok)...), 400,
		map[string]any{"type": "invalid_data", "message": "User account for following email(s) already exist: new@acme.test"})
	wantBody(t, "invite an existing user (other case)", env.Do(t, "POST", "/admin/invites", map[string]any{"email": "Admin@ACME.test"}, as(tn, tok)...), 400,
		map[string]any{"type": "invalid_data", "message": "User account for following email(s) already exist: admin@acme.test"})
}

func TestInviteTokens(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "admin@acme.test", "correct horse 1")

	t.Run("forged and garbage tokens", func(t *testing.T) {
		_, itok := mkInvite(t, env, tn, tok, "forged@acme.test")
		_, other := mkInvite(t, env, tn, tok, "other@acme.test")
		reg := authToken(t, env, tn, "user", "/register", "forged@acme.test", "correct horse 2")

		parts := strings.Split(itok, ".")
		oparts := strings.Split(other, ".")
		if len(parts) != 3 || len(oparts) != 3 {
			t.Fatalf("invite tokens %q, %q are not JWS compact", itok, other)
		}
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"invite+jwt"}`))
		sig := []byte(parts[2])
		sig[len(sig)/2] ^= 1
		for name, bad := range map[string]string{
			"empty":              "",
			"garbage":            "not-a-token",
			"three dots":         "a.b.c",
			"alg none":           none + "." + parts[1] + ".",
			"swapped payload":    parts[0] + "." + oparts[1] + "." + parts[2],
			"flipped signature":  parts[0] + "." + parts[1] + "." + string(sig),
			"truncated":          itok[:len(itok)-4],
			"access token":       reg,
			"admin access token": tok,
		} {
			wantBody(t, "accept with "+name+" invite token", accept(t, env, tn, bad, reg, nil), 401, unauthorizedBody)
		}
		// Nothing was created, and the real token still works.
		if got := userIDs(t, env, tn, tok, "forged@acme.test"); len(got) != 0 {
			t.Errorf("users with forged@acme.test after refused accepts = %v, want none", got)
		}
		wantStatus(t, "accept with the real token", accept(t, env, tn, itok, reg, nil), 200)
	})

	t.Run("accept needs a registration token", func(t *testing.T) {
		_, itok := mkInvite(t, env, tn, tok, "noauth@acme.test")
		wantBody(t, "accept without bearer", accept(t, env, tn, itok, "", nil), 401, unauthorizedBody)
		wantBody(t, "accept with garbage bearer", accept(t, env, tn, itok, "garbage", nil), 401, unauthorizedBody)
		// No API keys on accept.
		kb := wantStatus(t, "create secret key", env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "k", "type": "secret"}, as(tn, tok)...), 200)
		sk, _ := obj(t, kb, "api_key")["token"].(string)
		wantBody(t, "accept with a secret key", env.Do(t, "POST", "/admin/invites/accept?token="+url.QueryEscape(itok), map[string]any{},
			"x-tenant-id", tn.Slug, "Authorization", "Basic "+sk), 401, unauthorizedBody)
		// A customer registration token is not a user's.
		creg := authToken(t, env, tn, "customer", "/register", "noauth@acme.test", "correct horse 2")
		wantBody(t, "accept with a customer registration token", accept(t, env, tn, itok, creg, nil), 401, unauthorizedBody)
	})

	t.Run("resend rotates the token", func(t *testing.T) {
		id, old := mkInvite(t, env, tn, tok, "resend@acme.test")
		body := wantStatus(t, "resend", env.Do(t, "POST", "/admin/invites/"+id+"/resend", nil, as(tn, tok)...), 200)
		inv := obj(t, body, "invite")
		fresh, _ := inv["token"].(string)
		if inv["id"] != id || fresh == "" || fresh == old {
			t.Fatalf("resend = %v, want invite %s with a new token", inv, id)
		}
		reg := authToken(t, env, tn, "user", "/register", "resend@acme.test", "correct horse 2")
		wantBody(t, "accept with the old token", accept(t, env, tn, old, reg, nil), 401, unauthorizedBody)
		wantStatus(t, "accept with the new token", accept(t, env, tn, fresh, reg, nil), 200)
		wantBody(t, "resend unknown", env.Do(t, "POST", "/admin/invites/invite_nope/resend", nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "Invite with id: invite_nope was not found"})
	})

	t.Run("delete", func(t *testing.T) {
		id, itok := mkInvite(t, env, tn, tok, "deleted@acme.test")
		wantBody(t, "DELETE invite", env.Do(t, "DELETE", "/admin/invites/"+id, nil, as(tn, tok)...), 200,
			map[string]any{"id": id, "object": "invite", "deleted": true})
		wantBody(t, "GET deleted invite", env.Do(t, "GET", "/admin/invites/"+id, nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "Invite with id: " + id + " was not found"})
		reg := authToken(t, env, tn, "user", "/register", "deleted@acme.test", "correct horse 2")
		wantBody(t, "accept a deleted invite", accept(t, env, tn, itok, reg, nil), 401, unauthorizedBody)
		wantBody(t, "DELETE deleted invite", env.Do(t, "DELETE", "/admin/invites/"+id, nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "Invite with id: " + id + " was not found"})
	})

	t.Run("duplicate pending invite", func(t *testing.T) {
		mkInvite(t, env, tn, tok, "twice@acme.test")
		r := env.Do(t, "POST", "/admin/invites", map[string]any{"email": "twice@acme.test"}, as(tn, tok)...)
		if r.Status != 422 || r.JSON["type"] != "duplicate_error" || r.JSON["code"] != "invalid_request_error" {
			t.Errorf("second invite for twice@acme.test = %d %s, want 422 duplicate_error", r.Status, r.Body)
		}
	})

	t.Run("validation", func(t *testing.T) {
		wantBody(t, "invite without email", env.Do(t, "POST", "/admin/invites", map[string]any{}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Field 'email' is required"})
		wantBody(t, "invite with unknown field", env.Do(t, "POST", "/admin/invites", map[string]any{"email": "v@acme.test", "token": "x"}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'token'"})
		_, itok := mkInvite(t, env, tn, tok, "strict@acme.test")
		reg := authToken(t, env, tn, "user", "/register", "strict@acme.test", "correct horse 2")
		wantBody(t, "accept with unknown field", accept(t, env, tn, itok, reg, map[string]any{"roles": []string{"x"}}), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'roles'"})
	})

	t.Run("tokens are not listed", func(t *testing.T) {
		id, _ := mkInvite(t, env, tn, tok, "secret@acme.test")
		body := wantStatus(t, "GET /admin/invites", env.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...), 200)
		invs := list(t, body, "invites")
		if !contains(ids(invs), id) {
			t.Fatalf("GET /admin/invites ids = %v, want %s", ids(invs), id)
		}
		for _, inv := range invs {
			if v, ok := inv["token"]; ok && v != "" && v != nil {
				t.Errorf("GET /admin/invites: invite %v shows token %v", inv["id"], v)
			}
		}
		inv := obj(t, wantStatus(t, "GET /admin/invites/:id", env.Do(t, "GET", "/admin/invites/"+id, nil, as(tn, tok)...), 200), "invite")
		if v, ok := inv["token"]; ok && v != "" && v != nil {
			t.Errorf("GET /admin/invites/%s shows token %v", id, v)
		}
		if inv["email"] != "secret@acme.test" || inv["accepted"] != false || inv["expires_at"] == nil {
			t.Errorf("GET /admin/invites/%s = %v", id, inv)
		}
		body = wantStatus(t, "GET /admin/invites?q=secret", env.Do(t, "GET", "/admin/invites?q=secret", nil, as(tn, tok)...), 200)
		if got := ids(list(t, body, "invites")); len(got) != 1 || got[0] != id {
			t.Errorf("GET /admin/invites?q=secret ids = %v, want [%s]", got, id)
		}
	})

	t.Run("invited email cannot be changed", func(t *testing.T) {
		id, itok := mkInvite(t, env, tn, tok, "invited@acme.test")
		reg := authToken(t, env, tn, "user", "/register", "invited@acme.test", "correct horse 2")
		r := accept(t, env, tn, itok, reg, map[string]any{"email": "attacker@acme.test"})
		if r.Status != 400 || r.JSON["type"] != "invalid_data" {
			t.Errorf("accept with another body email = %d %s, want 400 invalid_data", r.Status, r.Body)
		}
		if got := userIDs(t, env, tn, tok, "attacker@acme.test"); len(got) != 0 {
			t.Errorf("users with attacker@acme.test = %v, want none", got)
		}
		if got := userIDs(t, env, tn, tok, "invited@acme.test"); len(got) != 0 {
			t.Errorf("users with invited@acme.test after refused accept = %v, want none", got)
		}
		wantStatus(t, "invite still pending", env.Do(t, "GET", "/admin/invites/"+id, nil, as(tn, tok)...), 200)

		// A registration token of another email cannot take the invite either.
		oreg := authToken(t, env, tn, "user", "/register", "intruder@acme.test", "correct horse 2")
		r = accept(t, env, tn, itok, oreg, nil)
		if r.Status != 400 || r.JSON["type"] != "invalid_data" {
			t.Errorf("accept with another identity's token = %d %s, want 400 invalid_data", r.Status, r.Body)
		}
		if got := userIDs(t, env, tn, tok, "intruder@acme.test"); len(got) != 0 {
			t.Errorf("users with intruder@acme.test = %v, want none", got)
		}

		// The invited email itself, in any case, is accepted.
		body := wantStatus(t, "accept with the invited email", accept(t, env, tn, itok, reg, map[string]any{"email": "Invited@ACME.test"}), 200)
		if u := obj(t, body, "user"); u["email"] != "invited@acme.test" {
			t.Errorf("accept = %v, want email invited@acme.test", u)
		}
	})
}

// TestInvitesCrossTenant checks that tenant B can neither see nor use tenant
// A's invites.
func TestInvitesCrossTenant(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	_, atok := env.Admin(t, a, "admin@acme.test", "correct horse 1")
	_, btok := env.Admin(t, b, "admin@globex.test", "correct horse 1")

	id, itok := mkInvite(t, env, a, atok, "joiner@acme.test")
	nf := map[string]any{"type": "not_found", "message": "Invite with id: " + id + " was not found"}

	wantBody(t, "B GET A's invite", env.Do(t, "GET", "/admin/invites/"+id, nil, as(b, btok)...), 404, nf)
	wantBody(t, "B resend A's invite", env.Do(t, "POST", "/admin/invites/"+id+"/resend", nil, as(b, btok)...), 404, nf)
	wantBody(t, "B DELETE A's invite", env.Do(t, "DELETE", "/admin/invites/"+id, nil, as(b, btok)...), 404, nf)
	body := wantStatus(t, "B GET /admin/invites", env.Do(t, "GET", "/admin/invites", nil, as(b, btok)...), 200)
	if got := list(t, body, "invites"); len(got) != 0 || body["count"] != float64(0) {
		t.Errorf("B GET /admin/invites = %v, want none", body)
	}
	wantBody(t, "B token on A's invites", env.Do(t, "GET", "/admin/invites/"+id, nil, as(a, btok)...), 401, unauthorizedBody)
	wantBody(t, "B token resend on A", env.Do(t, "POST", "/admin/invites/"+id+"/resend", nil, as(a, btok)...), 401, unauthorizedBody)

	// A's invite token, presented to B with a registration token of B.
	breg := authToken(t, env, b, "user", "/register", "joiner@acme.test", "correct horse 2")
	wantBody(t, "A's invite token on B", accept(t, env, b, itok, breg, nil), 401, unauthorizedBody)
	// B's registration token on A's accept route.
	wantBody(t, "B's registration token on A", accept(t, env, a, itok, breg, nil), 401, unauthorizedBody)
	body = wantStatus(t, "B users", env.Do(t, "GET", "/admin/users?email=joiner@acme.test", nil, as(b, btok)...), 200)
	if got := list(t, body, "users"); len(got) != 0 {
		t.Errorf("B users with joiner@acme.test = %v, want none", got)
	}

	// The invite is untouched in A.
	wantStatus(t, "A GET own invite", env.Do(t, "GET", "/admin/invites/"+id, nil, as(a, atok)...), 200)
	areg := authToken(t, env, a, "user", "/register", "joiner@acme.test", "correct horse 3")
	wantStatus(t, "accept in A", accept(t, env, a, itok, areg, nil), 200)

	// Emails are unique per tenant: B may invite A's new user's email.
	mkInvite(t, env, b, btok, "joiner@acme.test")
}
