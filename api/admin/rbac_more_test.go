package admin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/rbac"
)

// mkPolicy creates a policy resource:operation and returns its id.
func mkPolicy(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok, resource, operation string) string {
	t.Helper()
	p := obj(t, wantStatus(t, "POST /admin/rbac/policies "+resource+":"+operation, env.Do(t, "POST", "/admin/rbac/policies",
		map[string]any{"key": resource + ":" + operation, "resource": resource, "operation": operation}, as(tn, tok)...), 200), "policy")
	id, _ := p["id"].(string)
	if !strings.HasPrefix(id, "rpol_") {
		t.Fatalf("POST /admin/rbac/policies = %v, want an rpol_… id", p)
	}
	return id
}

func notFound(msg string) map[string]any { return map[string]any{"type": "not_found", "message": msg} }

// TestRBACPolicyRoutes: create, update, delete a policy and list the roles
// holding it.
func TestRBACPolicyRoutes(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	_, viewerTok := inviteWith(t, env, tn, superTok, "viewer@acme.test", rbac.RoleViewer)
	_, noneTok := inviteWith(t, env, tn, superTok, "none@acme.test")

	// Create.
	p := obj(t, wantStatus(t, "create", env.Do(t, "POST", "/admin/rbac/policies", map[string]any{"key": "report:export",
		"resource": "report", "operation": "export", "name": "ExportReport", "metadata": map[string]any{"a": "b"}}, as(tn, superTok)...), 200), "policy")
	pid, _ := p["id"].(string)
	if !strings.HasPrefix(pid, "rpol_") || p["key"] != "report:export" || p["resource"] != "report" || p["operation"] != "export" ||
		p["name"] != "ExportReport" || p["description"] != nil {
		t.Errorf("created policy = %v", p)
	}
	r := env.Do(t, "POST", "/admin/rbac/policies", map[string]any{"key": "report:export", "resource": "report", "operation": "export"}, as(tn, superTok)...)
	if r.Status != 422 || r.JSON["type"] != "duplicate_error" {
		t.Errorf("duplicate key: %d %s, want 422 duplicate_error", r.Status, r.Body)
	}
	wantStatus(t, "missing key", env.Do(t, "POST", "/admin/rbac/policies", map[string]any{"resource": "report", "operation": "x"}, as(tn, superTok)...), 400)
	wantStatus(t, "unknown field", env.Do(t, "POST", "/admin/rbac/policies", map[string]any{"key": "a:b", "resource": "a", "operation": "b", "nope": 1}, as(tn, superTok)...), 400)
	wantStatus(t, "get", env.Do(t, "GET", "/admin/rbac/policies/"+pid, nil, as(tn, superTok)...), 200)

	// Update.
	p = obj(t, wantStatus(t, "update", env.Do(t, "POST", "/admin/rbac/policies/"+pid, map[string]any{"name": nil, "description": "Exports"},
		as(tn, superTok)...), 200), "policy")
	if p["name"] != nil || p["description"] != "Exports" || p["key"] != "report:export" {
		t.Errorf("updated policy = %v", p)
	}
	wantBody(t, "update unknown", env.Do(t, "POST", "/admin/rbac/policies/rpol_nope", map[string]any{"name": "x"}, as(tn, superTok)...), 404,
		notFound(`Policy with id "rpol_nope" not found`))
	wantStatus(t, "update super admin policy", env.Do(t, "POST", "/admin/rbac/policies/"+rbac.PolicySuperAdmin, map[string]any{"resource": "user"}, as(tn, superTok)...), 400)

	// Roles holding it.
	role := mkRole(t, env, tn, superTok, "exporters", "report:export")
	body := wantStatus(t, "policy roles", env.Do(t, "GET", "/admin/rbac/policies/"+pid+"/roles", nil, as(tn, superTok)...), 200)
	if got := ids(list(t, body, "roles")); !slices.Equal(got, []string{role}) || body["count"] != 1.0 || body["limit"] != 10.0 {
		t.Errorf("GET policy roles = %v, want [%s] with count 1, limit 10", body, role)
	}
	body = wantStatus(t, "super admin policy roles", env.Do(t, "GET", "/admin/rbac/policies/"+rbac.PolicySuperAdmin+"/roles", nil, as(tn, superTok)...), 200)
	if got := ids(list(t, body, "roles")); !slices.Equal(got, []string{rbac.RoleSuperAdmin}) {
		t.Errorf("roles holding rpol_super_admin = %v", got)
	}
	wantBody(t, "roles of unknown policy", env.Do(t, "GET", "/admin/rbac/policies/rpol_nope/roles", nil, as(tn, superTok)...), 404,
		notFound("Policy with id: rpol_nope not found"))

	// Viewer and role-less actors.
	wantStatus(t, "viewer lists policy roles", env.Do(t, "GET", "/admin/rbac/policies/"+pid+"/roles", nil, as(tn, viewerTok)...), 200)
	for _, c := range []struct {
		method, path string
		body         any
		key          string
	}{
		{"POST", "/admin/rbac/policies", map[string]any{"key": "a:b", "resource": "a", "operation": "b"}, "rbac_policy:create"},
		{"POST", "/admin/rbac/policies/" + pid, map[string]any{"name": "x"}, "rbac_policy:update"},
		{"DELETE", "/admin/rbac/policies/" + pid, nil, "rbac_policy:delete"},
	} {
		wantBody(t, "viewer "+c.method+" "+c.path, env.Do(t, c.method, c.path, c.body, as(tn, viewerTok)...), 403, insufficient(c.key))
		wantBody(t, "role-less "+c.method+" "+c.path, env.Do(t, c.method, c.path, c.body, as(tn, noneTok)...), 403, forbiddenBody)
	}
	wantBody(t, "role-less policy roles", env.Do(t, "GET", "/admin/rbac/policies/"+pid+"/roles", nil, as(tn, noneTok)...), 403, forbiddenBody)

	// Delete.
	wantBody(t, "delete", env.Do(t, "DELETE", "/admin/rbac/policies/"+pid, nil, as(tn, superTok)...), 200,
		map[string]any{"id": pid, "object": "rbac_policy", "deleted": true})
	wantBody(t, "get deleted", env.Do(t, "GET", "/admin/rbac/policies/"+pid, nil, as(tn, superTok)...), 404, notFound("Policy with id: "+pid+" not found"))
	if rps := list(t, wantStatus(t, "role policies", env.Do(t, "GET", "/admin/rbac/roles/"+role+"/policies", nil, as(tn, superTok)...), 200), "policies"); len(rps) != 0 {
		t.Errorf("role still holds the deleted policy: %v", rps)
	}
	wantBody(t, "delete unknown", env.Do(t, "DELETE", "/admin/rbac/policies/rpol_nope", nil, as(tn, superTok)...), 404, notFound("Policy with id: rpol_nope not found"))
	r = env.Do(t, "DELETE", "/admin/rbac/policies/"+rbac.PolicySuperAdmin, nil, as(tn, superTok)...)
	if r.Status != 400 || r.JSON["type"] != "not_allowed" {
		t.Errorf("DELETE rpol_super_admin: %d %s, want 400 not_allowed", r.Status, r.Body)
	}
	wantStatus(t, "super admin policy kept", env.Do(t, "GET", "/admin/rbac/policies/"+rbac.PolicySuperAdmin, nil, as(tn, superTok)...), 200)
	wantStatus(t, "super admin still allowed", env.Do(t, "GET", "/admin/users", nil, as(tn, superTok)...), 200)
}

