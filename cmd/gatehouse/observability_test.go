package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/tenants"
)

// buildTestApp builds and starts the real App on a fresh database (and
// Redis when GATEHOUSE_TEST_REDIS_URL is set) with a span recorder.
func buildTestApp(t *testing.T, rec sdktrace.SpanProcessor, env map[string]string) (*App, *httptest.Server) {
	t.Helper()
	return buildTestAppLogging(t, rec, env, io.Discard)
}

// buildTestAppLogging is buildTestApp with the server's log written to logOut.
func buildTestAppLogging(t *testing.T, rec sdktrace.SpanProcessor, env map[string]string, logOut io.Writer) (*App, *httptest.Server) {
	t.Helper()
	t.Setenv("GATEHOUSE_ENV", "test")
	t.Setenv("GATEHOUSE_DATABASE_URL", dbtest.URL(t))
	t.Setenv("GATEHOUSE_REDIS_URL", os.Getenv(apitest.RedisEnv))
	t.Setenv("GATEHOUSE_REDIS_PREFIX", apitest.SharedRedisPrefix(t)+"x")
	t.Setenv("GATEHOUSE_MASTER_KEY", "test-master-key-0123456789abcdef0123456789")
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.spanProcessor = rec
	a, err := Build(context.Background(), cfg, logOut)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if err := a.DB.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return a, srv
}

func call(t *testing.T, srv *httptest.Server, method, path, tenant, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("x-tenant-id", tenant)
	req.Header.Set("content-type", "application/json")
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func login(t *testing.T, a *App, srv *httptest.Server, slug, email, password string) string {
	t.Helper()
	tn, err := a.Tenants.Create(context.Background(), tenants.CreateInput{Slug: slug, Name: strings.ToUpper(slug)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Auth.CreateUser(tenants.NewContext(context.Background(), tn), auth.CreateUserInput{Email: email, Password: password}); err != nil {
		t.Fatal(err)
	}
	status, body := call(t, srv, "POST", "/auth/user/emailpass", slug, "", map[string]any{"email": email, "password": password})
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %v", email, status, body)
	}
	return body["token"].(string)
}

// TestDependencySpansAreChildrenOfTheRequest: a request's database queries
// and Redis commands are spans under its server span, and no span carries
// a password, token or query argument.
func TestDependencySpansAreChildrenOfTheRequest(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	a, srv := buildTestApp(t, rec, nil)
	const password = "correct-horse-9"
	token := login(t, a, srv, "acme", "admin@acme.test", password)
	if status, body := call(t, srv, "GET", "/admin/users/me", "acme", token, nil); status != http.StatusOK {
		t.Fatalf("GET /admin/users/me = %d %v", status, body)
	}

	spans := rec.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	// serverAncestor returns the server span above s, if any.
	serverAncestor := func(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
		for p, ok := byID[s.Parent().SpanID()]; ok; p, ok = byID[p.Parent().SpanID()] {
			if p.SpanKind() == trace.SpanKindServer {
				return p
			}
		}
		return nil
	}
	attr := func(s sdktrace.ReadOnlySpan, k attribute.Key) string {
		for _, kv := range s.Attributes() {
			if kv.Key == k {
				return kv.Value.String()
			}
		}
		return ""
	}
	var dbSpans, redisSpans, authChecks int
	for _, s := range spans {
		switch {
		case attr(s, "db.system") == "redis":
			redisSpans++
			if serverAncestor(s) == nil {
				t.Errorf("redis span %s has no server span above it", s.Name())
			}
		case attr(s, "db.system") == "sqlite" || attr(s, "db.system") == "postgresql":
			dbSpans++
			if serverAncestor(s) == nil {
				t.Errorf("database span %s (%s) has no server span above it", s.Name(), attr(s, "db.statement"))
			}
		case s.Name() == "auth.check":
			authChecks++
		}
		for _, kv := range s.Attributes() {
			v := kv.Value.String()
			if strings.Contains(v, password) || strings.Contains(v, token) || strings.Contains(v, "admin@acme.test") {
				t.Errorf("span %s attribute %s carries a secret or an argument: %q", s.Name(), kv.Key, v)
			}
		}
	}
	if dbSpans == 0 {
		t.Error("no database span was recorded under a request")
	}
	if a.Redis != nil && redisSpans == 0 {
		t.Error("no Redis span was recorded under a request")
	}
	if a.Redis == nil {
		t.Logf("%s unset: Redis spans are checked by the integration run", apitest.RedisEnv)
	}
	if authChecks == 0 {
		t.Error("no auth.check span")
	}
	t.Logf("%d spans: %d database, %d Redis, %d auth.check", len(spans), dbSpans, redisSpans, authChecks)
}

// TestMetricsTenantLabelForListedTenantsOnly: GATEHOUSE_METRICS_TENANTS adds
// a tenant label to the auth-check metrics of the listed tenants only.
func TestMetricsTenantLabelForListedTenantsOnly(t *testing.T) {
	a, srv := buildTestApp(t, nil, map[string]string{"GATEHOUSE_METRICS_TENANTS": "acme,ten_unknown"})
	for _, slug := range []string{"acme", "shop2"} {
		token := login(t, a, srv, slug, "admin@"+slug+".test", "correct-horse-9")
		if status, _ := call(t, srv, "GET", "/admin/users/me", slug, token, nil); status != http.StatusOK {
			t.Fatalf("GET /admin/users/me in %s = %d", slug, status)
		}
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var checks []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "gatehouse_auth_checks_total{") {
			checks = append(checks, l)
		}
	}
	all := strings.Join(checks, "\n")
	if !strings.Contains(all, `tenant="acme"`) {
		t.Errorf("/metrics has no auth check labelled tenant=\"acme\":\n%s", all)
	}
	if strings.Contains(all, "shop2") || strings.Contains(all, `tenant="ten_`) {
		t.Errorf("/metrics labels an unlisted tenant:\n%s", all)
	}
	unlabelled := false
	for _, l := range checks {
		unlabelled = unlabelled || !strings.Contains(l, "tenant=")
	}
	if !unlabelled {
		t.Errorf("shop2's checks are not counted without a label:\n%s", all)
	}
}
