// Package database opens Gatehouse's Ent client on SQLite (pure Go, for a
// first run and unit tests) or PostgreSQL (pgx, for production) and migrates
// the schema. It imports ent and nothing else of ours.
package database

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/XSAM/otelsql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gatehousehq/gatehouse/ent"
	_ "github.com/gatehousehq/gatehouse/ent/runtime" // schema hooks, interceptors and defaults
)

// DB is an open database: the Ent client and the driver underneath it.
type DB struct {
	*ent.Client
	SQL     *stdsql.DB
	Dialect string
}

// Option adjusts Open.
type Option func(*options)

type options struct{ tracer trace.TracerProvider }

// WithTracerProvider traces every statement as a client span (otelsql):
// the statement text with its placeholders, never the argument values, so
// no password hash, token digest or e-mail reaches a span. Spans are made
// under the caller's span only when tp says so (see
// observability.Telemetry.DependencyTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracer = tp }
}

// Open opens url: "postgres://…" or "postgresql://…" (PostgreSQL via pgx), or
// "sqlite:PATH" / "sqlite::memory:" (SQLite via modernc.org/sqlite). The
// parent folder of a SQLite file is created.
func Open(url string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var (
		driver, dsn, dia string
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		driver, dsn, dia = "pgx", url, dialect.Postgres
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("database url %q: empty sqlite path", url)
		}
		driver, dia = "sqlite", dialect.SQLite
		dsn = sqliteDSN(path)
		if !strings.HasPrefix(path, ":memory:") && !strings.HasPrefix(path, "file:") {
			if dir := filepath.Dir(path); dir != "" {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					return nil, fmt.Errorf("create database folder: %w", err)
				}
			}
		}
	default:
		return nil, fmt.Errorf("database url %q: want postgres://… or sqlite:PATH", redactURL(url))
	}
	var (
		sdb *stdsql.DB
		err error
	)
	if o.tracer != nil {
		system := semconv.DBSystemSqlite
		if dia == dialect.Postgres {
			system = semconv.DBSystemPostgreSQL
		}
		sdb, err = otelsql.Open(driver, dsn,
			otelsql.WithTracerProvider(o.tracer),
			otelsql.WithAttributes(system),
			otelsql.WithSpanOptions(otelsql.SpanOptions{
				DisableErrSkip:       true,
				OmitConnResetSession: true,
				OmitConnPrepare:      true,
				OmitRows:             true,
			}),
		)
	} else {
		sdb, err = stdsql.Open(driver, dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dia, err)
	}
	if dia == dialect.SQLite {
		// One writer at a time is SQLite's model; a single connection also keeps
		// an in-memory database alive and avoids SQLITE_BUSY under load.
		sdb.SetMaxOpenConns(1)
	} else {
		sdb.SetMaxOpenConns(32)
		sdb.SetMaxIdleConns(32)
		sdb.SetConnMaxIdleTime(5 * time.Minute)
	}
	drv := entsql.OpenDB(dia, sdb)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sdb, Dialect: dia}, nil
}

// sqliteDSN opens SQLite with foreign keys on and every time written in UTC
// (_timezone): SQLite keeps times as text and compares them as text, so
// rows stamped with different offsets (a local created_at, a UTC expiry
// derived from another row) would filter and sort wrongly on any machine
// whose zone is not UTC. PostgreSQL's timestamptz compares instants.
func sqliteDSN(path string) string {
	const common = "_pragma=foreign_keys(1)&_timezone=UTC"
	const pragmas = common + "&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	switch {
	case strings.HasPrefix(path, ":memory:"):
		// A named shared-cache memory database per name, so tests stay apart.
		name := strings.TrimPrefix(path, ":memory:")
		if name == "" {
			name = "gatehouse"
		}
		return "file:" + name + "?mode=memory&cache=shared&" + common
	case strings.HasPrefix(path, "file:"):
		if strings.Contains(path, "?") {
			return path + "&" + common
		}
		return path + "?" + common
	default:
		return "file:" + path + "?" + pragmas
	}
}

// migrateMu serialises migrations in one process: Ent's migrator writes the
// shared migrate.Tables while it works.
var migrateMu sync.Mutex

// Migrate creates or updates the schema.
func (db *DB) Migrate(ctx context.Context) error {
	migrateMu.Lock()
	defer migrateMu.Unlock()
	if err := db.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ping checks the database is reachable.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// Close closes the client and the pool.
func (db *DB) Close() error { return db.Client.Close() }

// redactURL drops the password from a URL for error messages.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.Index(creds, ":"); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":***" + u[at:]
	}
	return u
}
