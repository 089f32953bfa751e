package admin_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestListFilters: list filters as the js-sdk sends them (qs writes arrays as
// id[0]=a&id[1]=b and operator maps as created_at[$gt]=…) select what they
// name; a filter that takes one value in Medusa (users' email, an API key's
// type) refuses several (400) instead of being dropped, as do bad dates and
// operators. Until this test, id arrays in that
// form and date maps were ignored: the whole list came back.
func TestListFilters(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	superID, tok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	var ids []string
	var created []time.Time
	for _, name := range []string{"ann", "bob", "cyd"} {
		id, _ := env.Admin(t, tn, name+"@acme.test", "correct horse 1")
		u := obj(t, wantStatus(t, "name "+name, env.Do(t, "POST", "/admin/users/"+id, map[string]any{"first_name": name}, as(tn, tok)...), 200), "user")
		at, err := time.Parse(time.RFC3339Nano, u["created_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		ids, created = append(ids, id), append(created, at)
		time.Sleep(5 * time.Millisecond) // distinct milliseconds, as the API shows them
	}
	users := func(query string) []string {
		t.Helper()
		return ids0(list(t, wantStatus(t, "GET /admin/users?"+query, env.Do(t, "GET", "/admin/users?"+query, nil, as(tn, tok)...), 200), "users"))
	}
	after := url.QueryEscape(created[1].Add(time.Millisecond).Format(time.RFC3339Nano))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"id%5B0%5D=" + ids[2] + "&id%5B1%5D=" + ids[0], []string{ids[0], ids[2]}}, // qs's indices
		{"id%5B%5D=" + ids[1], []string{ids[1]}},
		{"id=" + ids[0] + "&id=" + ids[1], []string{ids[0], ids[1]}},
		{"first_name=bob", []string{ids[1]}},
		{"first_name%5B0%5D=cyd", []string{ids[2]}},
		{"created_at%5B%24gte%5D=" + after, []string{ids[2]}},
		{"created_at%5B%24lt%5D=" + after, []string{superID, ids[0], ids[1]}},
		{"created_at%5B%24lt%5D=" + after + "&created_at%5B%24gt%5D=" + url.QueryEscape(created[0].Format(time.RFC3339Nano)), []string{ids[1]}},
		{"updated_at%5B%24gte%5D=2000-01-01", []string{superID, ids[0], ids[1], ids[2]}},
		{"updated_at%5B%24lt%5D=2000-01-01", nil},
	} {
		if got := users(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("GET /admin/users?%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	for _, tc := range []struct{ path, msg string }{
		{"/admin/users?email%5B0%5D=a@acme.test&email%5B1%5D=b@acme.test", "Invalid request: Expected type: 'string' for field 'email', got: 'array'"},
		{"/admin/invites?created_at%5B%24gt%5D=yesterday", "Invalid request: Expected type: 'date' for field 'created_at.$gt', got: 'yesterday'"},
		{"/admin/api-keys?created_at%5B%24like%5D=2020", "Invalid request: Unsupported operator '$like' for field 'created_at'"},
		{"/admin/sales-channels?updated_at=soon", "Invalid request: Expected type: 'date' for field 'updated_at.$eq', got: 'soon'"},
		{"/admin/api-keys?type=publishable&type=secret", "Invalid request: Expected type: 'string' for field 'type', got: 'array'"},
		{"/admin/invites?q=a&q=b", "Invalid request: Expected type: 'string' for field 'q', got: 'array'"},
		{"/admin/rbac/roles?order=name&order=-name", "Invalid request: Expected type: 'string' for field 'order', got: 'array'"},
		{"/admin/users?limit=1&limit=2", "Invalid request: Expected type: 'number' for field 'limit', got: 'array'"},
		{"/admin/rbac/policies?offset%5B0%5D=1&offset%5B1%5D=2", "Invalid request: Expected type: 'number' for field 'offset', got: 'array'"},
		{"/admin/sales-channels?description=a&description=b", "Invalid request: Expected type: 'string' for field 'description', got: 'array'"},
		{"/admin/users?with_deleted=maybe", "Invalid request: Expected type: 'boolean' for field 'with_deleted', got: 'string'"},
		{"/admin/invites?deleted_at%5B%24lt%5D=never", "Invalid request: Expected type: 'date' for field 'deleted_at.$lt', got: 'never'"},
	} {
		wantBody(t, tc.path, env.Do(t, "GET", tc.path, nil, as(tn, tok)...), 400, map[string]any{"type": "invalid_data", "message": tc.msg})
	}
	// The other lists take the same forms.
	role := mkRole(t, env, tn, tok, "filtered")
	if got := ids0(list(t, wantStatus(t, "roles by id", env.Do(t, "GET", "/admin/rbac/roles?id%5B0%5D="+role, nil, as(tn, tok)...), 200), "roles")); !slices.Equal(got, []string{role}) {
		t.Errorf("GET /admin/rbac/roles?id[0]=%s = %v", role, got)
	}
}

// ids0 is ids, nil when empty (for slices.Equal with a nil want).
func ids0(items []map[string]any) []string {
	if out := ids(items); len(out) > 0 {
		return out
	}
	return nil
}

// TestListFilterValues: the filters Medusa's validators take as a value or a
// list (z.union([string, array])) select any of the values given, and the
// filters that had been ignored (an API key's token, a channel's description
// and publishable keys, deleted_at, a role's users, a user's roles) select
// what they name. Another tenant's ids select nothing.
func TestListFilterValues(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	superID, tok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	get := func(path, key string) []string {
		t.Helper()
		return ids0(list(t, wantStatus(t, "GET "+path, env.Do(t, "GET", path, nil, as(tn, tok)...), 200), key))
	}
	check := func(path, key string, want ...string) {
		t.Helper()
		got := get(path, key)
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Errorf("GET %s = %v, want %v", path, got, want)
		}
	}

	// Roles: name and parent_id, any of.
	a, b := mkRole(t, env, tn, tok, "alpha"), mkRole(t, env, tn, tok, "beta")
	child := obj(t, wantStatus(t, "child role", env.Do(t, "POST", "/admin/rbac/roles", map[string]any{"name": "child", "parent_id": a}, as(tn, tok)...), 200), "role")["id"].(string)
	check("/admin/rbac/roles?name%5B0%5D=alpha&name%5B1%5D=beta", "roles", a, b)
	check("/admin/rbac/roles?name=alpha&name=nope", "roles", a)
	check("/admin/rbac/roles?parent_id%5B0%5D="+a+"&parent_id%5B1%5D="+b, "roles", child)
	check("/admin/rbac/roles/assignable?name%5B%5D=beta&name%5B%5D=child", "roles", b, child)

	// Policies: key, resource and operation, any of.
	read, update := policyID(t, env, tn, tok, "user:read"), policyID(t, env, tn, tok, "user:update")
	check("/admin/rbac/policies?key%5B0%5D=user:read&key%5B1%5D=user:update", "policies", read, update)
	check("/admin/rbac/policies?resource=user&operation%5B0%5D=read&operation%5B1%5D=update", "policies", read, update)

	// Invites: email, any of, in any letter case.
	i1, _ := mkInvite(t, env, tn, tok, "one@acme.test")
	i2, _ := mkInvite(t, env, tn, tok, "two@acme.test")
	mkInvite(t, env, tn, tok, "three@acme.test")
	check("/admin/invites?email%5B0%5D=one@acme.test&email%5B1%5D=TWO@acme.test", "invites", i1, i2)

	// API keys: title, any of; token selects a publishable key by its token,
	// never a secret key.
	pk, pkTok := mkKey(t, env, tn, tok, "storefront", "publishable")
	sk, skTok := mkKey(t, env, tn, tok, "backend", "secret")
	check("/admin/api-keys?title%5B0%5D=storefront&title%5B1%5D=backend", "api_keys", pk, sk)
	check("/admin/api-keys?token="+pkTok, "api_keys", pk)
	check("/admin/api-keys?token="+url.QueryEscape(skTok), "api_keys")
	check("/admin/api-keys?token=", "api_keys")

	// Sales channels: name, any of; description exact; publishable_key_id
	// the channels of those keys; no stock locations, so location_id
	// selects none.
	web, pos := mkChannel(t, env, tn, tok, "Web"), mkChannel(t, env, tn, tok, "POS")
	mkChannel(t, env, tn, tok, "B2B")
	wantStatus(t, "describe POS", env.Do(t, "POST", "/admin/sales-channels/"+pos, map[string]any{"description": "Shop floor"}, as(tn, tok)...), 200)
	wantStatus(t, "link web", env.Do(t, "POST", "/admin/api-keys/"+pk+"/sales-channels", map[string]any{"add": []string{web}}, as(tn, tok)...), 200)
	check("/admin/sales-channels?name%5B0%5D=Web&name%5B1%5D=POS", "sales_channels", web, pos)
	check("/admin/sales-channels?description=Shop%20floor", "sales_channels", pos)
	check("/admin/sales-channels?description=Shop", "sales_channels")
	check("/admin/sales-channels?description%5B0%5D=Shop%20floor", "sales_channels", pos)
	check("/admin/sales-channels?publishable_key_id="+pk, "sales_channels", web)
	check("/admin/sales-channels?publishable_key_id="+sk, "sales_channels")
	check("/admin/sales-channels?location_id=sloc_1", "sales_channels")

	// deleted_at: lists show no deleted record, so no comparison holds.
	check("/admin/users?deleted_at%5B%24lt%5D=2999-01-01", "users")
	check("/admin/users?with_deleted=true", "users", superID)

	// A role's users (user_id) and a user's roles (role_id, as a page).
	other, _ := env.Admin(t, tn, "other@acme.test", "correct horse 1")
	for _, u := range []string{superID, other} {
		wantStatus(t, "assign alpha", env.Do(t, "POST", "/admin/users/"+u+"/roles", map[string]any{"roles": []string{a}}, as(tn, tok)...), 200)
	}
	check("/admin/rbac/roles/"+a+"/users", "users", superID, other)
	check("/admin/rbac/roles/"+a+"/users?user_id="+other, "users", other)
	roles := wantStatus(t, "user roles", env.Do(t, "GET", "/admin/users/"+superID+"/roles?role_id%5B0%5D="+a+"&limit=1", nil, as(tn, tok)...), 200)
	if got := ids(list(t, roles, "roles")); !slices.Equal(got, []string{a}) || roles["count"] != float64(1) || roles["limit"] != float64(1) || roles["offset"] != float64(0) {
		t.Errorf("GET /admin/users/:id/roles?role_id[0]=alpha&limit=1 = %v", roles)
	}
	all := wantStatus(t, "user roles page", env.Do(t, "GET", "/admin/users/"+superID+"/roles?offset=1&limit=1", nil, as(tn, tok)...), 200)
	if got := list(t, all, "roles"); len(got) != 1 || all["count"] != float64(2) {
		t.Errorf("GET /admin/users/:id/roles?offset=1&limit=1 = %v, want 1 of 2 (super admin, alpha)", all)
	}

	// Tenant B names A's ids and values: nothing.
	tb := env.Tenant(t, "beta")
	_, btok := env.Admin(t, tb, "super@beta.test", "correct horse 1")
	for path, key := range map[string]string{
		"/admin/sales-channels?publishable_key_id=" + pk: "sales_channels",
		"/admin/api-keys?token=" + pkTok:                 "api_keys",
		"/admin/invites?email=one@acme.test":             "invites",
		"/admin/rbac/roles?name=alpha":                   "roles",
	} {
		if got := list(t, wantStatus(t, "B: "+path, env.Do(t, "GET", path, nil, as(tb, btok)...), 200), key); len(got) != 0 {
			t.Errorf("tenant B: GET %s = %v, want none", path, got)
		}
	}
	wantStatus(t, "B on A's role users", env.Do(t, "GET", "/admin/rbac/roles/"+a+"/users?user_id="+other, nil, as(tb, btok)...), 404)
}

// TestUnknownQueryParameters: a route Medusa validates refuses a query
// parameter it does not know with Medusa's 400, naming every unknown one in
// order, before anything is written; what it knows (fields, with_deleted,
// our sales_channel_id) passes. Routes of ours that read no query accept any.
func TestUnknownQueryParameters(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	superID, tok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	unrecognized := func(names string) map[string]any {
		return map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: '" + names + "'"}
	}
	for _, tc := range []struct{ method, path, names string }{
		{"GET", "/admin/users?emial=a@acme.test", "emial"},
		{"GET", "/admin/users?limit=1&foo=1&bar%5B0%5D=2&foo=3&created_at.%24gt=2020-01-01&baz.x=1", "foo, bar, baz"},
		{"GET", "/admin/users?%24or%5B0%5D%5Bemail%5D=a@acme.test", "$or"},
		{"GET", "/admin/rbac/roles?%24and%5B0%5D%5Bname%5D=x", "$and"},
		{"GET", "/admin/users/me?limit=1", "limit"},
		{"GET", "/admin/users/" + superID + "?q=x", "q"},
		{"GET", "/admin/invites?token=x", "token"},
		{"GET", "/admin/api-keys?name=x", "name"},
		{"GET", "/admin/sales-channels?title=x", "title"},
		{"GET", "/admin/rbac/policies?name=x", "name"},
		{"GET", "/admin/rbac/roles/role_super_admin/users?role_id=x", "role_id"},
		{"GET", "/admin/rbac/policies/assignable?parent_id=x", "parent_id"},
	} {
		wantBody(t, tc.method+" "+tc.path, env.Do(t, tc.method, tc.path, nil, as(tn, tok)...), 400, unrecognized(tc.names))
	}

	// Refused before the handler: nothing is written.
	wantBody(t, "update with an unknown parameter", env.Do(t, "POST", "/admin/users/"+superID+"?notify=1",
		map[string]any{"first_name": "Changed"}, as(tn, tok)...), 400, unrecognized("notify"))
	wantBody(t, "create a channel with an unknown parameter", env.Do(t, "POST", "/admin/sales-channels?dry_run=true",
		map[string]any{"name": "Ghost"}, as(tn, tok)...), 400, unrecognized("dry_run"))
	if u := obj(t, wantStatus(t, "user after", env.Do(t, "GET", "/admin/users/"+superID, nil, as(tn, tok)...), 200), "user"); u["first_name"] == "Changed" {
		t.Errorf("the refused update was written: %v", u)
	}
	if got := list(t, wantStatus(t, "channels after", env.Do(t, "GET", "/admin/sales-channels?name=Ghost", nil, as(tn, tok)...), 200), "sales_channels"); len(got) != 0 {
		t.Errorf("the refused create was written: %v", got)
	}

	// Known parameters pass, in every route's own set.
	for _, path := range []string{
		"/admin/users?fields=id,email&with_deleted=false&limit=5&offset=0&order=-email&q=s&id=x&email=a&first_name=a&last_name=b",
		"/admin/users/me?fields=%2Bmetadata",
		"/admin/users?sales_channel_id%5B0%5D=sc_any",
		"/admin/api-keys?revoked_at%5B%24lt%5D=2999-01-01&type=secret&token=pk_x&title=t",
		"/admin/sales-channels?is_disabled=false&location_id=x&publishable_key_id=y&description=z",
		"/admin/rbac/roles/role_super_admin?policies=x",
		"/admin/rbac/roles/role_super_admin/policies?limit=5&policies=x",
		"/admin/rbac/policies/rpol_super_admin/roles?limit=5&order=name",
		"/admin/audit-events?anything=goes", // ours: reads its own filters only
	} {
		wantStatus(t, "GET "+path, env.Do(t, "GET", path, nil, as(tn, tok)...), 200)
	}
	// Authentication comes first: another tenant's token is a 401, whatever
	// the query.
	tb := env.Tenant(t, "beta")
	_, btok := env.Admin(t, tb, "super@beta.test", "correct horse 1")
	wantBody(t, "B's token on A", env.Do(t, "GET", "/admin/users?foo=1", nil, as(tn, btok)...), 401, map[string]any{"message": "Unauthorized"})
}
