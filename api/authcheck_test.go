package api_test

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestAuthCheckSpans: every authentication decision is one auth.check span
// with the method, decision and reason, and no span attribute carries a
// token, key or password.
func TestAuthCheckSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	env := apitest.NewWith(t, apitest.Options{SpanProcessor: rec})
	tn := env.Tenant(t, "spans")
	const pw = "span-password-42"
	_, tok := env.Admin(t, tn, "a@spans.test", pw)
	h := func(kv ...string) []string { return append([]string{"x-tenant-id", "spans"}, kv...) }

	sk := env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "s", "type": "secret"}, h("authorization", "Bearer "+tok)...).JSON["api_key"].(map[string]any)["token"].(string)
	pk := env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "p", "type": "publishable"}, h("authorization", "Bearer "+tok)...).JSON["api_key"].(map[string]any)["token"].(string)
	sess := env.Do(t, "POST", "/auth/session", nil, h("authorization", "Bearer "+tok)...)
	cookie := strings.SplitN(sess.Header.Get("Set-Cookie"), ";", 2)[0]
	secrets := []string{tok, sk, pk, pw, strings.TrimPrefix(cookie, "connect.sid=")}

	cases := []struct {
		name                     string
		headers                  []string
		path                     string
		method, decision, reason string
	}{
		{"bearer", h("authorization", "Bearer "+tok), "/admin/users/me", "bearer", "allow", "ok"},
		{"session", h("Cookie", cookie), "/admin/users/me", "session", "allow", "ok"},
		{"secret key", h("authorization", "Basic "+sk), "/admin/users", "secret_key", "allow", "ok"},
		{"publishable key", h("x-publishable-api-key", pk), "/store/customers/me", "publishable_key", "allow", "ok"},
		{"bad token", h("authorization", "Bearer abc.def.ghi"), "/admin/users/me", "bearer", "deny", "invalid"},
		{"nothing", h(), "/admin/users/me", "none", "deny", "invalid"},
	}
	for _, tc := range cases {
		rec.Reset()
		env.Do(t, "GET", tc.path, nil, tc.headers...)
		var checks []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.Name() == "auth.check" {
				checks = append(checks, s)
			}
		}
		if len(checks) < 1 {
			t.Errorf("%s: %d auth.check spans, want at least 1", tc.name, len(checks))
			continue
		}
		s := checks[0]
		attrs := map[attribute.Key]string{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value.String()
		}
		if attrs["auth.method"] != tc.method || attrs["auth.decision"] != tc.decision || attrs["auth.reason"] != tc.reason || attrs["tenant.id"] != tn.ID {
			t.Errorf("%s: auth.check attributes = %v, want method %s, decision %s, reason %s, tenant %s", tc.name, attrs, tc.method, tc.decision, tc.reason, tn.ID)
		}
	}
	// Revocation is a reason of its own.
	env.Do(t, "POST", "/auth/logout-all", nil, h("authorization", "Bearer "+tok)...)
	rec.Reset()
	env.Do(t, "GET", "/admin/users/me", nil, h("authorization", "Bearer "+tok)...)
	found := false
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			found = found || (s.Name() == "auth.check" && kv.Key == "auth.reason" && kv.Value.String() == "revoked")
		}
	}
	if !found {
		t.Errorf("a revoked token's auth.check span has no reason revoked")
	}
	// No secret in any span attribute or in the logs.
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			for _, sec := range secrets {
				if sec != "" && strings.Contains(kv.Value.String(), sec) {
					t.Errorf("span %s attribute %s contains a secret", s.Name(), kv.Key)
				}
			}
		}
	}
	for _, sec := range secrets {
		if strings.Contains(env.Logs.String(), sec) {
			t.Errorf("the logs contain a secret (%.8s…)", sec)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	env := apitest.New(t)
	env.Tenant(t, "m")
	env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "x@m.test", "password": "nope-nope"}, "x-tenant-id", "m")
	r := env.Do(t, "GET", "/metrics", nil)
	body := string(r.Body)
	for _, want := range []string{"gatehouse_http_request_duration_seconds", "gatehouse_logins_total", `result="failure"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "ten_") {
		t.Errorf("/metrics has tenant ids as labels")
	}
}
