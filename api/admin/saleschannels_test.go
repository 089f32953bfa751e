package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// scWay is one way of naming the tenant of a request.
type scWay struct {
	name    string
	prefix  string   // path prefix
	headers []string // extra headers
}

func scWays() []scWay {
	return []scWay{
		{name: "verified domain", headers: []string{"host", "shop.acme.test"}},
		{name: "base domain", headers: []string{"host", "acme.localhost"}},
		{name: "path prefix", prefix: "/t/acme"},
		{name: "header", headers: []string{"x-tenant-id", "acme"}},
	}
}

func scWantError(t *testing.T, what string, r *apitest.Response, status int, typ, msg string) {
	t.Helper()
	want := map[string]any{"message": msg}
	if typ != "" {
		want["type"] = typ
	}
	if r.Status != status {
		t.Errorf("%s = %d %s, want %d", what, r.Status, r.Body, status)
		return
	}
	if diff := cmp.Diff(want, r.JSON); diff != "" {
		t.Errorf("%s body (-want +got):\n%s", what, diff)
	}
}

func scOf(t *testing.T, what string, r *apitest.Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s = %d %s, want 200", what, r.Status, r.Body)
	}
	sc, ok := r.JSON["sales_channel"].(map[string]any)
	if !ok {
		t.Fatalf("%s = %s, want {sales_channel}", what, r.Body)
	}
	return sc
}

