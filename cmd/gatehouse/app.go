package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehousehq/gatehouse/api"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
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
	Handler   *api.Server
	closers   []func()
}

// Build wires the application: the composition root.
func Build(ctx context.Context, cfg Config, logOut io.Writer) (*App, error) {
	a := &App{Config: cfg}
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	tel, err := observability.New(ctx, observability.Config{
		Traces: cfg.Traces, Version: version, JSONLogs: cfg.production(), LogLevel: level,
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

	db, err := database.Open(cfg.DatabaseURL)
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
		rc := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username, Password: opt.Password,
			TLSConfig: opt.TLSConfig, DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
			PoolSize: 64,
		})
		a.Redis = rc
		a.Store = auth.NewRedisStore(rc, cfg.RedisPrefix)
	} else {
		a.Store = auth.NewMemoryStore()
	}
	a.closers = append(a.closers, func() { _ = a.Store.Close() })

	mk, err := cfg.masterKey()
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Tenants = tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: cfg.BaseDomain, Bus: a.Store})
	a.Channels = tenants.NewChannels(db.Client)
	tokenTTL := 24 * time.Hour
	a.Keys, err = auth.NewKeys(db.Client, mk, a.Store, 30*24*time.Hour, 0)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.APIKeys, err = auth.NewAPIKeys(db.Client, mk, a.Store, 0)
	if err != nil {
		a.Close()
		return nil, err
	}
	tokens := auth.NewTokens(a.Keys, cfg.PublicURL, 0)
	hasher := auth.NewHasher(auth.DefaultArgon2Params(), 0)
	a.Auth = auth.NewService(db.Client, a.Store, hasher, a.Keys, tokens, a.APIKeys, auth.Config{
		TokenTTL: tokenTTL, Development: cfg.Env == "development",
	}, tel.Logger)
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
	authz, err := rbac.NewAuthorizer(db.Client, rbac.Options{Bus: a.Store})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.RBAC = rbac.NewService(db.Client, authz)
	a.Tenants.OnCreate(func(ctx context.Context, tx *ent.Client, _ *ent.Tenant) error { return rbac.Seed(ctx, tx) })
	a.Auth.SetRoleHooks(auth.RoleHooks{Roles: a.RBAC.RoleIDs, RemoveTx: a.RBAC.RemoveSubjectTx, AssignTx: a.RBAC.AssignTx, Changed: a.RBAC.Changed,
		SuperAdmin: rbac.RoleSuperAdmin})

	ready := []api.Check{{Name: "database", Ping: db.Ping}}
	if a.Redis != nil {
		ready = append(ready, api.Check{Name: "redis", Ping: a.Store.Ping})
	}
	a.Handler = api.New(api.Deps{
		Telemetry: tel, Tenants: a.Tenants, Channels: a.Channels, Auth: a.Auth, RBAC: a.RBAC,
		PlatformKey: cfg.PlatformKey, SecureCookies: cfg.Env != "development", Ready: ready,
		TrustedProxies: cfg.TrustedProxies,
		Audit:          audit.New(db.Client),
		HSTS:           cfg.production(),
	})
	return a, nil
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
// in-flight requests finish (up to 25 s).
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
