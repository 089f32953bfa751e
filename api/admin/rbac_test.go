package admin_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/rbac"
)

var forbiddenBody = map[string]any{"type": "forbidden", "message": "Forbidden"}

func insufficient(keys ...string) map[string]any {
	return map[string]any{"type": "forbidden", "message": "Insufficient permissions. Required policies: " + strings.Join(keys, ", ")}
}

// inviteWith makes an admin user through an invite carrying roles (none:
// a role-less user) and returns its id and a login token.
func inviteWith(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, email string, roles ...string) (string, string) {
	t.Helper()
	body := map[string]any{"email": email}
	if len(roles) > 0 {
		body["roles"] = roles
	}
	inv := obj(t, wantStatus(t, "POST /admin/invites "+email, env.Do(t, "POST", "/admin/invites", body, as(tn, tok)...), 200), "invite")
	itok, _ := inv["token"].(string)
	reg := authToken(t, env, tn, "user", "/register", email, "correct horse 1")
	u := obj(t, wantStatus(t, "accept "+email, accept(t, env, tn, itok, reg, nil), 200), "user")
	id, _ := u["id"].(string)
	return id, authToken(t, env, tn, "user", "", email, "correct horse 1")
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenRoles(t *testing.T, tok string) []string {
	t.Helper()
	app, _ := claims(t, tok)["app_metadata"].(map[string]any)
	raw, _ := app["roles"].([]any)
	out := []string{}
	for _, r := range raw {
		out = append(out, r.(string))
	}
	return out
}

// policyID finds the id of the policy with key in tn.
func policyID(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, key string) string {
	t.Helper()
	ps := list(t, wantStatus(t, "GET /admin/rbac/policies?key="+key, env.Do(t, "GET", "/admin/rbac/policies?key="+key, nil, as(tn, tok)...), 200), "policies")
	if len(ps) != 1 {
		t.Fatalf("GET /admin/rbac/policies?key=%s = %v, want one policy", key, ps)
	}
	return ps[0]["id"].(string)
}

// mkRole creates a role holding the policies with these keys.
func mkRole(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, name string, keys ...string) string {
	t.Helper()
	pids := []string{}
	for _, k := range keys {
		pids = append(pids, policyID(t, env, tn, tok, k))
	}
	r := obj(t, wantStatus(t, "POST /admin/rbac/roles "+name, env.Do(t, "POST", "/admin/rbac/roles",
		map[string]any{"name": name, "policy_ids": pids}, as(tn, tok)...), 200), "role")
	id, _ := r["id"].(string)
	if !strings.HasPrefix(id, "role_") {
		t.Fatalf("POST /admin/rbac/roles = %v, want a role_… id", r)
	}
	return id
}

// TestRBACDecisionTable checks, for each built-in role (and a role-less user,
// and secret keys made by those users), which routes answer 200 and which
// 403 with which body.
func TestRBACDecisionTable(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	_, adminTok := inviteWith(t, env, tn, superTok, "admin@acme.test", rbac.RoleAdmin)
	_, viewerTok := inviteWith(t, env, tn, superTok, "viewer@acme.test", rbac.RoleViewer)
	_, noneTok := inviteWith(t, env, tn, superTok, "none@acme.test")
	_, superKey := mkKey(t, env, tn, superTok, "super key", "secret")
	_, adminKey := mkKey(t, env, tn, adminTok, "admin key", "secret")

	type actor struct {
		name    string
		headers []string
	}
	actors := map[string]actor{
		"super":     {"super admin", as(tn, superTok)},
		"admin":     {"admin", as(tn, adminTok)},
		"viewer":    {"viewer", as(tn, viewerTok)},
		"none":      {"role-less", as(tn, noneTok)},
		"superKey":  {"super admin's key", basic(tn, superKey)},
		"adminKey":  {"admin's key", basic(tn, adminKey)},
		"anonymous": {"no credentials", as(tn, "")},
	}
	ok := map[string]any{} // 200, any body
	cases := []struct {
		method, path string
		body         any
		want         map[string]map[string]any // actor → body (ok: 200)
	}{
		{"GET", "/admin/users", nil, map[string]map[string]any{"super": ok, "admin": ok, "viewer": ok, "none": forbiddenBody,
			"superKey": ok, "adminKey": ok, "anonymous": unauthorizedBody}},
		{"GET", "/admin/users/me", nil, map[string]map[string]any{"super": ok, "admin": ok, "viewer": ok, "none": ok}},
		{"GET", "/admin/api-keys", nil, map[string]map[string]any{"super": ok, "admin": ok, "viewer": ok, "none": forbiddenBody,
			"superKey": ok, "adminKey": ok}},
		{"POST", "/admin/api-keys", map[string]any{"title": "t", "type": "publishable"}, map[string]map[string]any{
			"super": ok, "admin": ok, "viewer": insufficient("api_key:create"), "none": forbiddenBody, "adminKey": ok}},
		{"POST", "/admin/sales-channels", map[string]any{"name": "web"}, map[string]map[string]any{
			"super": ok, "admin": ok, "viewer": insufficient("sales_channel:create"), "none": forbiddenBody}},
		{"GET", "/admin/sales-channels", nil, map[string]map[string]any{"super": ok, "admin": ok, "viewer": ok, "none": forbiddenBody}},
		{"POST", "/admin/invites", map[string]any{"email": "x@acme.test"}, map[string]map[string]any{
			"viewer": insufficient("invite:create"), "none": forbiddenBody}},
		{"DELETE", "/admin/users/user_unknown", nil, map[string]map[string]any{
			"super": ok, "admin": ok, "viewer": insufficient("user:delete"), "none": forbiddenBody}},
		{"GET", "/admin/rbac/roles", nil, map[string]map[string]any{"super": ok, "admin": ok, "viewer": ok, "none": forbiddenBody,
			"adminKey": ok}},
		{"GET", "/admin/rbac/policies", nil, map[string]map[string]any{"super": ok, "admin": ok, "viewer": ok, "none": forbiddenBody}},
		{"POST", "/admin/rbac/roles/role_viewer", map[string]any{"description": "Reads"}, map[string]map[string]any{
			"super": ok, "admin": insufficient("rbac_role:update"), "viewer": insufficient("rbac_role:update"),
			"none": forbiddenBody, "superKey": ok, "adminKey": insufficient("rbac_role:update")}},
		{"GET", "/admin/rbac/me/permissions", nil, map[string]map[string]any{"super": ok, "viewer": ok, "none": ok}},
	}
	for _, c := range cases {
		for who, want := range c.want {
			a := actors[who]
			t.Run(a.name+" "+c.method+" "+c.path, func(t *testing.T) {
				r := env.Do(t, c.method, c.path, c.body, a.headers...)
				if len(want) == 0 {
					wantStatus(t, c.method+" "+c.path, r, 200)
					return
				}
				status := 403
				if want["message"] == "Unauthorized" {
					status = 401
				}
				wantBody(t, c.method+" "+c.path, r, status, want)
			})
		}
	}

	t.Run("permissions", func(t *testing.T) {
		got := env.Do(t, "GET", "/admin/rbac/me/permissions", nil, as(tn, viewerTok)...).JSON["permissions"].([]any)
		if len(got) != len(rbac.Resources) || !slices.Contains(got, any("user:read")) || slices.Contains(got, any("user:update")) {
			t.Errorf("viewer permissions = %v, want the %d read policies", got, len(rbac.Resources))
		}
		got = env.Do(t, "GET", "/admin/rbac/me/permissions", nil, as(tn, superTok)...).JSON["permissions"].([]any)
		if len(got) != len(rbac.Resources)*len(rbac.Operations) {
			t.Errorf("super admin permissions = %d keys, want every code-registered policy (%d)", len(got), len(rbac.Resources)*len(rbac.Operations))
		}
		got = env.Do(t, "GET", "/admin/rbac/me/permissions", nil, as(tn, noneTok)...).JSON["permissions"].([]any)
		if len(got) != 0 {
			t.Errorf("role-less permissions = %v, want none", got)
		}
	})
	t.Run("token roles", func(t *testing.T) {
		if got := tokenRoles(t, superTok); !slices.Equal(got, []string{rbac.RoleSuperAdmin}) {
			t.Errorf("super admin JWT app_metadata.roles = %v, want [role_super_admin]", got)
		}
		if got := tokenRoles(t, viewerTok); !slices.Equal(got, []string{rbac.RoleViewer}) {
			t.Errorf("viewer JWT app_metadata.roles = %v, want [role_viewer]", got)
		}
		if got := tokenRoles(t, noneTok); len(got) != 0 {
			t.Errorf("role-less JWT app_metadata.roles = %v, want none", got)
		}
	})
}

// TestRBACMedusaBehaviours adapts behaviours 72-75 of the contract to RBAC
// on by default.
func TestRBACMedusaBehaviours(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	_, adminTok := inviteWith(t, env, tn, superTok, "admin@acme.test", rbac.RoleAdmin)
	uid, noneTok := inviteWith(t, env, tn, superTok, "none@acme.test")

	// 72: a role with a policy the actor lacks is refused, and not created.
	pid := policyID(t, env, tn, superTok, "rbac_role:delete")
	wantBody(t, "72 POST /admin/rbac/roles beyond the actor's policies", env.Do(t, "POST", "/admin/rbac/roles",
		map[string]any{"name": "sneaky", "policy_ids": []string{pid}}, as(tn, adminTok)...), 403,
		map[string]any{"type": "forbidden", "message": "You do not have access to some of the policies you are trying to assign."})
	if rs := list(t, wantStatus(t, "GET roles", env.Do(t, "GET", "/admin/rbac/roles?name=sneaky", nil, as(tn, superTok)...), 200), "roles"); len(rs) != 0 {
		t.Errorf("72: role created anyway: %v", rs)
	}
	// A role-less actor gets Medusa's bare Forbidden.
	wantBody(t, "72 role-less actor", env.Do(t, "POST", "/admin/rbac/roles",
		map[string]any{"name": "sneaky", "policy_ids": []string{pid}}, as(tn, noneTok)...), 403, forbiddenBody)

	// 73: the list shows role_super_admin "Super Admin".
	rs := list(t, wantStatus(t, "73 GET /admin/rbac/roles", env.Do(t, "GET", "/admin/rbac/roles", nil, as(tn, superTok)...), 200), "roles")
	found := false
	for _, r := range rs {
		found = found || r["id"] == "role_super_admin" && r["name"] == "Super Admin"
	}
	if !found {
		t.Errorf("73: GET /admin/rbac/roles = %v, want role_super_admin 'Super Admin'", rs)
	}
	wantStatus(t, "73 GET /admin/rbac/roles/role_super_admin", env.Do(t, "GET", "/admin/rbac/roles/role_super_admin", nil, as(tn, superTok)...), 200)

	// 74: no roles → Forbidden; a role without the policy → Insufficient; no credentials → 401.
	wantBody(t, "74 role-less", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, noneTok)...), 403, forbiddenBody)
	role := mkRole(t, env, tn, superTok, "channels reader", "sales_channel:read")
	wantStatus(t, "assign", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{role}}, as(tn, superTok)...), 200)
	wantStatus(t, "74 allowed route", env.Do(t, "GET", "/admin/sales-channels", nil, as(tn, noneTok)...), 200)
	wantBody(t, "74 other route", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, noneTok)...), 403, insufficient("api_key:read"))
	wantBody(t, "74 no credentials", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, "")...), 401, unauthorizedBody)
	// The next login carries the role in app_metadata.roles.
	if got := tokenRoles(t, authToken(t, env, tn, "user", "", "none@acme.test", "correct horse 1")); !slices.Equal(got, []string{role}) {
		t.Errorf("JWT roles after assignment = %v, want [%s]", got, role)
	}

	// 75 (RBAC is on by default): /admin/rbac/roles is routed, and a role-less
	// user does not keep full access.
	wantBody(t, "75 unknown role", env.Do(t, "GET", "/admin/rbac/roles/role_nope", nil, as(tn, superTok)...), 404,
		map[string]any{"type": "not_found", "message": "Role with id: role_nope not found"})
}

