package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config is read from the environment; flags override it.
type Config struct {
	Addr        string `env:"GATEHOUSE_ADDR" envDefault:":9000"`
	DatabaseURL string `env:"GATEHOUSE_DATABASE_URL" envDefault:"sqlite:data/gatehouse.db"`
	RedisURL    string `env:"GATEHOUSE_REDIS_URL"`
	// Redis Sentinel or Cluster: the addresses replace GATEHOUSE_REDIS_URL's
	// host, whose credentials, TLS and database still apply.
	RedisSentinelAddrs  []string `env:"GATEHOUSE_REDIS_SENTINEL_ADDRS" envSeparator:","`
	RedisSentinelMaster string   `env:"GATEHOUSE_REDIS_SENTINEL_MASTER"`
	RedisClusterAddrs   []string `env:"GATEHOUSE_REDIS_CLUSTER_ADDRS" envSeparator:","`
	BaseDomain          string   `env:"GATEHOUSE_BASE_DOMAIN" envDefault:"localhost"`
	PlatformKey         string   `env:"GATEHOUSE_PLATFORM_KEY"`
	Env                 string   `env:"GATEHOUSE_ENV" envDefault:"development"`
	MasterKey           string   `env:"GATEHOUSE_MASTER_KEY"`
	PublicURL           string   `env:"GATEHOUSE_PUBLIC_URL" envDefault:"http://localhost:9000"`
	Traces              string   `env:"GATEHOUSE_TRACES" envDefault:"none"`
	LogLevel            string   `env:"GATEHOUSE_LOG_LEVEL" envDefault:"info"`
	// TrustedProxies lists proxies (IPs or CIDRs) whose X-Forwarded-For
	// names the client; empty: the connection's address is the client.
	TrustedProxies []string `env:"GATEHOUSE_TRUSTED_PROXIES" envSeparator:","`
	// RedisPrefix namespaces Redis keys (tests run side by side).
	RedisPrefix string `env:"GATEHOUSE_REDIS_PREFIX" envDefault:"gh"`
	// NoMigrate skips the schema migration on serve.
	NoMigrate bool `env:"GATEHOUSE_NO_MIGRATE"`
	// DemoPassword, when set, is the demo admin's password on first start
	// (otherwise a random one is generated and printed).
	DemoPassword string `env:"GATEHOUSE_DEMO_PASSWORD"`
	// DevMailbox is the file a development server appends its outbox
	// events to, tokens included (default: mailbox.jsonl beside the SQLite
	// database). Ignored in other environments.
	DevMailbox string `env:"GATEHOUSE_DEV_MAILBOX"`
	Cache      CacheConfig

	// MetricsTenants lists tenants (slugs or ids) whose auth-check metrics
	// carry a tenant label; empty: no metric has one.
	MetricsTenants []string `env:"GATEHOUSE_METRICS_TENANTS" envSeparator:","`
	// WebhooksAllowPrivate lets webhooks target loopback and private
	// addresses in production (always allowed in development and test).
	WebhooksAllowPrivate bool `env:"GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE"`
	// AuditPlatformRetentionDays is how long platform audit events are
	// kept (tenants set their own in settings); 0 keeps them forever.
	AuditPlatformRetentionDays int `env:"GATEHOUSE_AUDIT_PLATFORM_RETENTION_DAYS" envDefault:"365"`
	// ShutdownDelay is how long a node keeps accepting connections after
	// SIGTERM, answering /readyz with 503, before it stops listening and
	// drains: long enough for load balancers to stop sending it requests.
	// Closing the listener at once resets connections the kernel had
	// already accepted for it.
	ShutdownDelay time.Duration `env:"GATEHOUSE_SHUTDOWN_DELAY" envDefault:"0s"`
	// spanProcessor, set by tests only, records spans.
	spanProcessor sdktrace.SpanProcessor
}

// CacheConfig bounds the in-process caches of the hot paths (docs/configuration.md).
// A size of 0 takes the package default.
type CacheConfig struct {
	Revocations int `env:"GATEHOUSE_CACHE_REVOCATIONS" envDefault:"100000"`
	Tokens      int `env:"GATEHOUSE_CACHE_TOKENS" envDefault:"100000"`
	Actors      int `env:"GATEHOUSE_CACHE_ACTORS" envDefault:"100000"`
	APIKeys     int `env:"GATEHOUSE_CACHE_API_KEYS" envDefault:"100000"`
	Tenants     int `env:"GATEHOUSE_CACHE_TENANTS" envDefault:"10000"`
	Enforcers   int `env:"GATEHOUSE_CACHE_ENFORCERS" envDefault:"10000"`
	Decisions   int `env:"GATEHOUSE_CACHE_DECISIONS" envDefault:"262144"`
	RoleLists   int `env:"GATEHOUSE_CACHE_ROLE_LISTS" envDefault:"4096"`
	// TTL bounds how long a revocation entry is trusted without a message.
	TTL time.Duration `env:"GATEHOUSE_CACHE_TTL" envDefault:"30s"`
	// StaleAfter: with no heartbeat back through Redis for this long, the
	// caches are bypassed (direct reads, failing closed).
	StaleAfter time.Duration `env:"GATEHOUSE_CACHE_STALE_AFTER" envDefault:"80ms"`
	Heartbeat  time.Duration `env:"GATEHOUSE_CACHE_HEARTBEAT" envDefault:"20ms"`
}