// TestRBACPolicyChangesNextRequest: deleting or retargeting a policy changes
// decisions on the very next request, and retargeting is an escalation the
// actor must be entitled to.
func TestRBACPolicyChangesNextRequest(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	role := mkRole(t, env, tn, superTok, "readers", "user:read", "invite:read")
	_, tok := inviteWith(t, env, tn, superTok, "reader@acme.test", role)
	wantStatus(t, "before", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 200)
	wantStatus(t, "delete user:read", env.Do(t, "DELETE", "/admin/rbac/policies/"+policyID(t, env, tn, superTok, "user:read"), nil, as(tn, superTok)...), 200)
	wantBody(t, "next request", env.Do(t, "GET", "/admin/users", nil, as(tn, tok)...), 403, insufficient("user:read"))
	wantStatus(t, "other policy kept", env.Do(t, "GET", "/admin/invites", nil, as(tn, tok)...), 200)

	// Retargeting a held policy.
	pid := mkPolicy(t, env, tn, superTok, "report", "export")
	editors := mkRole(t, env, tn, superTok, "policy editors", "rbac_policy:read", "rbac_policy:update", "invite:read")
	wantStatus(t, "add custom policy", env.Do(t, "POST", "/admin/rbac/roles/"+editors+"/policies", map[string]any{"policies": []string{pid}}, as(tn, superTok)...), 200)
	_, edTok := inviteWith(t, env, tn, superTok, "editor@acme.test", editors)
	policyDenied := map[string]any{"type": "forbidden", "message": "You do not have access to some of the policies you are trying to assign."}
	wantBody(t, "retarget to a policy not held", env.Do(t, "POST", "/admin/rbac/policies/"+pid,
		map[string]any{"resource": "api_key", "operation": "delete"}, as(tn, edTok)...), 403, policyDenied)
	wantStatus(t, "rename", env.Do(t, "POST", "/admin/rbac/policies/"+pid, map[string]any{"name": "Export"}, as(tn, edTok)...), 200)
	wantStatus(t, "retarget to a held policy", env.Do(t, "POST", "/admin/rbac/policies/"+pid,
		map[string]any{"resource": "invite", "operation": "read"}, as(tn, edTok)...), 200)
	wantBody(t, "editor lacks api_key:read", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, edTok)...), 403, insufficient("api_key:read"))
	wantStatus(t, "retarget as super admin", env.Do(t, "POST", "/admin/rbac/policies/"+pid,
		map[string]any{"resource": "api_key", "operation": "read"}, as(tn, superTok)...), 200)
	wantStatus(t, "retargeted policy grants on the next request", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, edTok)...), 200)
}