func scIDs(r *apitest.Response) []string {
	out := []string{}
	list, _ := r.JSON["sales_channels"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestSalesChannelsCRUD(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	if r := env.Do(t, "POST", "/platform/tenants/acme/domains", map[string]any{"host": "shop.acme.test"},
		"authorization", "Bearer "+env.PlatformKey); r.Status != http.StatusOK {
		t.Fatalf("add domain = %d %s", r.Status, r.Body)
	}
	_, token := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")

	for _, way := range scWays() {
		t.Run(way.name, func(t *testing.T) {
			do := func(method, path string, body any) *apitest.Response {
				t.Helper()
				h := append([]string{"authorization", "Bearer " + token}, way.headers...)
				return env.Do(t, method, way.prefix+"/admin"+path, body, h...)
			}

			sc := scOf(t, "POST /admin/sales-channels", do("POST", "/sales-channels", map[string]any{
				"name": "Web " + way.name, "description": "The shop", "is_disabled": true,
				"metadata": map[string]any{"region": "eu"},
			}))
			id, _ := sc["id"].(string)
			if !strings.HasPrefix(id, "sc_") {
				t.Fatalf("created id = %q, want sc_…", id)
			}
			created, _ := sc["created_at"].(string)
			if len(created) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(created, "Z") {
				t.Errorf("created_at = %q, want RFC 3339 with milliseconds in UTC", created)
			}
			want := map[string]any{
				"id": id, "name": "Web " + way.name, "description": "The shop", "is_disabled": true,
				"metadata": map[string]any{"region": "eu"}, "created_at": sc["created_at"],
				"updated_at": sc["updated_at"], "deleted_at": nil, "publishable_api_keys": []any{},
			}
			if diff := cmp.Diff(want, sc); diff != "" {
				t.Errorf("POST /admin/sales-channels (-want +got):\n%s", diff)
			}

			got := scOf(t, "GET /admin/sales-channels/"+id, do("GET", "/sales-channels/"+id, nil))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GET /admin/sales-channels/%s (-want +got):\n%s", id, diff)
			}

			r := do("GET", "/sales-channels", nil)
			if r.Status != http.StatusOK || r.JSON["count"] != float64(1) || r.JSON["offset"] != float64(0) || r.JSON["limit"] != float64(20) {
				t.Errorf("GET /admin/sales-channels = %d %s, want count 1, offset 0, limit 20", r.Status, r.Body)
			}
			if diff := cmp.Diff([]string{id}, scIDs(r)); diff != "" {
				t.Errorf("GET /admin/sales-channels ids (-want +got):\n%s", diff)
			}

			upd := scOf(t, "POST /admin/sales-channels/"+id, do("POST", "/sales-channels/"+id, map[string]any{
				"name": "Renamed", "is_disabled": false,
			}))
			if upd["name"] != "Renamed" || upd["is_disabled"] != false || upd["description"] != "The shop" ||
				!cmp.Equal(upd["metadata"], map[string]any{"region": "eu"}) || upd["created_at"] != sc["created_at"] {
				t.Errorf("POST /admin/sales-channels/%s = %v, want only name and is_disabled changed", id, upd)
			}
			upd = scOf(t, "POST null fields", do("POST", "/sales-channels/"+id, map[string]any{
				"description": nil, "metadata": nil,
			}))
			if upd["description"] != nil || upd["metadata"] != nil || upd["name"] != "Renamed" {
				t.Errorf("POST with null description and metadata = %v, want both null", upd)
			}

			r = do("DELETE", "/sales-channels/"+id, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("DELETE /admin/sales-channels/%s = %d %s", id, r.Status, r.Body)
			}
			if diff := cmp.Diff(map[string]any{"id": id, "object": "sales-channel", "deleted": true}, r.JSON); diff != "" {
				t.Errorf("DELETE /admin/sales-channels/%s (-want +got):\n%s", id, diff)
			}
			scWantError(t, "GET deleted", do("GET", "/sales-channels/"+id, nil), http.StatusNotFound,
				"not_found", "Sales channel with id: "+id+" not found")
			scWantError(t, "POST deleted", do("POST", "/sales-channels/"+id, map[string]any{"name": "x"}), http.StatusNotFound,
				"not_found", `Sales channel with id "`+id+`" not found`)
			scWantError(t, "DELETE deleted", do("DELETE", "/sales-channels/"+id, nil), http.StatusNotFound,
				"not_found", "Sales channel with id: "+id+" not found")
			r = do("GET", "/sales-channels", nil)
			if r.JSON["count"] != float64(0) || len(scIDs(r)) != 0 {
				t.Errorf("GET /admin/sales-channels after delete = %s, want none", r.Body)
			}
		})
	}
}

func TestSalesChannelsFilters(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	_, token := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return env.Do(t, method, "/admin"+path, body, "authorization", "Bearer "+token, "x-tenant-id", "acme")
	}
	var ids []string
	for _, b := range []map[string]any{
		{"name": "Web Shop", "description": "main storefront"},
		{"name": "Mobile App"},
		{"name": "POS", "description": "shop floor", "is_disabled": true},
		{"name": "B2B"},
	} {
		ids = append(ids, scOf(t, "create", do("POST", "/sales-channels", b))["id"].(string))
	}
	for _, tc := range []struct {
		query string
		want  []string
		count float64
	}{
		{"", ids, 4},
		{"?q=SHOP", []string{ids[0], ids[2]}, 2},
		{"?name=POS", []string{ids[2]}, 1},
		{"?id=" + ids[3] + "&id=" + ids[1], []string{ids[1], ids[3]}, 2},
		{"?id[]=" + ids[0], []string{ids[0]}, 1},
		{"?id=sc_unknown", []string{}, 0},
		{"?is_disabled=true", []string{ids[2]}, 1},
		{"?is_disabled=false", []string{ids[0], ids[1], ids[3]}, 3},
		{"?q=shop&is_disabled=false", []string{ids[0]}, 1},
		{"?limit=2", ids[:2], 4},
		{"?offset=2&limit=1", []string{ids[2]}, 4},
		{"?offset=10", []string{}, 4},
		{"?fields=*publishable_api_keys", ids, 4},
	} {
		r := do("GET", "/sales-channels"+tc.query, nil)
		if r.Status != http.StatusOK || r.JSON["count"] != tc.count {
			t.Errorf("GET /admin/sales-channels%s = %d %s, want count %v", tc.query, r.Status, r.Body, tc.count)
			continue
		}
		if diff := cmp.Diff(tc.want, scIDs(r)); diff != "" {
			t.Errorf("GET /admin/sales-channels%s ids (-want +got):\n%s", tc.query, diff)
		}
	}
	for _, q := range []string{"?is_disabled=maybe", "?limit=-1", "?limit=x", "?offset=1.5", "?limit=100000"} {
		r := do("GET", "/sales-channels"+q, nil)
		if r.Status != http.StatusBadRequest || r.JSON["type"] != "invalid_data" {
			t.Errorf("GET /admin/sales-channels%s = %d %s, want 400 invalid_data", q, r.Status, r.Body)
		}
	}
	r := do("GET", "/sales-channels?limit=1&offset=3", nil)
	if r.JSON["limit"] != float64(1) || r.JSON["offset"] != float64(3) {
		t.Errorf("GET ?limit=1&offset=3 = %s, want limit 1, offset 3 echoed", r.Body)
	}
}

