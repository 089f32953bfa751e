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
// name; a filter that takes one value refuses several (400) instead of being
// dropped, as do bad dates and operators. Until this test, id arrays in that
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
		{"/admin/rbac/roles?name=a&name=b", "Invalid request: Expected type: 'string' for field 'name', got: 'array'"},
		{"/admin/invites?created_at%5B%24gt%5D=yesterday", "Invalid request: Expected type: 'date' for field 'created_at.$gt', got: 'yesterday'"},
		{"/admin/api-keys?created_at%5B%24like%5D=2020", "Invalid request: Unsupported operator '$like' for field 'created_at'"},
		{"/admin/sales-channels?updated_at=soon", "Invalid request: Expected type: 'date' for field 'updated_at.$eq', got: 'soon'"},
		{"/admin/rbac/policies?key%5B0%5D=a&key%5B1%5D=b", "Invalid request: Expected type: 'string' for field 'key', got: 'array'"},
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
