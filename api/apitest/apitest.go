// Package apitest runs a real Gatehouse API (every service wired as in
// production) on httptest for HTTP tests: SQLite in memory by default,
// PostgreSQL and Redis when GATEHOUSE_TEST_POSTGRES_URL and
// GATEHOUSE_TEST_REDIS_URL are set.
package apitest

import (
	"bytes"
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
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/gatehousehq/gatehouse/api"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
	"github.com/gatehousehq/gatehouse/webhooks"
)

// RedisEnv names the variable that switches tests to Redis.
const RedisEnv = "GATEHOUSE_TEST_REDIS_URL"

// Env is a running test server and the services behind it.
type Env struct {
	Server      *httptest.Server
	URL         string
	DB          *database.DB
	Store       auth.Store
	Tenants     *tenants.Registry
	Channels    *tenants.Channels
	Auth        *auth.Service
	RBAC        *rbac.Service
	RouteMap    *rbac.RouteMap
	Keys        *auth.Keys
	Webhooks    *webhooks.Service
	Telemetry   *observability.Telemetry
	PlatformKey string
	Logs        *bytes.Buffer
}

// Options adjust New.
type Options struct {
	// DB shares a database between two Envs (two nodes); nil: a fresh one.
	DB *database.DB
	// RedisPrefix shares Redis keys between two Envs; "": a fresh prefix.
	RedisPrefix string
	// SpanProcessor records spans.
	SpanProcessor sdktrace.SpanProcessor
	// Auth configures the auth service (its clock, lifetimes); zero: defaults.
	Auth auth.Config
}

// New starts a server with a fresh database.
func New(t testing.TB) *Env { return NewWith(t, Options{}) }