// TestRBACRoleUsers: list, assign and remove a role's users.
func TestRBACRoleUsers(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	superID, superTok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	_, viewerTok := inviteWith(t, env, tn, superTok, "viewer@acme.test", rbac.RoleViewer)
	u1, tok1 := inviteWith(t, env, tn, superTok, "u1@acme.test")
	u2, _ := inviteWith(t, env, tn, superTok, "u2@acme.test")
	role := mkRole(t, env, tn, superTok, "readers", "user:read")
	path := "/admin/rbac/roles/" + role + "/users"

	body := wantStatus(t, "empty", env.Do(t, "GET", path, nil, as(tn, superTok)...), 200)
	if got := list(t, body, "users"); len(got) != 0 || body["count"] != 0.0 {
		t.Errorf("GET %s = %v, want no users", path, body)
	}
	wantBody(t, "role-less before", env.Do(t, "GET", "/admin/users", nil, as(tn, tok1)...), 403, forbiddenBody)
	got := ids(list(t, wantStatus(t, "assign", env.Do(t, "POST", path, map[string]any{"users": []string{u1, u2}}, as(tn, superTok)...), 200), "users"))
	slices.Sort(got)
	want := []string{u1, u2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("POST %s users = %v, want %v", path, got, want)
	}
	wantStatus(t, "assign again", env.Do(t, "POST", path, map[string]any{"users": []string{u1}}, as(tn, superTok)...), 200)
	body = wantStatus(t, "page", env.Do(t, "GET", path+"?limit=1", nil, as(tn, superTok)...), 200)
	if len(list(t, body, "users")) != 1 || body["count"] != 2.0 || body["limit"] != 1.0 || body["offset"] != 0.0 {
		t.Errorf("GET %s?limit=1 = %v", path, body)
	}
	wantStatus(t, "assigned role used on the next request", env.Do(t, "GET", "/admin/users", nil, as(tn, tok1)...), 200)
	wantStatus(t, "viewer lists", env.Do(t, "GET", path, nil, as(tn, viewerTok)...), 200)

	wantBody(t, "remove", env.Do(t, "DELETE", path, map[string]any{"users": []string{u1}}, as(tn, superTok)...), 200,
		map[string]any{"ids": []any{u1}, "object": "role_user", "deleted": true})
	if got := ids(list(t, wantStatus(t, "after remove", env.Do(t, "GET", path, nil, as(tn, superTok)...), 200), "users")); !slices.Equal(got, []string{u2}) {
		t.Errorf("users after removal = %v, want [%s]", got, u2)
	}
	wantBody(t, "removed role gone on the next request", env.Do(t, "GET", "/admin/users", nil, as(tn, tok1)...), 403, forbiddenBody)

	// Validation, unknown ids, viewer.
	wantStatus(t, "empty users", env.Do(t, "POST", path, map[string]any{"users": []string{}}, as(tn, superTok)...), 400)
	wantStatus(t, "no users", env.Do(t, "DELETE", path, map[string]any{}, as(tn, superTok)...), 400)
	wantBody(t, "unknown user", env.Do(t, "POST", path, map[string]any{"users": []string{"user_nope"}}, as(tn, superTok)...), 404,
		notFound("User with id: user_nope was not found"))
	for _, m := range []string{"GET", "POST", "DELETE"} {
		var b any
		if m != "GET" {
			b = map[string]any{"users": []string{u1}}
		}
		wantBody(t, m+" unknown role", env.Do(t, m, "/admin/rbac/roles/role_nope/users", b, as(tn, superTok)...), 404,
			notFound("Role with id: role_nope not found"))
	}
	wantBody(t, "viewer assigns", env.Do(t, "POST", path, map[string]any{"users": []string{u1}}, as(tn, viewerTok)...), 403,
		insufficient("user:update", "rbac_role:update"))
	wantBody(t, "viewer removes", env.Do(t, "DELETE", path, map[string]any{"users": []string{u2}}, as(tn, viewerTok)...), 403,
		insufficient("user:update", "rbac_role:update"))

	// Escalation guard.
	manager := mkRole(t, env, tn, superTok, "role managers", "user:read", "user:update", "rbac_role:read", "rbac_role:update")
	_, mgrTok := inviteWith(t, env, tn, superTok, "mgr@acme.test", manager)
	roleDenied := map[string]any{"type": "forbidden", "message": "You do not have permission to assign these roles"}
	wantBody(t, "manager assigns super admin", env.Do(t, "POST", "/admin/rbac/roles/"+rbac.RoleSuperAdmin+"/users",
		map[string]any{"users": []string{u1}}, as(tn, mgrTok)...), 403, roleDenied)
	wantBody(t, "manager assigns viewer", env.Do(t, "POST", "/admin/rbac/roles/"+rbac.RoleViewer+"/users",
		map[string]any{"users": []string{u1}}, as(tn, mgrTok)...), 403, roleDenied)
	wantStatus(t, "manager assigns a held role", env.Do(t, "POST", path, map[string]any{"users": []string{u1}}, as(tn, mgrTok)...), 200)

	// The last super admin keeps the role.
	superPath := "/admin/rbac/roles/" + rbac.RoleSuperAdmin + "/users"
	lastBody := map[string]any{"type": "not_allowed", "message": "The last super admin of a tenant cannot lose the role_super_admin role"}
	wantBody(t, "last super admin", env.Do(t, "DELETE", superPath, map[string]any{"users": []string{superID}}, as(tn, superTok)...), 400, lastBody)
	wantStatus(t, "still super", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, superTok)...), 200)
	wantStatus(t, "second super admin", env.Do(t, "POST", superPath, map[string]any{"users": []string{u2}}, as(tn, superTok)...), 200)
	wantBody(t, "both super admins", env.Do(t, "DELETE", superPath, map[string]any{"users": []string{superID, u2}}, as(tn, superTok)...), 400, lastBody)
	wantStatus(t, "now removable", env.Do(t, "DELETE", superPath, map[string]any{"users": []string{superID}}, as(tn, superTok)...), 200)
	wantBody(t, "former super admin", env.Do(t, "GET", "/admin/api-keys", nil, as(tn, superTok)...), 403, forbiddenBody)
	if got := ids(list(t, wantStatus(t, "super admins", env.Do(t, "GET", superPath, nil, as(tn, viewerTok)...), 200), "users")); !slices.Equal(got, []string{u2}) {
		t.Errorf("super admins = %v, want [%s]", got, u2)
	}
}

