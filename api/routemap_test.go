package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/rbac"
)

// TestRouteMap: a tenant maps its own upstream routes to policies (and marks
// public ones) through /admin/rbac/route-map, /decisions follows them on the
// next request and on a second node, bad maps are refused whole, and one
// tenant's map never touches another's decisions.
func TestRouteMap(t *testing.T) {
	// With Redis, a second node shares the database and the bus; the memory
	// store is one node's only.
	prefix := apitest.SharedRedisPrefix(t)
	env := apitest.NewWith(t, apitest.Options{RedisPrefix: prefix})
	nodes := []*apitest.Env{env}
	if prefix != "" {
		nodes = append(nodes, apitest.NewWith(t, apitest.Options{DB: env.DB, RedisPrefix: prefix}))
	}
	tn := env.Tenant(t, "shop")
	ownerID, owner := env.Admin(t, tn, "owner@shop.test", "owner-password-1")
	viewerID, viewer := env.Admin(t, tn, "viewer@shop.test", "viewer-password-1")
	ctx := env.Ctx(tn)
	if err := env.RBAC.AssignRoles(ctx, rbac.UserSubject(ownerID), rbac.UserSubject(viewerID), []string{rbac.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.RBAC.UnassignRoles(ctx, rbac.UserSubject(viewerID), []string{rbac.RoleSuperAdmin}); err != nil {
		t.Fatal(err)
	}
	other := env.Tenant(t, "other")
	_, otherTok := env.Admin(t, other, "owner@other.test", "owner-password-1")

	bearer := func(tok string) []string { return []string{"x-tenant-id", "shop", "Authorization", "Bearer " + tok} }
	decide := func(env *apitest.Env, tenant, method, uri, tok string) *apitest.Response {
		h := []string{"x-tenant-id", tenant, "X-Forwarded-Method", method, "X-Forwarded-Uri", uri}
		if tok != "" {
			h = append(h, "Authorization", "Bearer "+tok)
		}
		return env.Do(t, "GET", "/decisions", nil, h...)
	}
	wantStatus := func(what string, r *apitest.Response, status int, msg string) {
		t.Helper()
		if r.Status != status || (msg != "" && r.JSON["message"] != msg) {
			t.Fatalf("%s: %d %s, want %d %q", what, r.Status, r.Body, status, msg)
		}
	}

	r := env.Do(t, "GET", "/admin/rbac/route-map", nil, bearer(viewer)...)
	wantStatus("viewer reads the map", r, 200, "")
	if defs, _ := r.JSON["defaults"].([]any); len(defs) < 30 || r.JSON["count"] != float64(0) {
		t.Fatalf("route map = %s, want built-in defaults and no tenant routes", r.Body)
	}
	// Before any rule: a non-/admin path needs only an admin.
	wantStatus("unmapped route", decide(env, "shop", "GET", "/reports/42", viewer), 200, "")
	wantStatus("unmapped route, no credential", decide(env, "shop", "GET", "/status", ""), 401, "Unauthorized")

	routes := map[string]any{"routes": []any{
		map[string]any{"method": "GET", "path": "/reports/:id", "resource": "report", "operation": "read"},
		map[string]any{"method": "*", "path": "/reports/:id/export/*", "resource": "report", "operation": "export"},
		map[string]any{"method": "GET", "path": "/status", "public": true},
		map[string]any{"method": "get", "path": "/admin/users", "resource": "staff", "operation": "list"},
	}}
	wantStatus("viewer cannot edit the map", env.Do(t, "PUT", "/admin/rbac/route-map", routes, bearer(viewer)...), 403,
		"Insufficient permissions. Required policies: rbac_policy:update")
	wantStatus("tenant B's token", env.Do(t, "PUT", "/admin/rbac/route-map", routes, "x-tenant-id", "shop", "Authorization", "Bearer "+otherTok), 401, "Unauthorized")
	r = env.Do(t, "PUT", "/admin/rbac/route-map", routes, bearer(owner)...)
	wantStatus("owner sets the map", r, 200, "")
	if r.JSON["count"] != float64(4) {
		t.Fatalf("PUT = %s, want 4 routes", r.Body)
	}

	for _, node := range nodes {
		wantStatus("mapped route, viewer lacks report:read", decide(node, "shop", "GET", "/reports/42", viewer), 403,
			"Insufficient permissions. Required policies: report:read")
		wantStatus("mapped route, super admin", decide(node, "shop", "GET", "/reports/42", owner), 200, "")
		wantStatus("rest wildcard", decide(node, "shop", "POST", "/reports/42/export/csv/full", viewer), 403,
			"Insufficient permissions. Required policies: report:export")
		wantStatus("public route without a credential", decide(node, "shop", "GET", "/status", ""), 200, "")
		wantStatus("tenant rule overrides the built-in /admin/users", decide(node, "shop", "GET", "/admin/users", viewer), 403,
			"Insufficient permissions. Required policies: staff:list")
		wantStatus("tenant B is untouched", decide(node, "other", "GET", "/status", ""), 401, "Unauthorized")
		wantStatus("tenant B's unmapped route", decide(node, "other", "GET", "/reports/42", otherTok), 200, "")
	}

	for name, bad := range map[string]any{
		"unknown method":     []any{map[string]any{"method": "BREW", "path": "/x", "resource": "a", "operation": "b"}},
		"relative path":      []any{map[string]any{"method": "GET", "path": "x", "resource": "a", "operation": "b"}},
		"star in the middle": []any{map[string]any{"method": "GET", "path": "/a/*/b", "resource": "a", "operation": "b"}},
		"no resource":        []any{map[string]any{"method": "GET", "path": "/a"}},
		"public with policy": []any{map[string]any{"method": "GET", "path": "/a", "public": true, "resource": "a", "operation": "b"}},
		"duplicate": []any{map[string]any{"method": "GET", "path": "/a", "resource": "a", "operation": "b"},
			map[string]any{"method": "GET", "path": "/a", "resource": "a", "operation": "c"}},
	} {
		r := env.Do(t, "PUT", "/admin/rbac/route-map", map[string]any{"routes": bad}, bearer(owner)...)
		if r.Status != http.StatusBadRequest || r.JSON["type"] != "invalid_data" {
			t.Errorf("%s: %d %s, want 400 invalid_data", name, r.Status, r.Body)
		}
	}
	if r := env.Do(t, "PUT", "/admin/rbac/route-map", map[string]any{}, bearer(owner)...); r.Status != 400 {
		t.Errorf("PUT {}: %d, want 400", r.Status)
	}
	if r := env.Do(t, "GET", "/admin/rbac/route-map", nil, bearer(owner)...); r.JSON["count"] != float64(4) {
		t.Errorf("a refused map changed the stored one: %s", r.Body)
	}

	// Clearing the map takes effect on every node within 100 ms.
	for _, node := range nodes { // warm the caches
		wantStatus("before clearing", decide(node, "shop", "GET", "/reports/42", viewer), 403, "")
	}
	wantStatus("clear", env.Do(t, "PUT", "/admin/rbac/route-map", map[string]any{"routes": []any{}}, bearer(owner)...), 200, "")
	for i, node := range nodes {
		deadline := time.Now().Add(100 * time.Millisecond)
		for decide(node, "shop", "GET", "/reports/42", viewer).Status != 200 {
			if time.Now().After(deadline) {
				t.Fatalf("node %d still applies the cleared route map after 100 ms", i+1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}