// TestRBACRoleRemovalNextRequest removes a role, and a policy from a role,
// and expects the very next request with the same token to be refused.
func TestRBACRoleRemovalNextRequest(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	uid, tok := inviteWith(t, env, tn, superTok, "viewer@acme.test", rbac.RoleViewer)
	wantStatus(t, "before removal", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 200)
	wantBody(t, "DELETE role", env.Do(t, "DELETE", "/admin/users/"+uid+"/roles/role_viewer", nil, as(tn, superTok)...), 200,
		map[string]any{"id": "role_viewer", "object": "user_role", "deleted": true})
	wantBody(t, "next request", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 403, forbiddenBody)

	role := mkRole(t, env, tn, superTok, "readers", "user:read", "invite:read")
	wantStatus(t, "assign", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{role}}, as(tn, superTok)...), 200)
	wantStatus(t, "with role", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 200)
	pid := policyID(t, env, tn, superTok, "user:read")
	wantStatus(t, "DELETE policy", env.Do(t, "DELETE", "/admin/rbac/roles/"+role+"/policies/"+pid, nil, as(tn, superTok)...), 200)
	wantBody(t, "after policy removal", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 403, insufficient("user:read"))
	wantStatus(t, "other policy kept", env.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...), 200)
	wantStatus(t, "DELETE role", env.Do(t, "DELETE", "/admin/rbac/roles/"+role, nil, as(tn, superTok)...), 200)
	wantBody(t, "after role deletion", env.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...), 403, forbiddenBody)

	// A key loses its roles the same way.
	kid, raw := mkKey(t, env, tn, superTok, "k", "secret")
	roles := list(t, wantStatus(t, "GET key roles", env.Do(t, "GET", "/admin/api-keys/"+kid+"/roles", nil, as(tn, superTok)...), 200), "roles")
	if got := ids(roles); !slices.Equal(got, []string{rbac.RoleSuperAdmin}) {
		t.Errorf("new key's roles = %v, want its creator's [role_super_admin]", got)
	}
	wantStatus(t, "key before", env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...), 200)
	wantBody(t, "DELETE key roles", env.Do(t, "DELETE", "/admin/api-keys/"+kid+"/roles", map[string]any{"roles": []string{rbac.RoleSuperAdmin}}, as(tn, superTok)...), 200,
		map[string]any{"ids": []any{rbac.RoleSuperAdmin}, "object": "api_key_role", "deleted": true})
	wantBody(t, "key after", env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...), 403, forbiddenBody)
	wantStatus(t, "POST key roles", env.Do(t, "POST", "/admin/api-keys/"+kid+"/roles", map[string]any{"roles": []string{rbac.RoleViewer}}, as(tn, superTok)...), 200)
	wantStatus(t, "key as viewer", env.Do(t, "GET", "/admin/users", nil, basic(tn, raw)...), 200)
	wantBody(t, "key as viewer writes", env.Do(t, "POST", "/admin/sales-channels", map[string]any{"name": "x"}, basic(tn, raw)...), 403, insufficient("sales_channel:create"))
}

