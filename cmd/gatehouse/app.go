package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"

	"github.com/gatehousehq/gatehouse/api"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
	"github.com/gatehousehq/gatehouse/webhooks"
)

// App is every dependency of a Gatehouse process, built once from Config.
type App struct {
	Config    Config
	DB        *database.DB
	Redis     redis.UniversalClient
	Store     auth.Store
	Telemetry *observability.Telemetry
	Tenants   *tenants.Registry
	Channels  *tenants.Channels
	Keys      *auth.Keys
	APIKeys   *auth.APIKeys
	Auth      *auth.Service
	RBAC      *rbac.Service
	RouteMap  *rbac.RouteMap
	Handler   *api.Server
	Webhooks  *webhooks.Service
	// Mailbox is the development mailbox's path ("" outside development).
	Mailbox string
	closers []func()
	// stopping is set when Serve's context ends: /readyz answers 503 from
	// then on (see Config.ShutdownDelay).
	stopping atomic.Bool
}

// errStopping is the readiness failure of a node shutting down.
var errStopping = errors.New("shutting down")

// Build wires the application: the composition root.
func Build(ctx context.Context, cfg Config, logOut io.Writer) (*App, error) {
	a := &App{Config: cfg}
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	tel, err := observability.New(ctx, observability.Config{
		Traces: cfg.Traces, Version: version, JSONLogs: cfg.production(), LogLevel: level,
		SpanProcessor: cfg.spanProcessor, MetricsTenants: cfg.MetricsTenants, TenantSlug: tenantSlug,
	}, logOut)
	if err != nil {
		return nil, &configError{err.Error()}
	}
	a.Telemetry = tel
	a.closers = append(a.closers, func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(c)
	})

	db, err := database.Open(cfg.DatabaseURL, database.WithTracerProvider(tel.DependencyTracerProvider()))
	if err != nil {
		a.Close()
		return nil, &configError{fmt.Sprintf("GATEHOUSE_DATABASE_URL: %v", err)}
	}
	a.DB = db
	a.closers = append(a.closers, func() { _ = db.Close() })

	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			a.Close()
			return nil, &configError{fmt.Sprintf("GATEHOUSE_REDIS_URL: %v", err)}
		}
		// One address: a single Redis; Sentinel: the sentinels and the
		// master's name (the client follows failovers); Cluster: the seed
		// nodes. Every key of a tenant carries the {tenant} hash tag, so the
		// multi-key reads and scripts stay in one slot.
		addrs, master := []string{opt.Addr}, ""
		switch {
		case len(cfg.RedisSentinelAddrs) > 0:
			addrs, master = cfg.RedisSentinelAddrs, cfg.RedisSentinelMaster
		case len(cfg.RedisClusterAddrs) > 0:
			addrs = cfg.RedisClusterAddrs
		}
		rc := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: addrs, MasterName: master, IsClusterMode: len(cfg.RedisClusterAddrs) > 0,
			SentinelUsername: opt.Username, SentinelPassword: opt.Password,
			DB: opt.DB, Username: opt.Username, Password: opt.Password,
			TLSConfig: opt.TLSConfig, DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
			PoolSize: 64,
			// Fail fast while Redis is down: every authenticated request waits
			// on it, and go-redis's defaults (5 dial attempts 100 ms apart, 3
			// retries) hold each one for seconds before its 503.
			DialerRetries: 1, MaxRetries: 1, MaxRetryBackoff: 50 * time.Millisecond,
		})
		// Command names only: arguments carry session ids and token digests.
		if err := redisotel.InstrumentTracing(rc, redisotel.WithTracerProvider(tel.DependencyTracerProvider()),
			redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false)); err != nil {
			a.Close()
			return nil, err
		}
		a.Redis = rc
		a.Store = auth.NewRedisStore(rc, cfg.RedisPrefix)
	} else {
		a.Store = auth.NewMemoryStore()
	}
	// Every cache below is fed by invalidation messages on this store's
	// bus and bypassed while its heartbeat is stale (auth.CachedStore).
	cached := auth.NewCachedStore(a.Store, auth.CacheOptions{Size: cfg.Cache.Revocations, Actors: cfg.Cache.Actors, TTL: cfg.Cache.TTL,
		StaleAfter: cfg.Cache.StaleAfter, Heartbeat: cfg.Cache.Heartbeat})
	a.Store = cached
	a.closers = append(a.closers, func() { _ = a.Store.Close() })
	if err := cached.Start(ctx); err != nil {
		a.Close()
		return nil, err
	}

	mk, err := cfg.masterKey()
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Tenants = tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: cfg.BaseDomain, Bus: a.Store, CacheSize: cfg.Cache.Tenants})
	a.Channels = tenants.NewChannels(db.Client)
	tokenTTL := 24 * time.Hour
	a.Keys, err = auth.NewKeys(db.Client, mk, a.Store, 30*24*time.Hour, 0)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.APIKeys, err = auth.NewAPIKeys(db.Client, mk, a.Store, cfg.Cache.APIKeys)
	if err != nil {
		a.Close()
		return nil, err
	}
	tokens := auth.NewTokens(a.Keys, cfg.PublicURL, cfg.Cache.Tokens)
	hasher := auth.NewHasher(auth.DefaultArgon2Params(), 0)
	authCfg := auth.Config{TokenTTL: tokenTTL}
	if path := cfg.mailboxPath(); path != "" {
		mb, err := openMailbox(path, tel.Logger)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.Mailbox = path
		a.closers = append(a.closers, func() { _ = mb.Close() })
		authCfg.Mailbox = mb
	}
	a.Auth = auth.NewService(db.Client, a.Store, hasher, a.Keys, tokens, a.APIKeys, authCfg, tel.Logger)
	if err := a.Auth.SetMasterKey(mk); err != nil {
		a.Close()
		return nil, err
	}
	if a.Redis != nil {
		a.Auth.SetThrottle(auth.NewRedisThrottle(a.Redis, cfg.RedisPrefix))
	}
	a.Tenants.OnCreate(func(ctx context.Context, tx *ent.Client, t *ent.Tenant) error {
		alg, _ := t.Settings["jwt_algorithm"].(string)
		return a.Keys.Create(ctx, tx, alg)
	})
	authz, err := rbac.NewAuthorizer(db.Client, rbac.Options{Bus: a.Store, Tenants: cfg.Cache.Enforcers, Decisions: cfg.Cache.RoleLists, CachedDecisions: cfg.Cache.Decisions})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.RBAC = rbac.NewService(db.Client, authz)
	a.RouteMap = rbac.NewRouteMap(db.Client, a.Store, cfg.Cache.Enforcers)
	a.Tenants.OnCreate(func(ctx context.Context, tx *ent.Client, _ *ent.Tenant) error { return rbac.Seed(ctx, tx) })
	a.Auth.SetRoleHooks(auth.RoleHooks{Roles: a.RBAC.RoleIDs, RemoveTx: a.RBAC.RemoveSubjectTx, AssignTx: a.RBAC.AssignTx, Changed: a.RBAC.Changed,
		SuperAdmin: rbac.RoleSuperAdmin})

	// Webhook targets may be loopback or private outside production.
	a.Webhooks, err = webhooks.New(db.Client, mk, webhooks.Options{Dialect: db.Dialect,
		AllowPrivateTargets: !cfg.production() || cfg.WebhooksAllowPrivate})
	if err != nil {
		a.Close()
		return nil, err
	}

	ready := []api.Check{{Name: "shutdown", Ping: func(context.Context) error {
		if a.stopping.Load() {
			return errStopping
		}
		return nil
	}}, {Name: "database", Ping: db.Ping}}
	if a.Redis != nil {
		ready = append(ready, api.Check{Name: "redis", Ping: a.Store.Ping})
	}
	a.Handler = api.New(api.Deps{
		Telemetry: tel, Tenants: a.Tenants, Channels: a.Channels, Auth: a.Auth, RBAC: a.RBAC, RouteMap: a.RouteMap,
		PlatformKey: cfg.PlatformKey, SecureCookies: cfg.Env != "development", Ready: ready,
		TrustedProxies: cfg.TrustedProxies,
		Audit:          audit.New(db.Client),
		HSTS:           cfg.production(),
		Webhooks:       a.Webhooks,
	})
	return a, nil
}

