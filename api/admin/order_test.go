package admin_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestListOrder: the Medusa lists sort by ?order= ("field" ascending,
// "-field" descending, ties in the list's own order), and a field a list
// does not sort by is Medusa's 400 "Order field <f> is not valid". Each list
// gets three items whose sort values differ in one letter ("kb", "ka", "kc",
// made in that order), so the expected order holds under any collation.
func TestListOrder(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "super@acme.test", "correct horse 1")
	made := []string{"kb", "ka", "kc"}
	for _, k := range made {
		env.Admin(t, tn, k+"@acme.test", "correct horse 1")
		wantStatus(t, "invite "+k, env.Do(t, "POST", "/admin/invites", map[string]any{"email": k + "-inv@acme.test"}, as(tn, tok)...), 200)
		mkKey(t, env, tn, tok, k+" key", "secret")
		wantStatus(t, "channel "+k, env.Do(t, "POST", "/admin/sales-channels", map[string]any{"name": k + " channel"}, as(tn, tok)...), 200)
		mkRole(t, env, tn, tok, k+" role")
		mkPolicy(t, env, tn, tok, k+"res", "read")
	}

	lists := []struct {
		path, key, field string
	}{
		{"/admin/users", "users", "email"},
		{"/admin/invites", "invites", "email"},
		{"/admin/api-keys", "api_keys", "title"},
		{"/admin/sales-channels", "sales_channels", "name"},
		{"/admin/rbac/roles", "roles", "name"},
		{"/admin/rbac/roles/assignable", "roles", "name"},
		{"/admin/rbac/policies", "policies", "key"},
		{"/admin/rbac/policies/assignable", "policies", "key"},
	}
	// ours returns the sort values of the three items, in the order listed.
	ours := func(path, key, field string) []string {
		t.Helper()
		var out []string
		for _, it := range list(t, wantStatus(t, "GET "+path, env.Do(t, "GET", path, nil, as(tn, tok)...), 200), key) {
			v, _ := it[field].(string)
			for _, k := range made {
				if strings.HasPrefix(v, k) {
					out = append(out, k)
				}
			}
		}
		return out
	}
	sep := func(path string) string {
		if strings.Contains(path, "?") {
			return "&"
		}
		return "?"
	}
	for _, l := range lists {
		path := l.path + sep(l.path) + "limit=100"
		if got, want := ours(path+"&order="+l.field, l.key, l.field), []string{"ka", "kb", "kc"}; !slices.Equal(got, want) {
			t.Errorf("%s?order=%s: %v, want %v", l.path, l.field, got, want)
		}
		if got, want := ours(path+"&order=-"+l.field, l.key, l.field), []string{"kc", "kb", "ka"}; !slices.Equal(got, want) {
			t.Errorf("%s?order=-%s: %v, want %v", l.path, l.field, got, want)
		}
		if l.key != "policies" {
			// Oldest first by default; -created_at reverses it.
			if got := ours(path, l.key, l.field); !slices.Equal(got, made) {
				t.Errorf("%s: %v, want the order made %v", l.path, got, made)
			}
			if got, want := ours(path+"&order=-created_at", l.key, l.field), []string{"kc", "ka", "kb"}; !slices.Equal(got, want) {
				t.Errorf("%s?order=-created_at: %v, want %v", l.path, got, want)
			}
		}
		for _, bad := range []string{"nope", "-password", "email;drop table users", "--" + l.field} {
			field := strings.TrimPrefix(bad, "-")
			wantBody(t, l.path+" order="+bad, env.Do(t, "GET", l.path+sep(l.path)+"order="+url.QueryEscape(bad), nil, as(tn, tok)...), 400,
				map[string]any{"type": "invalid_data", "message": "Order field " + field + " is not valid"})
		}
	}
}