// NewWith starts a server with options.
func NewWith(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{PlatformKey: "test-platform-key-0123456789abcdef", Logs: &bytes.Buffer{}}
	tel, err := observability.New(context.Background(), observability.Config{SpanProcessor: o.SpanProcessor}, e.Logs)
	if err != nil {
		t.Fatal(err)
	}
	e.Telemetry = tel
	e.DB = o.DB
	if e.DB == nil {
		e.DB = dbtest.Open(t)
	}
	e.Store = NewStore(t, o.RedisPrefix)
	master := []byte("test-master-key-0123456789abcdef0123456789")
	e.Tenants = tenants.NewRegistry(e.DB.Client, tenants.Options{BaseDomain: "localhost", Bus: e.Store})
	e.Channels = tenants.NewChannels(e.DB.Client)
	e.Keys, err = auth.NewKeys(e.DB.Client, master, e.Store, 30*24*time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	apiKeys, err := auth.NewAPIKeys(e.DB.Client, master, e.Store, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Cheap hashing keeps tests fast; the parameters are tested in auth.
	hasher := auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	tokens := auth.NewTokens(e.Keys, "http://gatehouse.test", 0)
	e.Auth = auth.NewService(e.DB.Client, e.Store, hasher, e.Keys, tokens, apiKeys, o.Auth, tel.Logger)
	t.Cleanup(func() { // before the database closes (cleanups run last-in first-out)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Auth.Drain(ctx)
	})
	if err := e.Auth.SetMasterKey(master); err != nil {
		t.Fatal(err)
	}
	if th := newThrottle(t, e.Store); th != nil {
		e.Auth.SetThrottle(th)
	}
	e.Tenants.OnCreate(func(ctx context.Context, tx *ent.Client, tn *ent.Tenant) error {
		alg, _ := tn.Settings["jwt_algorithm"].(string)
		return e.Keys.Create(ctx, tx, alg)
	})
	authz, err := rbac.NewAuthorizer(e.DB.Client, rbac.Options{Bus: e.Store})
	if err != nil {
		t.Fatal(err)
	}
	e.RBAC = rbac.NewService(e.DB.Client, authz)
	e.RouteMap = rbac.NewRouteMap(e.DB.Client, e.Store, 0)
	e.Tenants.OnCreate(func(ctx context.Context, tx *ent.Client, _ *ent.Tenant) error { return rbac.Seed(ctx, tx) })
	e.Auth.SetRoleHooks(auth.RoleHooks{Roles: e.RBAC.RoleIDs, RemoveTx: e.RBAC.RemoveSubjectTx, AssignTx: e.RBAC.AssignTx, Changed: e.RBAC.Changed,
		SuperAdmin: rbac.RoleSuperAdmin})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, start := range []func(context.Context) error{e.Tenants.Start, e.Keys.Start, apiKeys.Start, authz.Start, e.RouteMap.Start} {
		if err := start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { e.Tenants.Close(); e.Keys.Close(); apiKeys.Close(); authz.Close(); e.RouteMap.Close() })
	// Webhook targets in tests are httptest receivers on loopback.
	e.Webhooks, err = webhooks.New(e.DB.Client, master, webhooks.Options{Dialect: e.DB.Dialect, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{
		Telemetry: tel, Tenants: e.Tenants, Channels: e.Channels, Auth: e.Auth, RBAC: e.RBAC, RouteMap: e.RouteMap, PlatformKey: e.PlatformKey,
		Audit: audit.New(e.DB.Client), Webhooks: e.Webhooks,
		Ready: []api.Check{{Name: "database", Ping: e.DB.Ping}, {Name: "store", Ping: e.Store.Ping}},
	})
	e.Server = httptest.NewServer(h)
	t.Cleanup(e.Server.Close)
	e.URL = e.Server.URL
	return e
}

// NewStore returns the Redis store when GATEHOUSE_TEST_REDIS_URL is set (with
// prefix, or a fresh one, whose keys are deleted at cleanup), else memory.
func NewStore(t testing.TB, prefix string) auth.Store {
	t.Helper()
	u := os.Getenv(RedisEnv)
	if u == "" {
		s := auth.NewMemoryStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", RedisEnv, err)
	}
	rc := redis.NewClient(opt)
	if err := rc.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("%s is set but Redis is unreachable: %v", RedisEnv, err)
	}
	fresh := prefix == ""
	if fresh {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		prefix = "ghtest" + hex.EncodeToString(b)
	}
	s := auth.NewRedisStore(rc, prefix)
	t.Cleanup(func() {
		_ = s.Close()
		if fresh {
			ctx := context.Background()
			iter := rc.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				rc.Del(ctx, iter.Val())
			}
		}
		_ = rc.Close()
	})
	return s
}

// Tenant creates a tenant with slug (and optional domains).
func (e *Env) Tenant(t testing.TB, slug string, domains ...string) *ent.Tenant {
	t.Helper()
	tn, err := e.Tenants.Create(context.Background(), tenants.CreateInput{Slug: slug, Name: strings.ToUpper(slug), Domains: domains})
	if err != nil {
		t.Fatalf("create tenant %s: %v", slug, err)
	}
	return tn
}

// Ctx returns a context scoped to tn.
func (e *Env) Ctx(tn *ent.Tenant) context.Context {
	return tenants.NewContext(context.Background(), tn)
}

// Admin creates an admin user in tn and returns its id and a login token.
func (e *Env) Admin(t testing.TB, tn *ent.Tenant, email, password string) (string, string) {
	t.Helper()
	u, err := e.Auth.CreateUser(e.Ctx(tn), auth.CreateUserInput{Email: email, Password: password})
	if err != nil {
		t.Fatalf("create admin %s: %v", email, err)
	}
	r := e.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": email, "password": password}, "x-tenant-id", tn.Slug)
	if r.Status != 200 {
		t.Fatalf("admin login: %d %s", r.Status, r.Body)
	}
	return u.ID, r.JSON["token"].(string)
}

// Response is a recorded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Do sends a request. body may be nil, a string (sent raw) or any value
// (sent as JSON); headers are name, value pairs.
func (e *Env) Do(t testing.TB, method, path string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	if body != nil && req.Header.Get("content-type") == "" {
		req.Header.Set("content-type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}

// newThrottle returns a Redis throttle sharing the Redis store's key prefix
// (so two nodes of a test share limits, and cleanup removes its keys), or nil
// for the memory store.
func newThrottle(t testing.TB, s auth.Store) auth.Throttle {
	t.Helper()
	rs, ok := s.(*auth.RedisStore)
	if !ok {
		return nil
	}
	opt, err := redis.ParseURL(os.Getenv(RedisEnv))
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	t.Cleanup(func() { _ = rc.Close() })
	return auth.NewRedisThrottle(rc, rs.Prefix())
}

// SharedRedisPrefix returns a fresh Redis key prefix for two nodes of one
// test to share (its keys are deleted at cleanup), or "" without Redis.
func SharedRedisPrefix(t testing.TB) string {
	t.Helper()
	u := os.Getenv(RedisEnv)
	if u == "" {
		return ""
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ghtestshared" + hex.EncodeToString(b)
	t.Cleanup(func() {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return
		}
		rc := redis.NewClient(opt)
		defer rc.Close()
		ctx := context.Background()
		iter := rc.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rc.Del(ctx, iter.Val())
		}
	})
	return prefix
}
