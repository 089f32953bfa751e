package admin_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

// unauthorizedBody is the middleware rejection, exactly as Medusa sends it.
var unauthorizedBody = map[string]any{"message": "Unauthorized"}

// as returns the headers of a request to tn's API with a Bearer token ("" for none).
func as(tn *ent.Tenant, tok string) []string {
	h := []string{"x-tenant-id", tn.Slug}
	if tok != "" {
		h = append(h, "Authorization", "Bearer "+tok)
	}
	return h
}

// wantBody fails unless r has status and exactly the JSON body want.
func wantBody(t *testing.T, what string, r *apitest.Response, status int, want map[string]any) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status = %d, want %d (body %s)", what, r.Status, status, r.Body)
		return
	}
	if diff := cmp.Diff(want, r.JSON); diff != "" {
		t.Errorf("%s: body mismatch (-want +got):\n%s", what, diff)
	}
}

// wantStatus fails unless r has status; it returns the JSON body.
func wantStatus(t *testing.T, what string, r *apitest.Response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status = %d, want %d (body %s)", what, r.Status, status, r.Body)
	}
	return r.JSON
}

// obj returns body[key] as an object, failing when it is not one.
func obj(t *testing.T, body map[string]any, key string) map[string]any {
	t.Helper()
	m, ok := body[key].(map[string]any)
	if !ok {
		t.Fatalf("body[%q] = %#v, want an object (body %v)", key, body[key], body)
	}
	return m
}

// list returns body[key] as a list of objects.
func list(t *testing.T, body map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := body[key].([]any)
	if !ok {
		t.Fatalf("body[%q] = %#v, want a list", key, body[key])
	}
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("body[%q] holds %#v, want objects", key, v)
		}
		out = append(out, m)
	}
	return out
}

