package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// op sends a platform request with the operators' key.
func op(t *testing.T, env *apitest.Env, method, path string, body any) *apitest.Response {
	t.Helper()
	return env.Do(t, method, "/platform"+path, body, "authorization", "Bearer "+env.PlatformKey)
}

// wantError fails unless r is status with exactly the JSON body want.
func wantError(t *testing.T, what string, r *apitest.Response, status int, want map[string]any) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s = %d %s, want %d", what, r.Status, r.Body, status)
		return
	}
	if diff := cmp.Diff(want, r.JSON); diff != "" {
		t.Errorf("%s body (-want +got):\n%s", what, diff)
	}
}

func unknownTenant() map[string]any {
	return map[string]any{"type": "not_found", "message": "Unknown tenant"}
}

func tenantOf(t *testing.T, what string, r *apitest.Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s = %d %s, want 200", what, r.Status, r.Body)
	}
	tn, ok := r.JSON["tenant"].(map[string]any)
	if !ok {
		t.Fatalf("%s = %s, want {tenant}", what, r.Body)
	}
	return tn
}

func TestPlatformRequiresKey(t *testing.T) {
	env := apitest.New(t)
	unauthorized := map[string]any{"message": "Unauthorized"}
	for _, tc := range []struct {
		name    string
		headers []string
	}{
		{"no key", nil},
		{"wrong key", []string{"authorization", "Bearer wrong-" + env.PlatformKey}},
		{"key prefix", []string{"authorization", "Bearer " + env.PlatformKey[:10]}},
		{"basic scheme", []string{"authorization", "Basic " + env.PlatformKey}},
		{"bare key", []string{"authorization", env.PlatformKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rq := range []struct{ method, path string }{
				{"GET", "/platform/tenants"},
				{"POST", "/platform/tenants"},
				{"GET", "/platform/tenants/acme"},
				{"DELETE", "/platform/tenants/acme"},
				{"POST", "/platform/tenants/acme/suspend"},
			} {
				var body any
				if rq.method == "POST" {
					body = map[string]any{"slug": "acme", "name": "Acme"}
				}
				r := env.Do(t, rq.method, rq.path, body, tc.headers...)
				wantError(t, rq.method+" "+rq.path, r, http.StatusUnauthorized, unauthorized)
			}
		})
	}
	// Nothing was created by the refused requests.
	r := op(t, env, "GET", "/tenants", nil)
	if r.Status != http.StatusOK || r.JSON["count"] != float64(0) {
		t.Errorf("GET /tenants after refused requests = %d %s, want count 0", r.Status, r.Body)
	}
}