// TestRBACEscalationGuards: nobody grants what they do not hold, roles cannot
// inherit in a circle, and a tenant keeps a super admin.
func TestRBACEscalationGuards(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	superID, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	manager := mkRole(t, env, tn, superTok, "role managers", "user:read", "user:update", "rbac_role:read", "rbac_role:update")
	_, mgrTok := inviteWith(t, env, tn, superTok, "mgr@acme.test", manager)
	uid, _ := inviteWith(t, env, tn, superTok, "u@acme.test")
	small := mkRole(t, env, tn, superTok, "user readers", "user:read")

	roleDenied := map[string]any{"type": "forbidden", "message": "You do not have permission to assign these roles"}
	policyDenied := map[string]any{"type": "forbidden", "message": "You do not have access to some of the policies you are trying to assign."}
	wantBody(t, "assign super admin", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{rbac.RoleSuperAdmin}}, as(tn, mgrTok)...), 403, roleDenied)
	wantBody(t, "assign viewer", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{rbac.RoleViewer}}, as(tn, mgrTok)...), 403, roleDenied)
	wantStatus(t, "assign a held role", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{small}}, as(tn, mgrTok)...), 200)
	pid := policyID(t, env, tn, superTok, "api_key:delete")
	wantBody(t, "add a policy not held", env.Do(t, "POST", "/admin/rbac/roles/"+small+"/policies", map[string]any{"policies": []string{pid}}, as(tn, mgrTok)...), 403, policyDenied)
	wantBody(t, "inherit from super admin", env.Do(t, "POST", "/admin/rbac/roles/"+small, map[string]any{"parent_id": rbac.RoleSuperAdmin}, as(tn, mgrTok)...), 403, policyDenied)
	inviter := mkRole(t, env, tn, superTok, "inviters", "invite:create", "user:read")
	_, invTok := inviteWith(t, env, tn, superTok, "inviter@acme.test", inviter)
	wantBody(t, "invite with a role not held", env.Do(t, "POST", "/admin/invites", map[string]any{"email": "x@acme.test", "roles": []string{rbac.RoleViewer}}, as(tn, invTok)...), 403, roleDenied)
	wantStatus(t, "invite with a held role", env.Do(t, "POST", "/admin/invites", map[string]any{"email": "x@acme.test", "roles": []string{small}}, as(tn, invTok)...), 200)
	wantBody(t, "unknown role", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{"role_nope"}}, as(tn, superTok)...), 404,
		map[string]any{"type": "not_found", "message": "Role with id: role_nope not found"})
	wantBody(t, "unknown policy", env.Do(t, "POST", "/admin/rbac/roles", map[string]any{"name": "n", "policy_ids": []string{"rpol_nope"}}, as(tn, superTok)...), 404,
		map[string]any{"type": "not_found", "message": "The following policies do not exist: rpol_nope"})
	wantBody(t, "unknown user", env.Do(t, "GET", "/admin/users/user_nope/roles", nil, as(tn, superTok)...), 404,
		map[string]any{"type": "not_found", "message": "User with id: user_nope was not found"})

	// Parents are evaluated, and cannot form a cycle.
	child := mkRole(t, env, tn, superTok, "child")
	wantStatus(t, "set parent", env.Do(t, "POST", "/admin/rbac/roles/"+child, map[string]any{"parent_id": small}, as(tn, superTok)...), 200)
	r := env.Do(t, "POST", "/admin/rbac/roles/"+small, map[string]any{"parent_id": child}, as(tn, superTok)...)
	if r.Status != 400 {
		t.Errorf("cycle: status = %d, want 400 (body %s)", r.Status, r.Body)
	}
	cid, ctok := inviteWith(t, env, tn, superTok, "child@acme.test", child)
	wantStatus(t, "inherited user:read", env.Do(t, "GET", "/admin/users/"+cid, nil, as(tn, ctok)...), 200)
	wantBody(t, "not inherited", env.Do(t, "GET", "/admin/invites", nil, as(tn, ctok)...), 403, insufficient("invite:read"))

	// The last super admin keeps the role; role_super_admin stays as it is.
	lastBody := map[string]any{"type": "not_allowed", "message": "The last super admin of a tenant cannot lose the role_super_admin role"}
	wantBody(t, "last super admin", env.Do(t, "DELETE", "/admin/users/"+superID+"/roles/role_super_admin", nil, as(tn, superTok)...), 400, lastBody)
	wantStatus(t, "still super", env.Do(t, "GET", "/admin/users", nil, as(tn, superTok)...), 200)
	r = env.Do(t, "DELETE", "/admin/rbac/roles/role_super_admin", nil, as(tn, superTok)...)
	if r.Status != 400 {
		t.Errorf("DELETE role_super_admin: status = %d, want 400 (body %s)", r.Status, r.Body)
	}
	wantStatus(t, "second super admin", env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{rbac.RoleSuperAdmin}}, as(tn, superTok)...), 200)
	wantStatus(t, "now removable", env.Do(t, "DELETE", "/admin/users/"+superID+"/roles/role_super_admin", nil, as(tn, superTok)...), 200)
	wantBody(t, "former super admin", env.Do(t, "GET", "/admin/users", nil, as(tn, superTok)...), 403, forbiddenBody)
}