// TestRBACMoreTenantIsolation: tenant B's admin can neither see nor touch
// tenant A's policies, roles or users through the new routes.
func TestRBACMoreTenantIsolation(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	aID, aTok := env.Admin(t, a, "super@acme.test", "correct horse 1")
	bID, bTok := env.Admin(t, b, "super@globex.test", "correct horse 1")
	pid := mkPolicy(t, env, a, aTok, "report", "export")
	role := mkRole(t, env, a, aTok, "acme exporters", "report:export")
	wantStatus(t, "A assigns", env.Do(t, "POST", "/admin/rbac/roles/"+role+"/users", map[string]any{"users": []string{aID}}, as(a, aTok)...), 200)

	polMsg := "Policy with id: " + pid + " not found"
	wantBody(t, "B updates A's policy", env.Do(t, "POST", "/admin/rbac/policies/"+pid, map[string]any{"name": "x"}, as(b, bTok)...), 404,
		notFound(`Policy with id "`+pid+`" not found`))
	wantBody(t, "B deletes A's policy", env.Do(t, "DELETE", "/admin/rbac/policies/"+pid, nil, as(b, bTok)...), 404, notFound(polMsg))
	wantBody(t, "B lists A's policy roles", env.Do(t, "GET", "/admin/rbac/policies/"+pid+"/roles", nil, as(b, bTok)...), 404, notFound(polMsg))
	roleMsg := "Role with id: " + role + " not found"
	wantBody(t, "B lists A's role users", env.Do(t, "GET", "/admin/rbac/roles/"+role+"/users", nil, as(b, bTok)...), 404, notFound(roleMsg))
	wantBody(t, "B assigns A's role", env.Do(t, "POST", "/admin/rbac/roles/"+role+"/users", map[string]any{"users": []string{bID}}, as(b, bTok)...), 404, notFound(roleMsg))
	wantBody(t, "B removes A's role", env.Do(t, "DELETE", "/admin/rbac/roles/"+role+"/users", map[string]any{"users": []string{aID}}, as(b, bTok)...), 404, notFound(roleMsg))
	wantBody(t, "B assigns its role to A's user", env.Do(t, "POST", "/admin/rbac/roles/"+rbac.RoleViewer+"/users",
		map[string]any{"users": []string{aID}}, as(b, bTok)...), 404, notFound("User with id: "+aID+" was not found"))
	wantBody(t, "B removes A's super admin", env.Do(t, "DELETE", "/admin/rbac/roles/"+rbac.RoleSuperAdmin+"/users",
		map[string]any{"users": []string{aID}}, as(b, bTok)...), 404, notFound("User with id: "+aID+" was not found"))
	if got := ids(list(t, wantStatus(t, "B's super admins", env.Do(t, "GET", "/admin/rbac/roles/"+rbac.RoleSuperAdmin+"/users", nil, as(b, bTok)...), 200), "users")); !slices.Equal(got, []string{bID}) {
		t.Errorf("B's super admins = %v, want [%s]", got, bID)
	}
	if got := ids(list(t, wantStatus(t, "B's rpol_super_admin roles", env.Do(t, "GET", "/admin/rbac/policies/"+rbac.PolicySuperAdmin+"/roles", nil, as(b, bTok)...), 200), "roles")); !slices.Equal(got, []string{rbac.RoleSuperAdmin}) {
		t.Errorf("B's roles holding rpol_super_admin = %v", got)
	}
	// B creating a policy with A's key is no duplicate.
	mkPolicy(t, env, b, bTok, "report", "export")

	// A's objects are untouched.
	wantStatus(t, "A's policy kept", env.Do(t, "GET", "/admin/rbac/policies/"+pid, nil, as(a, aTok)...), 200)
	if got := ids(list(t, wantStatus(t, "A's role users", env.Do(t, "GET", "/admin/rbac/roles/"+role+"/users", nil, as(a, aTok)...), 200), "users")); !slices.Equal(got, []string{aID}) {
		t.Errorf("A's role users = %v, want [%s]", got, aID)
	}
	if got := ids(list(t, wantStatus(t, "A's policy roles", env.Do(t, "GET", "/admin/rbac/policies/"+pid+"/roles", nil, as(a, aTok)...), 200), "roles")); !slices.Equal(got, []string{role}) {
		t.Errorf("A's policy roles = %v, want [%s]", got, role)
	}
}