// configError is invalid configuration: exit code 2, one line.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	envs := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		envs[k] = v
	}
	if err := env.ParseWithOptions(&c, env.Options{Environment: envs}); err != nil {
		var agg env.AggregateError
		if errors.As(err, &agg) && len(agg.Errors) > 0 {
			return c, &configError{fmt.Sprintf("invalid configuration: %v", agg.Errors[0])}
		}
		return c, &configError{fmt.Sprintf("invalid configuration: %v", err)}
	}
	return c, c.validate(lookup)
}

func (c Config) production() bool { return c.Env == "production" }

func (c Config) validate(lookup func(string) (string, bool)) error {
	switch c.Env {
	case "development", "production", "test":
	default:
		return &configError{fmt.Sprintf("GATEHOUSE_ENV=%q: want development or production", c.Env)}
	}
	if c.production() {
		for _, name := range []string{"GATEHOUSE_PLATFORM_KEY", "GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_MASTER_KEY"} {
			if v, ok := lookup(name); !ok || strings.TrimSpace(v) == "" {
				return &configError{fmt.Sprintf("%s is required when GATEHOUSE_ENV=production", name)}
			}
		}
		if len(c.MasterKey) < 32 {
			return &configError{"GATEHOUSE_MASTER_KEY must be at least 32 characters"}
		}
		if len(c.PlatformKey) < 24 {
			return &configError{"GATEHOUSE_PLATFORM_KEY must be at least 24 characters"}
		}
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return &configError{"GATEHOUSE_DATABASE_URL must start with postgres:// or sqlite:"}
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		return &configError{"GATEHOUSE_REDIS_URL must start with redis:// or rediss://"}
	}
	if (len(c.RedisSentinelAddrs) > 0 || len(c.RedisClusterAddrs) > 0) && c.RedisURL == "" {
		return &configError{"GATEHOUSE_REDIS_SENTINEL_ADDRS and GATEHOUSE_REDIS_CLUSTER_ADDRS need GATEHOUSE_REDIS_URL (credentials, TLS, database)"}
	}
	if (len(c.RedisSentinelAddrs) > 0) != (c.RedisSentinelMaster != "") {
		return &configError{"GATEHOUSE_REDIS_SENTINEL_ADDRS and GATEHOUSE_REDIS_SENTINEL_MASTER go together"}
	}
	if len(c.RedisSentinelAddrs) > 0 && len(c.RedisClusterAddrs) > 0 {
		return &configError{"set GATEHOUSE_REDIS_SENTINEL_ADDRS or GATEHOUSE_REDIS_CLUSTER_ADDRS, not both"}
	}
	if c.AuditPlatformRetentionDays < 0 {
		return &configError{"GATEHOUSE_AUDIT_PLATFORM_RETENTION_DAYS must be 0 (keep forever) or more"}
	}
	switch c.Traces {
	case "none", "stdout", "otlp":
	default:
		return &configError{fmt.Sprintf("GATEHOUSE_TRACES=%q: want none, stdout or otlp", c.Traces)}
	}
	for name, n := range map[string]int{"GATEHOUSE_CACHE_REVOCATIONS": c.Cache.Revocations, "GATEHOUSE_CACHE_TOKENS": c.Cache.Tokens, "GATEHOUSE_CACHE_ACTORS": c.Cache.Actors,
		"GATEHOUSE_CACHE_API_KEYS": c.Cache.APIKeys, "GATEHOUSE_CACHE_TENANTS": c.Cache.Tenants,
		"GATEHOUSE_CACHE_ENFORCERS": c.Cache.Enforcers, "GATEHOUSE_CACHE_DECISIONS": c.Cache.Decisions,
		"GATEHOUSE_CACHE_ROLE_LISTS": c.Cache.RoleLists} {
		if n < 0 {
			return &configError{fmt.Sprintf("%s must not be negative", name)}
		}
	}
	if c.Cache.StaleAfter > 0 && c.Cache.StaleAfter < 2*c.Cache.Heartbeat {
		return &configError{"GATEHOUSE_CACHE_STALE_AFTER must be at least twice GATEHOUSE_CACHE_HEARTBEAT"}
	}
	if c.MasterKey != "" && len(c.MasterKey) < 32 {
		return &configError{"GATEHOUSE_MASTER_KEY must be at least 32 characters"}
	}
	return nil
}

// masterKey returns the configured master key or, outside production, one
// kept in a file beside the SQLite database, made on first start, so a
// development install keeps its signing keys across restarts.
// dataDir is where a development server keeps its files: beside the SQLite
// database, else ./data.
func (c Config) dataDir() string {
	if p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok && !strings.HasPrefix(p, ":memory:") && !strings.HasPrefix(p, "file:") {
		return filepath.Dir(p)
	}
	return "data"
}

// mailboxPath is the development mailbox (GATEHOUSE_DEV_MAILBOX, else
// mailbox.jsonl in the data directory); "" outside development.
func (c Config) mailboxPath() string {
	if c.Env != "development" {
		return ""
	}
	if c.DevMailbox != "" {
		return c.DevMailbox
	}
	return filepath.Join(c.dataDir(), "mailbox.jsonl")
}

func (c Config) masterKey() ([]byte, error) {
	if c.MasterKey != "" {
		return []byte(c.MasterKey), nil
	}
	dir := c.dataDir()
	path := filepath.Join(dir, "master.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 64 {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	key := []byte(hex.EncodeToString(b))
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("write development master key: %w", err)
	}
	return key, nil
}
