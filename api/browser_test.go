package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/tenants"
)

func TestSecurityHeaders(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "hdr")
	_, tok := env.Admin(t, tn, "a@hdr.test", "correct-horse-9")
	r := env.Do(t, "GET", "/admin/users/me", nil, "x-tenant-id", "hdr", "authorization", "Bearer "+tok)
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("GET /admin/users/me header %s = %q, want %q", k, got, want)
		}
	}
	if got := env.Do(t, "GET", "/healthz", nil).Header.Get("Cache-Control"); got == "no-store" {
		t.Errorf("/healthz Cache-Control = %q: only identity responses are no-store", got)
	}
}

func TestCORS(t *testing.T) {
	env := apitest.New(t)
	env.Tenant(t, "dflt")
	if _, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "custom", Name: "C",
		Settings: map[string]any{"cors": map[string]any{"store": []any{"https://shop.example"}}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tenant, path, origin string
		allowed              bool
	}{
		{"dflt", "/admin/users", "http://localhost:5173", true},
		{"dflt", "/store/customers", "http://localhost:8000", true},
		{"dflt", "/store/customers", "http://localhost:5173", false},
		{"dflt", "/auth/user/emailpass", "https://evil.example", false},
		{"custom", "/store/customers", "https://shop.example", true},
		{"custom", "/store/customers", "http://localhost:8000", false},
	}
	for _, tt := range tests {
		r := env.Do(t, "OPTIONS", tt.path, nil, "x-tenant-id", tt.tenant, "Origin", tt.origin, "Access-Control-Request-Method", "POST")
		got := r.Header.Get("Access-Control-Allow-Origin")
		if r.Status != http.StatusNoContent || (got == tt.origin) != tt.allowed {
			t.Errorf("preflight %s %s from %s = %d, Allow-Origin %q; want 204 and allowed=%v", tt.tenant, tt.path, tt.origin, r.Status, got, tt.allowed)
		}
		if tt.allowed && r.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight %s from %s: no Allow-Credentials", tt.path, tt.origin)
		}
	}
	// Unknown tenants are not answered, even for preflights.
	if r := env.Do(t, "OPTIONS", "/admin/users", nil, "x-tenant-id", "nope", "Origin", "http://localhost:5173"); r.Status != 404 {
		t.Errorf("preflight for an unknown tenant = %d, want 404", r.Status)
	}
}

func TestCSRF(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "csrf")
	_, tok := env.Admin(t, tn, "a@csrf.test", "correct-horse-9")
	r := env.Do(t, "POST", "/auth/session", nil, "x-tenant-id", "csrf", "authorization", "Bearer "+tok)
	var cookie string
	for _, c := range r.Header.Values("Set-Cookie") {
		if len(c) > 12 && c[:12] == "connect.sid=" {
			cookie = c[:indexByte(c, ';')]
		}
	}
	if cookie == "" {
		t.Fatalf("POST /auth/session set no cookie: %v", r.Header)
	}
	refused := map[string]any{"type": "not_allowed", "message": "Cross-site request refused"}
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"no origin (non-browser client)", nil, 200},
		{"allowed admin origin", []string{"Origin", "http://localhost:7001"}, 200},
		{"the tenant's own host", []string{"Origin", "http://csrf.localhost"}, 200},
		{"foreign origin", []string{"Origin", "https://evil.example"}, 403},
		{"opaque origin", []string{"Origin", "null"}, 403},
		{"cross-site fetch metadata", []string{"Sec-Fetch-Site", "cross-site"}, 403},
	}
	for _, tt := range tests {
		h := append([]string{"x-tenant-id", "csrf", "Cookie", cookie}, tt.headers...)
		if tt.name == "the tenant's own host" {
			h = append([]string{"Host", "csrf.localhost", "Cookie", cookie}, tt.headers...)
		}
		r := env.Do(t, "POST", "/admin/users/"+"missing", map[string]any{"first_name": "x"}, h...)
		status := r.Status
		if status == 404 { // authenticated, reached the handler
			status = 200
		}
		if status != tt.want {
			t.Errorf("%s: POST with the session cookie = %d %s, want %d", tt.name, r.Status, r.Body, tt.want)
		}
		if tt.want == 403 && (r.JSON["type"] != refused["type"] || r.JSON["message"] != refused["message"]) {
			t.Errorf("%s: body %s, want %v", tt.name, r.Body, refused)
		}
	}
	// A Bearer token is not a cookie: no CSRF check applies.
	if r := env.Do(t, "POST", "/admin/users/missing", map[string]any{"first_name": "x"}, "x-tenant-id", "csrf", "authorization", "Bearer "+tok, "Origin", "https://evil.example"); r.Status != 404 {
		t.Errorf("Bearer request from a foreign origin = %d %s, want 404 (reached the handler)", r.Status, r.Body)
	}
	// GET with the cookie from anywhere is fine (no state change).
	if r := env.Do(t, "GET", "/admin/users/me", nil, "x-tenant-id", "csrf", "Cookie", cookie, "Origin", "https://evil.example"); r.Status != 200 {
		t.Errorf("GET with the cookie from a foreign origin = %d, want 200", r.Status)
	}
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return len(s)
}
