package api_test

import (
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestTextSafe: NUL characters and bytes that are not UTF-8, in a path, a
// query, a body or a forwarded URI, get Medusa's 400 before they reach a
// query (PostgreSQL refuses both in text and would fail the request: a 500).
// Run on PostgreSQL by make test-integration.
func TestTextSafe(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "acme")
	_, tok := env.Admin(t, tn, "admin@acme.test", "correct-horse-9")
	admin := []string{"x-tenant-id", tn.Slug, "authorization", "Bearer " + tok}
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
	}{
		{"NUL in a query value", "GET", "/admin/users?q=%00", nil, admin},
		{"NUL in a query name", "GET", "/admin/users?%00=1", nil, admin},
		{"not UTF-8 in a query", "GET", "/admin/users?email=%ff", nil, admin},
		{"NUL in an id", "GET", "/admin/users/user_%00", nil, admin},
		{"not UTF-8 in an id", "DELETE", "/admin/invites/%c3%28", nil, admin},
		{"NUL in a body", "POST", "/admin/sales-channels", `{"name":"a\u0000b"}`, admin},
		{"NUL in a body key", "POST", "/admin/users/me/password", `{"old_password\u0000":"x"}`, admin},
		{"NUL in a login", "POST", "/auth/user/emailpass", `{"email":"admin@acme.test\u0000","password":"x"}`, []string{"x-tenant-id", tn.Slug}},
	} {
		r := env.Do(t, tc.method, tc.path, tc.body, tc.headers...)
		if r.Status != 400 || r.JSON["type"] != "invalid_data" {
			t.Errorf("%s: %s %s = %d %s, want 400 invalid_data", tc.name, tc.method, tc.path, r.Status, r.Body)
		}
	}
	// Headers: a tenant named with bytes no tenant has is unknown (it read
	// as "directory unavailable", a 503, on PostgreSQL); credentials that
	// cannot be valid are refused as such.
	for name, tc := range map[string]struct {
		headers []string
		status  int
	}{
		"tenant id not UTF-8":   {[]string{"x-tenant-id", "ten_\xff", "authorization", "Bearer " + tok}, 404},
		"tenant slug not UTF-8": {[]string{"x-tenant-id", "ac\xffme", "authorization", "Bearer " + tok}, 404},
		"host not UTF-8":        {[]string{"Host", "ac\xffme.localhost", "authorization", "Bearer " + tok}, 404},
		"secret key not UTF-8":  {[]string{"x-tenant-id", tn.Slug, "authorization", "Basic sk_\xff"}, 401},
		"session not UTF-8":     {[]string{"x-tenant-id", tn.Slug, "cookie", "connect.sid=\xff"}, 401},
	} {
		if r := env.Do(t, "GET", "/admin/users/me", nil, tc.headers...); r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", name, r.Status, r.Body, tc.status)
		}
	}
	if r := env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", tn.Slug, "x-publishable-api-key", "pk_\xff"); r.Status != 400 {
		t.Errorf("publishable key not UTF-8: %d %s, want 400", r.Status, r.Body)
	}
	// A slug is checked against the slug format before any lookup.
	if r := env.Do(t, "GET", "/t/ac%00me/admin/users/me", nil, "authorization", "Bearer "+tok); r.Status != 404 || r.JSON["message"] != "Unknown tenant" {
		t.Errorf("NUL in a tenant slug = %d %s, want 404 Unknown tenant", r.Status, r.Body)
	}
	// An escaped backslash before u0000 is text, and a forwarded URI with a
	// NUL is judged, not passed to the database.
	if r := env.Do(t, "POST", "/admin/sales-channels", `{"name":"C:\\u0000"}`, admin...); r.Status != 200 {
		t.Errorf("a literal backslash-u0000 name = %d %s, want 200", r.Status, r.Body)
	}
	for _, uri := range []string{"/t/ac%00me/admin/users", "/admin/users/%00", "/admin/users?q=%00", "/admin/users/\xff", "/t/\xff/admin/users"} {
		r := env.Do(t, "GET", "/decisions", nil, "X-Original-Method", "GET", "X-Original-URI", uri, "x-tenant-id", tn.Slug, "authorization", "Bearer "+tok)
		if r.Status >= 500 {
			t.Errorf("/decisions for %s = %d %s", uri, r.Status, r.Body)
		}
	}
}