// tenantSlug names the slug of the request's tenant for the metrics
// allow-list (GATEHOUSE_METRICS_TENANTS may list slugs).
func tenantSlug(ctx context.Context, tenantID string) string {
	if t, ok := tenants.FromContext(ctx); ok && t.ID == tenantID {
		return t.Slug
	}
	return ""
}

// Start subscribes the caches to invalidation messages from other nodes.
func (a *App) Start(ctx context.Context) error {
	if err := a.Tenants.Start(ctx); err != nil {
		return err
	}
	a.closers = append(a.closers, a.Tenants.Close)
	if err := a.Keys.Start(ctx); err != nil {
		return err
	}
	a.closers = append(a.closers, a.Keys.Close)
	if err := a.APIKeys.Start(ctx); err != nil {
		return err
	}
	a.closers = append(a.closers, a.APIKeys.Close)
	if err := a.RBAC.Authorizer().Start(ctx); err != nil {
		return err
	}
	a.closers = append(a.closers, a.RBAC.Authorizer().Close)
	if err := a.RouteMap.Start(ctx); err != nil {
		return err
	}
	a.closers = append(a.closers, a.RouteMap.Close)
	// Background work, stopped first on Close: in-flight webhook
	// deliveries finish and are recorded before the database closes.
	pruner := audit.NewPruner(a.DB.Client, audit.PrunerOptions{
		PlatformRetentionDays: a.Config.AuditPlatformRetentionDays, Logger: a.Telemetry.Logger})
	pruner.Start(ctx)
	a.closers = append(a.closers, pruner.Close)
	dispatcher := a.Webhooks.NewDispatcher(webhooks.DispatcherOptions{Logger: a.Telemetry.Logger})
	dispatcher.Start(ctx)
	a.closers = append(a.closers, dispatcher.Close)
	// First to run at Close: work done after responses (reset tokens)
	// finishes while the database is still open.
	a.closers = append(a.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Auth.Drain(ctx)
	})
	return nil
}

// Close releases everything, in reverse order of construction.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Serve runs the HTTP server until ctx is done, then shuts down gracefully:
// for Config.ShutdownDelay it still accepts connections, answers /readyz with
// 503 and closes each connection after its response; then it stops listening
// and in-flight requests finish (up to 25 s).
func (a *App) Serve(ctx context.Context, addr string, ready func(addr string)) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.stopping.Store(true)
	if d := a.Config.ShutdownDelay; d > 0 {
		srv.SetKeepAlivesEnabled(false)
		select {
		case err := <-errc:
			return err
		case <-time.After(d):
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