// TestRBACTenantIsolation: tenant A's roles, assignments and keys grant
// nothing in tenant B.
func TestRBACTenantIsolation(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	aID, aTok := env.Admin(t, a, "super@acme.test", "correct horse 1")
	_, bTok := env.Admin(t, b, "super@globex.test", "correct horse 1")
	role := mkRole(t, env, a, aTok, "acme only", "user:read")
	_, aKey := mkKey(t, env, a, aTok, "acme key", "secret")

	authz := env.RBAC.Authorizer()
	if ok, err := authz.Allowed(env.Ctx(a), rbac.UserSubject(aID), "user", "read"); err != nil || !ok {
		t.Errorf("Allowed(A admin in A) = %v, %v, want true", ok, err)
	}
	if ok, err := authz.Allowed(env.Ctx(b), rbac.UserSubject(aID), "user", "read"); err != nil || ok {
		t.Errorf("Allowed(A admin in B) = %v, %v, want false", ok, err)
	}
	wantBody(t, "A's token in B", env.Do(t, "GET", "/admin/users", nil, as(b, aTok)...), 401, unauthorizedBody)
	wantBody(t, "A's key in B", env.Do(t, "GET", "/admin/users", nil, basic(b, aKey)...), 401, unauthorizedBody)
	wantBody(t, "A's role from B", env.Do(t, "GET", "/admin/rbac/roles/"+role, nil, as(b, bTok)...), 404,
		map[string]any{"type": "not_found", "message": "Role with id: " + role + " not found"})
	wantBody(t, "assign A's role in B", env.Do(t, "POST", "/admin/users/"+aID+"/roles", map[string]any{"roles": []string{role}}, as(b, bTok)...), 404,
		map[string]any{"type": "not_found", "message": "User with id: " + aID + " was not found"})
	bUsers := list(t, wantStatus(t, "B users", env.Do(t, "GET", "/admin/users", nil, as(b, bTok)...), 200), "users")
	wantBody(t, "assign A's role to a B user", env.Do(t, "POST", "/admin/users/"+ids(bUsers)[0]+"/roles", map[string]any{"roles": []string{role}}, as(b, bTok)...), 404,
		map[string]any{"type": "not_found", "message": "Role with id: " + role + " not found"})
	// Both tenants have their own role_super_admin, under the same id.
	for _, tn := range []*ent.Tenant{a, b} {
		tok := aTok
		if tn == b {
			tok = bTok
		}
		n := wantStatus(t, "roles of "+tn.Slug, env.Do(t, "GET", "/admin/rbac/roles", nil, as(tn, tok)...), 200)["count"].(float64)
		want := 3.0
		if tn == a {
			want = 4
		}
		if n != want {
			t.Errorf("tenant %s has %v roles, want %v", tn.Slug, n, want)
		}
	}
}

