package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// benchApp is a Gatehouse built as serve builds it, with a tenant "bench",
// an admin, a customer, a secret key (super admin) and a publishable key.
type benchApp struct {
	*App
	tn                *ent.Tenant
	adminID           string
	tok, ctok, sk, pk string
}

// newBenchApp builds it on PostgreSQL and Redis when
// GATEHOUSE_TEST_POSTGRES_URL / GATEHOUSE_TEST_REDIS_URL are set, else on
// SQLite in memory and the memory store.
func newBenchApp(b *testing.B) *benchApp {
	cfg := Config{
		Addr: "127.0.0.1:0", DatabaseURL: dbtest.URL(b), Env: "test", Traces: "none", LogLevel: "warn",
		MasterKey: "bench-master-key-0123456789abcdef0123456789", PublicURL: "http://gatehouse.test",
		RedisURL: os.Getenv("GATEHOUSE_TEST_REDIS_URL"), RedisPrefix: "ghbench" + randomSuffix(),
	}
	ctx := context.Background()
	a, err := Build(ctx, cfg, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	if err := a.DB.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		b.Fatal(err)
	}
	tn, err := a.Tenants.Create(ctx, tenants.CreateInput{Slug: "bench", Name: "Bench",
		Settings: map[string]any{"auth_ip_per_minute": 100000000, "auth_ip_burst": 1000000}})
	if err != nil {
		b.Fatal(err)
	}
	tctx := tenants.NewContext(ctx, tn)
	const pw = "correct-horse-9"
	admin, err := a.Auth.CreateUser(tctx, auth.CreateUserInput{Email: "admin@bench.test", Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	_, sk, err := a.Auth.CreateAPIKey(tctx, nil, auth.CreateAPIKeyInput{Title: "b", Type: auth.KeySecret, Roles: []string{"role_super_admin"}})
	if err != nil {
		b.Fatal(err)
	}
	_, pk, err := a.Auth.CreateAPIKey(tctx, nil, auth.CreateAPIKeyInput{Title: "p", Type: auth.KeyPublishable})
	if err != nil {
		b.Fatal(err)
	}
	token := func(w *httptest.ResponseRecorder) string {
		var v struct{ Token string }
		_ = json.Unmarshal(w.Body.Bytes(), &v)
		if v.Token == "" {
			b.Fatalf("no token: %d %s", w.Code, w.Body)
		}
		return v.Token
	}
	creds := `{"email":"admin@bench.test","password":"` + pw + `"}`
	ba := &benchApp{App: a, tn: tn, adminID: admin.ID, sk: sk, pk: pk}
	do := ba.do
	ba.tok = token(do("POST", "/auth/user/emailpass", creds))
	shopper := `{"email":"shopper@bench.test","password":"` + pw + `"}`
	reg := token(do("POST", "/auth/customer/emailpass/register", shopper))
	if w := do("POST", "/store/customers", `{"email":"shopper@bench.test"}`, "x-publishable-api-key", pk, "authorization", "Bearer "+reg); w.Code != 200 {
		b.Fatalf("create customer: %d %s", w.Code, w.Body)
	}
	ba.ctok = token(do("POST", "/auth/customer/emailpass", shopper))
	return ba
}

// do serves one request in process, as tenant bench from 127.0.0.1.
func (a *benchApp) do(method, path, body string, h ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("x-tenant-id", "bench")
	if body != "" {
		r.Header.Set("content-type", "application/json")
	}
	for i := 0; i+1 < len(h); i += 2 {
		r.Header.Set(h[i], h[i+1])
	}
	w := httptest.NewRecorder()
	a.Handler.ServeHTTP(w, r)
	return w
}

// BenchmarkHTTP measures whole requests through the production wiring
// (Build: every middleware, the cached store, the caches) without the
// network, in parallel: the in-process side of scripts/bench-http.sh, and
// the one to profile (go test -cpuprofile).
func BenchmarkHTTP(b *testing.B) {
	a := newBenchApp(b)
	tok, ctok, sk, pk, do := a.tok, a.ctok, a.sk, a.pk, a.do
	routes := []struct {
		name, path string
		headers    []string
	}{
		{"healthz", "/healthz", nil},
		{"bearer", "/admin/users/me", []string{"authorization", "Bearer " + tok}},
		{"secret", "/admin/users/" + a.adminID, []string{"authorization", "Basic " + sk}},
		{"secret-channels", "/admin/sales-channels?limit=1", []string{"authorization", "Basic " + sk}},
		{"store", "/store/customers/me", []string{"x-publishable-api-key", pk, "authorization", "Bearer " + ctok}},
		{"decisions", "/decisions", []string{"authorization", "Bearer " + tok, "X-Original-Method", "GET", "X-Original-URI", "/admin/users"}},
	}
	for _, rt := range routes {
		if w := do("GET", rt.path, "", rt.headers...); w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", rt.name, w.Code, w.Body)
		}
		b.Run(rt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := do("GET", rt.path, "", rt.headers...); w.Code != http.StatusOK {
						b.Errorf("%s: %d %s", rt.name, w.Code, w.Body)
						return
					}
				}
			})
		})
	}
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