func TestPlatformTenantLifecycle(t *testing.T) {
	env := apitest.New(t)

	tn := tenantOf(t, "POST /tenants", op(t, env, "POST", "/tenants", map[string]any{
		"slug": "acme", "name": "Acme Inc.", "domains": []string{"Shop.Acme.test", "acme.example.com"},
		"settings": map[string]any{"support_email": "help@acme.test"},
	}))
	id, _ := tn["id"].(string)
	if !strings.HasPrefix(id, "ten_") {
		t.Fatalf("created tenant id = %q, want ten_…", id)
	}
	created, _ := tn["created_at"].(string)
	if len(created) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(created, "Z") || tn["updated_at"] == nil {
		t.Errorf("created_at = %q, want RFC 3339 with milliseconds in UTC", created)
	}
	want := map[string]any{
		"id": id, "slug": "acme", "name": "Acme Inc.", "status": "active",
		"settings":   map[string]any{"support_email": "help@acme.test"},
		"domains":    []any{"acme.example.com", "shop.acme.test"},
		"created_at": tn["created_at"], "updated_at": tn["updated_at"],
	}
	if diff := cmp.Diff(want, tn); diff != "" {
		t.Errorf("POST /tenants tenant (-want +got):\n%s", diff)
	}

	r := op(t, env, "POST", "/tenants", map[string]any{"slug": "acme", "name": "Again"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("POST /tenants duplicate slug = %d %s, want 422", r.Status, r.Body)
	}
	r = op(t, env, "POST", "/tenants", map[string]any{"slug": "other", "name": "Other", "domains": []string{"shop.acme.test"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("POST /tenants duplicate domain = %d %s, want 422", r.Status, r.Body)
	}
	tenantOf(t, "POST /tenants beta", op(t, env, "POST", "/tenants", map[string]any{"slug": "beta", "name": "Beta Corp"}))
	tenantOf(t, "POST /tenants gamma", op(t, env, "POST", "/tenants", map[string]any{"slug": "gamma", "name": "Gamma"}))

	// Get by id and by slug (any case).
	for _, key := range []string{id, "acme", "ACME"} {
		got := tenantOf(t, "GET /tenants/"+key, op(t, env, "GET", "/tenants/"+key, nil))
		if got["id"] != id || got["slug"] != "acme" {
			t.Errorf("GET /tenants/%s = %v, want acme", key, got)
		}
	}

	// List, search and pages.
	r = op(t, env, "GET", "/tenants", nil)
	if r.Status != http.StatusOK || r.JSON["count"] != float64(3) || r.JSON["offset"] != float64(0) || r.JSON["limit"] != float64(20) {
		t.Fatalf("GET /tenants = %d %s, want count 3, offset 0, limit 20", r.Status, r.Body)
	}
	slugs := func(r *apitest.Response) []string {
		var out []string
		list, _ := r.JSON["tenants"].([]any)
		for _, x := range list {
			out = append(out, x.(map[string]any)["slug"].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"acme", "beta", "gamma"}, slugs(r)); diff != "" {
		t.Errorf("GET /tenants slugs (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		query string
		want  []string
		count float64
	}{
		{"?q=corp", []string{"beta"}, 1},
		{"?q=GAM", []string{"gamma"}, 1},
		{"?q=zzz", nil, 0},
		{"?offset=1&limit=1", []string{"beta"}, 3},
		{"?offset=3", nil, 3},
	} {
		r := op(t, env, "GET", "/tenants"+tc.query, nil)
		if r.Status != http.StatusOK || r.JSON["count"] != tc.count {
			t.Errorf("GET /tenants%s = %d %s, want count %v", tc.query, r.Status, r.Body, tc.count)
			continue
		}
		if diff := cmp.Diff(tc.want, slugs(r)); diff != "" {
			t.Errorf("GET /tenants%s slugs (-want +got):\n%s", tc.query, diff)
		}
		if l, ok := r.JSON["tenants"].([]any); !ok || l == nil {
			t.Errorf("GET /tenants%s tenants = %v, want an array", tc.query, r.JSON["tenants"])
		}
	}
	r = op(t, env, "GET", "/tenants?limit=abc", nil)
	if r.Status != http.StatusBadRequest {
		t.Errorf("GET /tenants?limit=abc = %d %s, want 400", r.Status, r.Body)
	}

	// Update.
	got := tenantOf(t, "POST /tenants/acme", op(t, env, "POST", "/tenants/acme", map[string]any{
		"name": "Acme Renamed", "settings": map[string]any{"jwt_ttl": "1h"},
	}))
	if got["name"] != "Acme Renamed" || !cmp.Equal(got["settings"], map[string]any{"jwt_ttl": "1h"}) || got["slug"] != "acme" {
		t.Errorf("POST /tenants/acme = %v, want renamed with new settings", got)
	}
	got = tenantOf(t, "POST /tenants/"+id+" {}", op(t, env, "POST", "/tenants/"+id, map[string]any{}))
	if got["name"] != "Acme Renamed" {
		t.Errorf("POST /tenants/%s {} = %v, want unchanged", id, got)
	}
	r = op(t, env, "POST", "/tenants/acme", map[string]any{"name": "  "})
	if r.Status != http.StatusBadRequest {
		t.Errorf("POST /tenants/acme blank name = %d %s, want 400", r.Status, r.Body)
	}

	// Suspend: the tenant's own routes answer 403; resume restores them.
	got = tenantOf(t, "suspend", op(t, env, "POST", "/tenants/acme/suspend", nil))
	if got["status"] != "suspended" {
		t.Errorf("suspend = %v, want status suspended", got)
	}
	r = env.Do(t, "GET", "/admin/sales-channels", nil, "x-tenant-id", "acme")
	wantError(t, "GET /admin/sales-channels in a suspended tenant", r, http.StatusForbidden,
		map[string]any{"type": "not_allowed", "message": "Tenant is suspended"})
	got = tenantOf(t, "GET suspended", op(t, env, "GET", "/tenants/acme", nil))
	if got["status"] != "suspended" {
		t.Errorf("GET suspended tenant = %v, want status suspended", got)
	}
	got = tenantOf(t, "resume", op(t, env, "POST", "/tenants/"+id+"/resume", nil))
	if got["status"] != "active" {
		t.Errorf("resume = %v, want status active", got)
	}
	r = env.Do(t, "GET", "/admin/sales-channels", nil, "x-tenant-id", "acme")
	if r.Status != http.StatusUnauthorized {
		t.Errorf("GET /admin/sales-channels after resume = %d %s, want 401 (tenant resolves, no credentials)", r.Status, r.Body)
	}
	r = op(t, env, "POST", "/tenants/acme/suspend", map[string]any{"x": 1})
	wantError(t, "suspend with a field", r, http.StatusBadRequest,
		map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'x'"})

	// Domains.
	got = tenantOf(t, "add domain", op(t, env, "POST", "/tenants/acme/domains", map[string]any{"host": "Login.Acme.test"}))
	if diff := cmp.Diff([]any{"acme.example.com", "login.acme.test", "shop.acme.test"}, got["domains"]); diff != "" {
		t.Errorf("add domain domains (-want +got):\n%s", diff)
	}
	r = env.Do(t, "GET", "/admin/sales-channels", nil, "host", "login.acme.test")
	if r.Status != http.StatusUnauthorized {
		t.Errorf("GET via new domain = %d %s, want 401 (tenant resolves, no credentials)", r.Status, r.Body)
	}
	r = op(t, env, "POST", "/tenants/beta/domains", map[string]any{"host": "login.acme.test"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("add a domain of another tenant = %d %s, want 422", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{{"host": "not a host"}, {"host": ""}, {}, {"host": 5}} {
		r = op(t, env, "POST", "/tenants/acme/domains", bad)
		if r.Status != http.StatusBadRequest {
			t.Errorf("add domain %v = %d %s, want 400", bad, r.Status, r.Body)
		}
	}
	got = tenantOf(t, "remove domain (body)", op(t, env, "DELETE", "/tenants/acme/domains", map[string]any{"host": "login.acme.test"}))
	if diff := cmp.Diff([]any{"acme.example.com", "shop.acme.test"}, got["domains"]); diff != "" {
		t.Errorf("remove domain (body) domains (-want +got):\n%s", diff)
	}
	got = tenantOf(t, "remove domain (query)", op(t, env, "DELETE", "/tenants/acme/domains?host=acme.example.com", nil))
	if diff := cmp.Diff([]any{"shop.acme.test"}, got["domains"]); diff != "" {
		t.Errorf("remove domain (query) domains (-want +got):\n%s", diff)
	}
	r = op(t, env, "DELETE", "/tenants/acme/domains", map[string]any{"host": "login.acme.test"})
	if r.Status != http.StatusNotFound {
		t.Errorf("remove a removed domain = %d %s, want 404", r.Status, r.Body)
	}
	r = op(t, env, "DELETE", "/tenants/beta/domains", map[string]any{"host": "shop.acme.test"})
	if r.Status != http.StatusNotFound {
		t.Errorf("remove another tenant's domain = %d %s, want 404", r.Status, r.Body)
	}
	r = op(t, env, "DELETE", "/tenants/acme/domains", nil)
	wantError(t, "remove domain without host", r, http.StatusBadRequest,
		map[string]any{"type": "invalid_data", "message": "Invalid request: Field 'host' is required"})
	r = env.Do(t, "GET", "/admin/sales-channels", nil, "host", "login.acme.test")
	wantError(t, "GET via a removed domain", r, http.StatusNotFound, unknownTenant())

	// Delete.
	r = op(t, env, "DELETE", "/tenants/acme", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("DELETE /tenants/acme = %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff(map[string]any{"id": id, "object": "tenant", "deleted": true}, r.JSON); diff != "" {
		t.Errorf("DELETE /tenants/acme (-want +got):\n%s", diff)
	}
	wantError(t, "GET deleted tenant", op(t, env, "GET", "/tenants/"+id, nil), http.StatusNotFound, unknownTenant())
	wantError(t, "GET deleted tenant by slug", op(t, env, "GET", "/tenants/acme", nil), http.StatusNotFound, unknownTenant())
	wantError(t, "tenant route of a deleted tenant", env.Do(t, "GET", "/admin/sales-channels", nil, "host", "shop.acme.test"),
		http.StatusNotFound, unknownTenant())
	r = op(t, env, "GET", "/tenants", nil)
	if diff := cmp.Diff([]string{"beta", "gamma"}, slugs(r)); diff != "" || r.JSON["count"] != float64(2) {
		t.Errorf("GET /tenants after delete = %s (-want +got):\n%s", r.Body, diff)
	}
	// The slug and the domain are free again.
	tenantOf(t, "recreate acme", op(t, env, "POST", "/tenants", map[string]any{
		"slug": "acme", "name": "Acme again", "domains": []string{"shop.acme.test"},
	}))
}

func TestPlatformUnknownTenant(t *testing.T) {
	env := apitest.New(t)
	env.Tenant(t, "acme")
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/tenants/nope", nil},
		{"GET", "/tenants/ten_01H00000000000000000000000", nil},
		{"GET", "/tenants/Not%20A%20Slug", nil},
		{"POST", "/tenants/nope", map[string]any{"name": "x"}},
		{"DELETE", "/tenants/nope", nil},
		{"POST", "/tenants/nope/suspend", nil},
		{"POST", "/tenants/nope/resume", nil},
		{"POST", "/tenants/nope/domains", map[string]any{"host": "nope.test"}},
		{"DELETE", "/tenants/nope/domains", map[string]any{"host": "nope.test"}},
	} {
		wantError(t, rq.method+" "+rq.path, op(t, env, rq.method, rq.path, rq.body), http.StatusNotFound, unknownTenant())
	}
	r := op(t, env, "GET", "/tenants", nil)
	if r.JSON["count"] != float64(1) {
		t.Errorf("GET /tenants = %s, want acme alone", r.Body)
	}
}

func TestPlatformValidation(t *testing.T) {
	env := apitest.New(t)
	invalid := func(msg string) map[string]any { return map[string]any{"type": "invalid_data", "message": msg} }
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   map[string]any // nil: only the status is checked
	}{
		{"slug with spaces", map[string]any{"slug": "ac me", "name": "Acme"}, 400, nil},
		{"slug with symbols", map[string]any{"slug": "acme!", "name": "Acme"}, 400, nil},
		{"slug with underscore", map[string]any{"slug": "ac_me", "name": "Acme"}, 400, nil},
		{"slug leading hyphen", map[string]any{"slug": "-acme", "name": "Acme"}, 400, nil},
		{"slug too long", map[string]any{"slug": strings.Repeat("a", 64), "name": "Acme"}, 400, nil},
		{"reserved slug", map[string]any{"slug": "platform", "name": "Acme"}, 400, nil},
		{"empty slug", map[string]any{"slug": "", "name": "Acme"}, 400, nil},
		{"no slug", map[string]any{"name": "Acme"}, 400, invalid("Invalid request: Field 'slug' is required")},
		{"no name", map[string]any{"slug": "acme"}, 400, invalid("Invalid request: Field 'name' is required")},
		{"blank name", map[string]any{"slug": "acme", "name": " "}, 400, nil},
		{"bad domain", map[string]any{"slug": "acme", "name": "Acme", "domains": []string{"bad domain"}}, 400, nil},
		{"slug of wrong type", map[string]any{"slug": 5, "name": "Acme"}, 400,
			invalid("Invalid request: Expected type: 'string' for field 'slug', got: 'number'")},
		{"unknown field", map[string]any{"slug": "acme", "name": "Acme", "x": 1}, 400,
			invalid("Invalid request: Unrecognized fields: 'x'")},
		{"garbage JSON", `{"slug": "acme",`, 400, nil},
		{"not JSON", `slug=acme&name=Acme`, 400, nil},
		{"array body", `[]`, 400, nil},
		{"2 MiB body", `{"slug":"acme","name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := op(t, env, "POST", "/tenants", tc.body)
			if r.Status != tc.status {
				t.Fatalf("POST /tenants = %d %s, want %d", r.Status, r.Body, tc.status)
			}
			if r.JSON["type"] != "invalid_data" || r.JSON["message"] == "" {
				t.Errorf("POST /tenants body = %s, want an invalid_data error", r.Body)
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, r.JSON); diff != "" {
					t.Errorf("POST /tenants body (-want +got):\n%s", diff)
				}
			}
		})
	}
	r := op(t, env, "GET", "/tenants", nil)
	if r.JSON["count"] != float64(0) {
		t.Errorf("GET /tenants = %s, want no tenant created by invalid requests", r.Body)
	}
	env.Tenant(t, "acme")
	r = op(t, env, "POST", "/tenants/acme", map[string]any{"slug": "renamed"})
	wantError(t, "update with slug", r, http.StatusBadRequest, invalid("Invalid request: Unrecognized fields: 'slug'"))
	r = op(t, env, "POST", "/tenants/acme", `{"name":`)
	if r.Status != http.StatusBadRequest {
		t.Errorf("update with garbage = %d %s, want 400", r.Status, r.Body)
	}
	r = op(t, env, "POST", "/tenants/acme/domains", `{"host":"`+strings.Repeat("a", 2<<20)+`"}`)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("add domain with 2 MiB body = %d, want 413", r.Status)
	}
}