func TestSalesChannelsValidation(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	_, token := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return env.Do(t, method, "/admin"+path, body, "authorization", "Bearer "+token, "x-tenant-id", "acme")
	}
	id := scOf(t, "create", do("POST", "/sales-channels", map[string]any{"name": "Web"}))["id"].(string)

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		msg                string // "" checks the status and type only
	}{
		{"create without name", "POST", "/sales-channels", map[string]any{"description": "x"}, 400, "Invalid request: Field 'name' is required"},
		{"create with empty body", "POST", "/sales-channels", nil, 400, "Invalid request: Field 'name' is required"},
		{"create with empty name", "POST", "/sales-channels", map[string]any{"name": ""}, 400, ""},
		{"create with unknown field", "POST", "/sales-channels", map[string]any{"name": "x", "x": 1}, 400, "Invalid request: Unrecognized fields: 'x'"},
		{"create with wrong type", "POST", "/sales-channels", map[string]any{"name": "x", "is_disabled": "yes"}, 400,
			"Invalid request: Expected type: 'boolean' for field 'is_disabled', got: 'string'"},
		{"create with metadata array", "POST", "/sales-channels", map[string]any{"name": "x", "metadata": []int{1}}, 400, ""},
		{"create with garbage", "POST", "/sales-channels", `{"name":`, 400, ""},
		{"create with 2 MiB", "POST", "/sales-channels", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, ""},
		{"update with unknown field", "POST", "/sales-channels/" + id, map[string]any{"x": 1}, 400, "Invalid request: Unrecognized fields: 'x'"},
		{"update description of wrong type", "POST", "/sales-channels/" + id, map[string]any{"description": 5}, 400,
			"Invalid request: Expected type: 'string' for field 'description', got: 'number'"},
		{"update metadata of wrong type", "POST", "/sales-channels/" + id, map[string]any{"metadata": "x"}, 400, ""},
		{"update with empty name", "POST", "/sales-channels/" + id, map[string]any{"name": ""}, 400, ""},
		{"update with garbage", "POST", "/sales-channels/" + id, `nope`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(tc.method, tc.path, tc.body)
			if r.Status != tc.status || r.JSON["type"] != "invalid_data" {
				t.Fatalf("%s %s = %d %s, want %d invalid_data", tc.method, tc.path, r.Status, r.Body, tc.status)
			}
			if tc.msg != "" && r.JSON["message"] != tc.msg {
				t.Errorf("%s %s message = %q, want %q", tc.method, tc.path, r.JSON["message"], tc.msg)
			}
		})
	}
	got := scOf(t, "GET after refused updates", do("GET", "/sales-channels/"+id, nil))
	if got["name"] != "Web" {
		t.Errorf("channel after refused updates = %v, want unchanged", got)
	}
	r := do("GET", "/sales-channels", nil)
	if r.JSON["count"] != float64(1) {
		t.Errorf("GET /admin/sales-channels = %s, want the one channel (no refused create stored)", r.Body)
	}
	// An empty update changes nothing and answers the channel.
	if got := scOf(t, "empty update", do("POST", "/sales-channels/"+id, nil)); got["name"] != "Web" {
		t.Errorf("empty update = %v, want unchanged", got)
	}
}