// TestRBACAssignable: GET /admin/rbac/roles/assignable and
// /admin/rbac/policies/assignable (js-sdk listAssignable) list exactly what
// the escalation guards let the caller assign: every listed role can be
// given to a user, every other one is refused with 403; parents count, and a
// wildcard policy is held only through the same wildcard. Filters and the
// page apply after the filtering (count is of the assignable ones); bad
// paging is a 400; another tenant's roles never appear.
func TestRBACAssignable(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "globex")
	_, superTok := env.Admin(t, a, "super@acme.test", "correct horse 1")
	_, bTok := env.Admin(t, b, "super@globex.test", "correct horse 1")

	manager := mkRole(t, env, a, superTok, "managers", "user:read", "user:update", "rbac_role:read", "rbac_role:update", "rbac_policy:read")
	_, mgrTok := inviteWith(t, env, a, superTok, "mgr@acme.test", manager)
	small := mkRole(t, env, a, superTok, "user readers", "user:read")
	empty := mkRole(t, env, a, superTok, "nothing")
	child := mkRole(t, env, a, superTok, "child of readers")
	wantStatus(t, "child's parent", env.Do(t, "POST", "/admin/rbac/roles/"+child, map[string]any{"parent_id": small}, as(a, superTok)...), 200)
	viewerChild := mkRole(t, env, a, superTok, "child of viewer")
	wantStatus(t, "viewer child's parent", env.Do(t, "POST", "/admin/rbac/roles/"+viewerChild, map[string]any{"parent_id": rbac.RoleViewer}, as(a, superTok)...), 200)
	wantStatus(t, "user:* policy", env.Do(t, "POST", "/admin/rbac/policies",
		map[string]any{"key": "user:*", "resource": "user", "operation": "*"}, as(a, superTok)...), 200)
	wildcard := mkRole(t, env, a, superTok, "all of users", "user:*")

	all := ids(list(t, wantStatus(t, "all roles", env.Do(t, "GET", "/admin/rbac/roles?limit=100", nil, as(a, superTok)...), 200), "roles"))
	superList := wantStatus(t, "super's assignable roles", env.Do(t, "GET", "/admin/rbac/roles/assignable?limit=100", nil, as(a, superTok)...), 200)
	if got := ids(list(t, superList, "roles")); !slices.Equal(got, all) {
		t.Errorf("super admin may assign %v, want every role %v", got, all)
	}

	got := wantStatus(t, "manager's assignable roles", env.Do(t, "GET", "/admin/rbac/roles/assignable", nil, as(a, mgrTok)...), 200)
	want := []string{manager, small, empty, child}
	if gotIDs := ids(list(t, got, "roles")); !slices.Equal(gotIDs, want) || got["count"] != float64(len(want)) {
		t.Errorf("manager may assign %v (count %v), want %v", gotIDs, got["count"], want)
	}
	for _, r := range list(t, got, "roles") {
		if len(r) != 3 || r["name"] == nil {
			t.Errorf("assignable role %v: want exactly id, name, description", r)
		}
	}
	// The list is the guard: each listed role is accepted, each other refused.
	uid, _ := inviteWith(t, env, a, superTok, "u@acme.test")
	for _, role := range all {
		status := 403
		if slices.Contains(want, role) {
			status = 200
		}
		wantStatus(t, "manager assigns "+role, env.Do(t, "POST", "/admin/users/"+uid+"/roles", map[string]any{"roles": []string{role}}, as(a, mgrTok)...), status)
	}
	for _, role := range []string{viewerChild, wildcard} {
		if !slices.Contains(all, role) || slices.Contains(want, role) {
			t.Errorf("role %s: in every role %v, and not assignable by the manager", role, all)
		}
	}

	page := wantStatus(t, "page", env.Do(t, "GET", "/admin/rbac/roles/assignable?offset=1&limit=2", nil, as(a, mgrTok)...), 200)
	if gotIDs := ids(list(t, page, "roles")); !slices.Equal(gotIDs, want[1:3]) || page["count"] != float64(len(want)) {
		t.Errorf("offset=1&limit=2: %v (count %v), want %v (count %d)", gotIDs, page["count"], want[1:3], len(want))
	}
	q := wantStatus(t, "q", env.Do(t, "GET", "/admin/rbac/roles/assignable?q=child", nil, as(a, mgrTok)...), 200)
	if gotIDs := ids(list(t, q, "roles")); !slices.Equal(gotIDs, []string{child}) || q["count"] != 1.0 {
		t.Errorf("q=child: %v (count %v), want only %s", gotIDs, q["count"], child)
	}

	pols := wantStatus(t, "manager's assignable policies", env.Do(t, "GET", "/admin/rbac/policies/assignable", nil, as(a, mgrTok)...), 200)
	var keys []string
	for _, p := range list(t, pols, "policies") {
		keys = append(keys, p["key"].(string))
		if len(p) != 5 || p["resource"] == nil || p["operation"] == nil {
			t.Errorf("assignable policy %v: want exactly id, key, resource, operation, description", p)
		}
	}
	wantKeys := []string{"rbac_policy:read", "rbac_role:read", "rbac_role:update", "user:read", "user:update"}
	if !slices.Equal(keys, wantKeys) || pols["count"] != float64(len(wantKeys)) {
		t.Errorf("manager may grant %v (count %v), want %v (not user:*, not *:*)", keys, pols["count"], wantKeys)
	}
	superPols := wantStatus(t, "super's assignable policies", env.Do(t, "GET", "/admin/rbac/policies/assignable?resource=user", nil, as(a, superTok)...), 200)
	if n := superPols["count"]; n != 5.0 { // user:read, create, update, delete and user:*
		t.Errorf("super admin's assignable user policies: count %v, want 5 (%v)", n, superPols["policies"])
	}

	wantBody(t, "bad limit", env.Do(t, "GET", "/admin/rbac/roles/assignable?limit=-1", nil, as(a, mgrTok)...), 400,
		map[string]any{"type": "invalid_data", "message": "Invalid request: Value for field 'limit' too small, expected at least: '0'"})
	wantBody(t, "bad offset", env.Do(t, "GET", "/admin/rbac/policies/assignable?offset=x", nil, as(a, mgrTok)...), 400,
		map[string]any{"type": "invalid_data", "message": "Invalid request: Expected type: 'number' for field 'offset', got: 'string'"})
	_, noneTok := inviteWith(t, env, a, superTok, "none@acme.test")
	wantBody(t, "no roles", env.Do(t, "GET", "/admin/rbac/roles/assignable", nil, as(a, noneTok)...), 403, forbiddenBody)
	_, readerTok := inviteWith(t, env, a, superTok, "reader@acme.test", small)
	wantBody(t, "without rbac_policy:read", env.Do(t, "GET", "/admin/rbac/policies/assignable", nil, as(a, readerTok)...), 403, insufficient("rbac_policy:read"))

	// Tenant B sees its own three roles; A's token is not valid in B.
	bList := wantStatus(t, "B's assignable roles", env.Do(t, "GET", "/admin/rbac/roles/assignable", nil, as(b, bTok)...), 200)
	if gotIDs := ids(list(t, bList, "roles")); !slices.Equal(gotIDs, []string{rbac.RoleSuperAdmin, rbac.RoleAdmin, rbac.RoleViewer}) {
		t.Errorf("tenant B's assignable roles = %v, want only its built-in roles", gotIDs)
	}
	wantBody(t, "A's token in B", env.Do(t, "GET", "/admin/rbac/roles/assignable", nil, as(b, superTok)...), 401, unauthorizedBody)
	wantBody(t, "A's token in B (policies)", env.Do(t, "GET", "/admin/rbac/policies/assignable", nil, as(b, superTok)...), 401, unauthorizedBody)
}