// TestRBACPolicyChangeOnSecondNode changes a role's policies on one node and
// expects the other node (same database, same Redis) to decide on the new
// policies within 100 ms. Without Redis there is no channel between the two
// processes, so only node 1 is checked.
func TestRBACPolicyChangeOnSecondNode(t *testing.T) {
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
	_, superTok := n1.Admin(t, tn, "super@acme.test", "correct horse 1")
	role := mkRole(t, n1, tn, superTok, "channels", "sales_channel:read")
	_, tok := inviteWith(t, n1, tn, superTok, "u@acme.test", role)
	nodes := []*apitest.Env{n1}
	if shared {
		nodes = append(nodes, n2)
	} else {
		t.Logf("%s unset: node 2 has its own memory store, checking node 1 only", apitest.RedisEnv)
	}
	for _, n := range nodes {
		wantStatus(t, "allowed before", n.Do(t, "GET", "/admin/sales-channels", nil, as(tn, tok)...), 200)
		wantBody(t, "denied before", n.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...), 403, insufficient("invite:read"))
	}
	pid := policyID(t, n1, tn, superTok, "invite:read")
	wantStatus(t, "add policy on node 1", n1.Do(t, "POST", "/admin/rbac/roles/"+role+"/policies", map[string]any{"policies": []string{pid}}, as(tn, superTok)...), 200)
	wantStatus(t, "node 1 next request", n1.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...), 200)
	if !shared {
		return
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for {
		r := n2.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...)
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2 still answers %d %s 100 ms after the policy change", r.Status, r.Body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRBACLastSuperAdminNotDeleted: deleting the only super admin is
// refused; another user's assignments go with the user.
func TestRBACLastSuperAdminNotDeleted(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	superID, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	_, adminTok := inviteWith(t, env, tn, superTok, "admin@acme.test", rbac.RoleAdmin)
	wantBody(t, "delete the last super admin", env.Do(t, "DELETE", "/admin/users/"+superID, nil, as(tn, adminTok)...), 400,
		map[string]any{"type": "not_allowed", "message": "The last super admin of a tenant cannot lose the role_super_admin role"})
	wantStatus(t, "super admin kept", env.Do(t, "GET", "/admin/users/"+superID, nil, as(tn, superTok)...), 200)
	vid, _ := inviteWith(t, env, tn, superTok, "viewer@acme.test", rbac.RoleViewer)
	wantStatus(t, "delete a viewer", env.Do(t, "DELETE", "/admin/users/"+vid, nil, as(tn, adminTok)...), 200)
	if rs, err := env.RBAC.RoleIDs(env.Ctx(tn), rbac.UserSubject(vid)); err != nil || len(rs) != 0 {
		t.Errorf("deleted user's roles = %v, %v, want none", rs, err)
	}
}