func TestSalesChannelsPublishableKeys(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	_, token := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return env.Do(t, method, "/admin"+path, body, "authorization", "Bearer "+token, "x-tenant-id", "acme")
	}
	id := scOf(t, "create", do("POST", "/sales-channels", map[string]any{"name": "Web"}))["id"].(string)
	r := do("POST", "/api-keys", map[string]any{"title": "storefront", "type": "publishable"})
	if r.Status != http.StatusOK {
		t.Fatalf("POST /admin/api-keys = %d %s", r.Status, r.Body)
	}
	key := r.JSON["api_key"].(map[string]any)
	keyID := key["id"].(string)
	r = do("POST", "/api-keys", map[string]any{"title": "backend", "type": "secret"})
	if r.Status != http.StatusOK {
		t.Fatalf("POST /admin/api-keys secret = %d %s", r.Status, r.Body)
	}
	if r = do("POST", "/api-keys/"+keyID+"/sales-channels", map[string]any{"add": []string{id}}); r.Status != http.StatusOK {
		t.Fatalf("link key = %d %s", r.Status, r.Body)
	}

	sc := scOf(t, "GET with key", do("GET", "/sales-channels/"+id, nil))
	keys, _ := sc["publishable_api_keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("publishable_api_keys = %v, want the one publishable key", sc["publishable_api_keys"])
	}
	k := keys[0].(map[string]any)
	if k["id"] != keyID || k["token"] != key["token"] || k["type"] != "publishable" || k["title"] != "storefront" {
		t.Errorf("publishable_api_keys[0] = %v, want key %s", k, keyID)
	}
	r = do("GET", "/sales-channels", nil)
	list, _ := r.JSON["sales_channels"].([]any)
	if len(list) != 1 || len(list[0].(map[string]any)["publishable_api_keys"].([]any)) != 1 {
		t.Errorf("GET /admin/sales-channels = %s, want the channel with its key", r.Body)
	}
	// Deleting a linked channel works and leaves the key.
	if r = do("DELETE", "/sales-channels/"+id, nil); r.Status != http.StatusOK {
		t.Errorf("DELETE linked channel = %d %s", r.Status, r.Body)
	}
	if r = do("GET", "/api-keys/"+keyID, nil); r.Status != http.StatusOK {
		t.Errorf("GET key after channel delete = %d %s", r.Status, r.Body)
	}
}