// ids returns the "id" of each object.
func ids(items []map[string]any) []string {
	out := []string{}
	for _, m := range items {
		id, _ := m["id"].(string)
		out = append(out, id)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// authToken posts emailpass credentials to /auth/{actor}/emailpass{suffix}
// ("" to log in, "/register" to register) and returns the token.
func authToken(t *testing.T, env *apitest.Env, tn *ent.Tenant, actor, suffix, email, pw string) string {
	t.Helper()
	r := env.Do(t, "POST", "/auth/"+actor+"/emailpass"+suffix, map[string]any{"email": email, "password": pw}, as(tn, "")...)
	body := wantStatus(t, "POST /auth/"+actor+"/emailpass"+suffix+" "+email, r, 200)
	tok, _ := body["token"].(string)
	if tok == "" || len(body) != 1 {
		t.Fatalf("POST /auth/%s/emailpass%s = %v, want exactly {token}", actor, suffix, body)
	}
	return tok
}

// mkUser creates an admin user of tn through the service (as the CLI does).
func mkUser(t *testing.T, env *apitest.Env, tn *ent.Tenant, email, pw string) string {
	t.Helper()
	u, err := env.Auth.CreateUser(env.Ctx(tn), auth.CreateUserInput{Email: email, Password: pw})
	if err != nil {
		t.Fatalf("CreateUser(%q) = %v", email, err)
	}
	return u.ID
}

func TestUsers(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", "correct horse 1")

	t.Run("no credentials", func(t *testing.T) {
		wantBody(t, "GET /admin/users without token", env.Do(t, "GET", "/admin/users", nil, as(tn, "")...), 401, unauthorizedBody)
		wantBody(t, "GET /admin/users with garbage bearer", env.Do(t, "GET", "/admin/users", nil, as(tn, "garbage")...), 401, unauthorizedBody)
	})

	t.Run("me", func(t *testing.T) {
		body := wantStatus(t, "GET /admin/users/me", env.Do(t, "GET", "/admin/users/me", nil, as(tn, tok)...), 200)
		u := obj(t, body, "user")
		if u["id"] != uid || u["email"] != "admin@acme.test" {
			t.Errorf("GET /admin/users/me = %v, want id %s, email admin@acme.test", u, uid)
		}
		for _, k := range []string{"first_name", "last_name", "avatar_url", "metadata", "created_at", "updated_at", "deleted_at"} {
			if _, ok := u[k]; !ok {
				t.Errorf("GET /admin/users/me: field %q missing from %v", k, u)
			}
		}
	})

	t.Run("get", func(t *testing.T) {
		body := wantStatus(t, "GET /admin/users/:id", env.Do(t, "GET", "/admin/users/"+uid, nil, as(tn, tok)...), 200)
		if u := obj(t, body, "user"); u["id"] != uid {
			t.Errorf("GET /admin/users/%s = %v", uid, u)
		}
		wantBody(t, "GET /admin/users/user_nope", env.Do(t, "GET", "/admin/users/user_nope", nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "User with id: user_nope was not found"})
	})

	t.Run("q search", func(t *testing.T) {
		// Behaviour 39: nobody matches "member" yet.
		body := wantStatus(t, "GET /admin/users?q=member", env.Do(t, "GET", "/admin/users?q=member", nil, as(tn, tok)...), 200)
		if got := list(t, body, "users"); len(got) != 0 || body["count"] != float64(0) || body["limit"] != float64(50) || body["offset"] != float64(0) {
			t.Errorf("GET /admin/users?q=member = %v, want users [], count 0, offset 0, limit 50", body)
		}
		mid := mkUser(t, env, tn, "jane.member@acme.test", "correct horse 2")
		for _, q := range []string{"member", "MEMBER", "jane"} {
			body := wantStatus(t, "GET /admin/users?q="+q, env.Do(t, "GET", "/admin/users?q="+q, nil, as(tn, tok)...), 200)
			if got := ids(list(t, body, "users")); !cmp.Equal(got, []string{mid}) || body["count"] != float64(1) {
				t.Errorf("GET /admin/users?q=%s = %v, want only %s", q, body, mid)
			}
		}
		body = wantStatus(t, "GET /admin/users", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 200)
		if got := ids(list(t, body, "users")); !contains(got, uid) || !contains(got, mid) {
			t.Errorf("GET /admin/users ids = %v, want %s and %s", got, uid, mid)
		}
	})

	t.Run("update", func(t *testing.T) {
		wantBody(t, "POST /admin/users/:id with email", env.Do(t, "POST", "/admin/users/"+uid, map[string]any{"email": "evil@acme.test"}, as(tn, tok)...), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'email'"})
		body := wantStatus(t, "POST /admin/users/:id", env.Do(t, "POST", "/admin/users/"+uid, map[string]any{"first_name": "Ada", "last_name": "Lovelace"}, as(tn, tok)...), 200)
		u := obj(t, body, "user")
		if u["first_name"] != "Ada" || u["last_name"] != "Lovelace" || u["email"] != "admin@acme.test" {
			t.Errorf("POST /admin/users/%s = %v, want Ada Lovelace, email unchanged", uid, u)
		}
		body = wantStatus(t, "POST /admin/users/:id null", env.Do(t, "POST", "/admin/users/"+uid, map[string]any{"first_name": nil}, as(tn, tok)...), 200)
		if u := obj(t, body, "user"); u["first_name"] != nil || u["last_name"] != "Lovelace" {
			t.Errorf("POST /admin/users/%s {first_name:null} = %v, want first_name cleared only", uid, u)
		}
		wantBody(t, "POST /admin/users/user_nope", env.Do(t, "POST", "/admin/users/user_nope", map[string]any{"first_name": "X"}, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "User with id: user_nope was not found"})
	})

	t.Run("auth providers", func(t *testing.T) {
		wantBody(t, "GET /admin/users/:id/auth-providers", env.Do(t, "GET", "/admin/users/"+uid+"/auth-providers", nil, as(tn, tok)...), 200,
			map[string]any{"providers": []any{"emailpass"}})
	})

	t.Run("delete self", func(t *testing.T) {
		wantBody(t, "DELETE own user", env.Do(t, "DELETE", "/admin/users/"+uid, nil, as(tn, tok)...), 400,
			map[string]any{"type": "not_allowed", "message": "A user cannot delete itself"})
		wantStatus(t, "GET /admin/users/me after refused self-delete", env.Do(t, "GET", "/admin/users/me", nil, as(tn, tok)...), 200)
	})

	t.Run("delete any id", func(t *testing.T) {
		wantBody(t, "DELETE /admin/users/member-user", env.Do(t, "DELETE", "/admin/users/member-user", nil, as(tn, tok)...), 200,
			map[string]any{"id": "member-user", "object": "user", "deleted": true})
	})

	t.Run("delete revokes the user's tokens", func(t *testing.T) {
		vid := mkUser(t, env, tn, "victim@acme.test", "correct horse 3")
		vtok := authToken(t, env, tn, "user", "", "victim@acme.test", "correct horse 3")
		wantStatus(t, "victim GET /admin/users before deletion", env.Do(t, "GET", "/admin/users", nil, as(tn, vtok)...), 200)

		wantBody(t, "DELETE victim", env.Do(t, "DELETE", "/admin/users/"+vid, nil, as(tn, tok)...), 200,
			map[string]any{"id": vid, "object": "user", "deleted": true})

		// Routes that load the user and routes that do not both refuse the token.
		for _, p := range []string{"/admin/users/me", "/admin/users", "/admin/invites", "/admin/api-keys"} {
			wantBody(t, "victim GET "+p+" after deletion", env.Do(t, "GET", p, nil, as(tn, vtok)...), 401, unauthorizedBody)
		}
		wantBody(t, "victim refresh after deletion", env.Do(t, "POST", "/auth/token/refresh", nil, as(tn, vtok)...), 401, unauthorizedBody)
		wantBody(t, "GET deleted user", env.Do(t, "GET", "/admin/users/"+vid, nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "User with id: " + vid + " was not found"})
		// The identity had no other actor, so it is gone too.
		wantBody(t, "victim login after deletion", env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "victim@acme.test", "password": "correct horse 3"}, as(tn, "")...), 401,
			map[string]any{"type": "unauthorized", "message": "Invalid email or password"})
		// The deleting admin is unaffected.
		wantStatus(t, "admin GET /admin/users/me after deleting another user", env.Do(t, "GET", "/admin/users/me", nil, as(tn, tok)...), 200)
	})

	t.Run("reset-password token works once", func(t *testing.T) {
		rid := mkUser(t, env, tn, "reset@acme.test", "correct horse 4")
		old := authToken(t, env, tn, "user", "", "reset@acme.test", "correct horse 4")

		body := wantStatus(t, "POST /admin/users/:id/reset-password", env.Do(t, "POST", "/admin/users/"+rid+"/reset-password", nil, as(tn, tok)...), 200)
		rtok, _ := body["token"].(string)
		if rtok == "" || len(body) != 1 {
			t.Fatalf("POST /admin/users/%s/reset-password = %v, want exactly {token}", rid, body)
		}
		// A reset token is not an access token.
		wantBody(t, "reset token as admin bearer", env.Do(t, "GET", "/admin/users/me", nil, as(tn, rtok)...), 401, unauthorizedBody)

		update := func() *apitest.Response {
			return env.Do(t, "POST", "/auth/user/emailpass/update", map[string]any{"password": "brand new horse 5"}, as(tn, rtok)...)
		}
		wantBody(t, "first update", update(), 200, map[string]any{"success": true})
		wantBody(t, "second update with the same token", update(), 401, map[string]any{"type": "unauthorized", "message": "Invalid token"})

		authToken(t, env, tn, "user", "", "reset@acme.test", "brand new horse 5")
		wantBody(t, "login with the old password", env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "reset@acme.test", "password": "correct horse 4"}, as(tn, "")...), 401,
			map[string]any{"type": "unauthorized", "message": "Invalid email or password"})
		// Gatehouse difference 1: a password reset revokes earlier tokens.
		wantBody(t, "token issued before the reset", env.Do(t, "GET", "/admin/users/me", nil, as(tn, old)...), 401, unauthorizedBody)

		wantBody(t, "reset-password of an unknown user", env.Do(t, "POST", "/admin/users/user_nope/reset-password", nil, as(tn, tok)...), 404,
			map[string]any{"type": "not_found", "message": "User with id: user_nope was not found"})
	})
}