func TestSalesChannelsTenantIsolation(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	beta := env.Tenant(t, "beta")
	_, acmeToken := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")
	_, betaToken := env.Admin(t, beta, "admin@beta.test", "correct-horse-9")
	in := func(slug, token string) func(method, path string, body any) *apitest.Response {
		return func(method, path string, body any) *apitest.Response {
			t.Helper()
			return env.Do(t, method, "/admin"+path, body, "authorization", "Bearer "+token, "x-tenant-id", slug)
		}
	}
	asAcme, asBeta := in("acme", acmeToken), in("beta", betaToken)

	id := scOf(t, "create in acme", asAcme("POST", "/sales-channels", map[string]any{"name": "Acme web"}))["id"].(string)
	betaID := scOf(t, "create in beta", asBeta("POST", "/sales-channels", map[string]any{"name": "Beta web"}))["id"].(string)

	scWantError(t, "beta GET acme's channel", asBeta("GET", "/sales-channels/"+id, nil),
		http.StatusNotFound, "not_found", "Sales channel with id: "+id+" not found")
	scWantError(t, "beta POST acme's channel", asBeta("POST", "/sales-channels/"+id, map[string]any{"name": "stolen"}),
		http.StatusNotFound, "not_found", `Sales channel with id "`+id+`" not found`)
	scWantError(t, "beta DELETE acme's channel", asBeta("DELETE", "/sales-channels/"+id, nil),
		http.StatusNotFound, "not_found", "Sales channel with id: "+id+" not found")
	for _, q := range []string{"", "?id=" + id, "?q=acme", "?name=Acme%20web"} {
		r := asBeta("GET", "/sales-channels"+q, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("beta GET /admin/sales-channels%s = %d %s", q, r.Status, r.Body)
		}
		for _, got := range scIDs(r) {
			if got == id {
				t.Errorf("beta GET /admin/sales-channels%s lists acme's channel", q)
			}
		}
	}
	r := asBeta("GET", "/sales-channels", nil)
	if diff := cmp.Diff([]string{betaID}, scIDs(r)); diff != "" || r.JSON["count"] != float64(1) {
		t.Errorf("beta GET /admin/sales-channels = %s (-want +got):\n%s", r.Body, diff)
	}

	// Acme's token is no credential in beta, whichever way beta is named.
	for _, h := range [][]string{
		{"x-tenant-id", "beta"},
		{"host", "beta.localhost"},
	} {
		r := env.Do(t, "GET", "/admin/sales-channels/"+betaID, nil, append([]string{"authorization", "Bearer " + acmeToken}, h...)...)
		scWantError(t, "acme's token against beta "+h[1], r, http.StatusUnauthorized, "", "Unauthorized")
	}
	r = env.Do(t, "GET", "/t/beta/admin/sales-channels", nil, "authorization", "Bearer "+acmeToken)
	scWantError(t, "acme's token against /t/beta", r, http.StatusUnauthorized, "", "Unauthorized")
	r = env.Do(t, "DELETE", "/admin/sales-channels/"+betaID, nil, "authorization", "Bearer "+acmeToken, "x-tenant-id", "beta")
	scWantError(t, "acme's token deleting in beta", r, http.StatusUnauthorized, "", "Unauthorized")
	r = env.Do(t, "GET", "/admin/sales-channels", nil)
	if r.Status != http.StatusNotFound {
		t.Errorf("no tenant named = %d %s, want 404", r.Status, r.Body)
	}
	r = env.Do(t, "GET", "/admin/sales-channels", nil, "authorization", "Bearer "+acmeToken)
	scWantError(t, "no tenant named", r, http.StatusNotFound, "not_found", "Unknown tenant")

	// Acme's channel is intact.
	if got := scOf(t, "acme GET", asAcme("GET", "/sales-channels/"+id, nil)); got["name"] != "Acme web" {
		t.Errorf("acme's channel = %v, want unchanged", got)
	}
	// Unknown and suspended tenants.
	scWantError(t, "x-tenant-id: nope", env.Do(t, "GET", "/admin/sales-channels", nil,
		"authorization", "Bearer "+acmeToken, "x-tenant-id", "nope"), http.StatusNotFound, "not_found", "Unknown tenant")
	scWantError(t, "/t/nope", env.Do(t, "GET", "/t/nope/admin/sales-channels", nil,
		"authorization", "Bearer "+acmeToken), http.StatusNotFound, "not_found", "Unknown tenant")
	scWantError(t, "host nope.localhost", env.Do(t, "GET", "/admin/sales-channels", nil,
		"authorization", "Bearer "+acmeToken, "host", "nope.localhost"), http.StatusNotFound, "not_found", "Unknown tenant")

	if r := env.Do(t, "POST", "/platform/tenants/acme/suspend", nil, "authorization", "Bearer "+env.PlatformKey); r.Status != http.StatusOK {
		t.Fatalf("suspend acme = %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/sales-channels", "/sales-channels/" + id} {
		scWantError(t, "suspended GET "+path, asAcme("GET", path, nil), http.StatusForbidden, "not_allowed", "Tenant is suspended")
	}
	scWantError(t, "suspended POST", asAcme("POST", "/sales-channels", map[string]any{"name": "x"}),
		http.StatusForbidden, "not_allowed", "Tenant is suspended")
	scWantError(t, "suspended /t/acme", env.Do(t, "GET", "/t/acme/admin/sales-channels", nil, "authorization", "Bearer "+acmeToken),
		http.StatusForbidden, "not_allowed", "Tenant is suspended")
	// Beta is unaffected.
	if r := asBeta("GET", "/sales-channels", nil); r.Status != http.StatusOK {
		t.Errorf("beta while acme is suspended = %d %s, want 200", r.Status, r.Body)
	}
	if r := env.Do(t, "POST", "/platform/tenants/acme/resume", nil, "authorization", "Bearer "+env.PlatformKey); r.Status != http.StatusOK {
		t.Fatalf("resume acme = %d %s", r.Status, r.Body)
	}
	if got := scOf(t, "acme GET after resume", asAcme("GET", "/sales-channels/"+id, nil)); got["id"] != id {
		t.Errorf("acme's channel after resume = %v", got)
	}
}