// TestUsersCrossTenant checks that tenant B's admin can neither authenticate
// on tenant A nor see or touch tenant A's users.
func TestUsersCrossTenant(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	aid, atok := env.Admin(t, a, "admin@acme.test", "correct horse 1")
	bid, btok := env.Admin(t, b, "admin@globex.test", "correct horse 1")

	t.Run("B's token on A", func(t *testing.T) {
		for _, p := range []string{"/admin/users/me", "/admin/users", "/admin/users/" + aid, "/admin/invites", "/admin/api-keys", "/admin/sales-channels"} {
			wantBody(t, "B token GET "+p+" on A", env.Do(t, "GET", p, nil, as(a, btok)...), 401, unauthorizedBody)
		}
		wantBody(t, "B token POST /admin/invites on A", env.Do(t, "POST", "/admin/invites", map[string]any{"email": "x@acme.test"}, as(a, btok)...), 401, unauthorizedBody)
		wantBody(t, "B token DELETE A's user on A", env.Do(t, "DELETE", "/admin/users/"+aid, nil, as(a, btok)...), 401, unauthorizedBody)
		// The same through the path prefix: /t/acme with globex's token.
		wantBody(t, "B token GET /t/acme/admin/users/me", env.Do(t, "GET", "/t/acme/admin/users/me", nil, "Authorization", "Bearer "+btok), 401, unauthorizedBody)
		wantBody(t, "B token refresh on A", env.Do(t, "POST", "/auth/token/refresh", nil, as(a, btok)...), 401, unauthorizedBody)
	})

	t.Run("A's user ids through B", func(t *testing.T) {
		nf := map[string]any{"type": "not_found", "message": "User with id: " + aid + " was not found"}
		wantBody(t, "B GET A's user", env.Do(t, "GET", "/admin/users/"+aid, nil, as(b, btok)...), 404, nf)
		wantBody(t, "B POST A's user", env.Do(t, "POST", "/admin/users/"+aid, map[string]any{"first_name": "Pwned"}, as(b, btok)...), 404, nf)
		wantBody(t, "B auth-providers of A's user", env.Do(t, "GET", "/admin/users/"+aid+"/auth-providers", nil, as(b, btok)...), 404, nf)
		wantBody(t, "B reset-password of A's user", env.Do(t, "POST", "/admin/users/"+aid+"/reset-password", nil, as(b, btok)...), 404, nf)

		body := wantStatus(t, "B GET /admin/users", env.Do(t, "GET", "/admin/users?limit=100", nil, as(b, btok)...), 200)
		if got := ids(list(t, body, "users")); !cmp.Equal(got, []string{bid}) {
			t.Errorf("B GET /admin/users ids = %v, want only %s", got, bid)
		}
		body = wantStatus(t, "B GET /admin/users?q=acme", env.Do(t, "GET", "/admin/users?q=acme", nil, as(b, btok)...), 200)
		if got := list(t, body, "users"); len(got) != 0 {
			t.Errorf("B GET /admin/users?q=acme = %v, want []", got)
		}
		body = wantStatus(t, "B GET /admin/users?id=A", env.Do(t, "GET", "/admin/users?id="+aid, nil, as(b, btok)...), 200)
		if got := list(t, body, "users"); len(got) != 0 {
			t.Errorf("B GET /admin/users?id=%s = %v, want []", aid, got)
		}

		// Deleting an unknown id answers 200 (Medusa); A's user must survive it.
		wantBody(t, "B DELETE A's user", env.Do(t, "DELETE", "/admin/users/"+aid, nil, as(b, btok)...), 200,
			map[string]any{"id": aid, "object": "user", "deleted": true})
		body = wantStatus(t, "A GET /admin/users/me after B's delete", env.Do(t, "GET", "/admin/users/me", nil, as(a, atok)...), 200)
		if u := obj(t, body, "user"); u["id"] != aid || u["first_name"] != nil {
			t.Errorf("A's user after B's requests = %v, want untouched", u)
		}
		authToken(t, env, a, "user", "", "admin@acme.test", "correct horse 1")
	})

	t.Run("same email in both tenants", func(t *testing.T) {
		// Users are unique per tenant, not globally.
		if _, err := env.Auth.CreateUser(context.Background(), auth.CreateUserInput{Email: "x@y.test", Password: "correct horse 1"}); err == nil {
			t.Errorf("CreateUser without a tenant = nil error, want one")
		}
		mkUser(t, env, a, "shared@both.test", "correct horse 1")
		mkUser(t, env, b, "shared@both.test", "correct horse 2")
		authToken(t, env, a, "user", "", "shared@both.test", "correct horse 1")
		authToken(t, env, b, "user", "", "shared@both.test", "correct horse 2")
		wantBody(t, "A's password on B", env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "shared@both.test", "password": "correct horse 1"}, as(b, "")...), 401,
			map[string]any{"type": "unauthorized", "message": "Invalid email or password"})
	})
}
