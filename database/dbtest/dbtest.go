// Package dbtest opens a fresh, migrated database for a test: SQLite in memory
// by default, or a new PostgreSQL database when GATEHOUSE_TEST_POSTGRES_URL is
// set (dropped when the test ends). When the variable is set and PostgreSQL
// cannot be reached the test fails: integration runs never skip silently.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	stdsql "database/sql"

	"github.com/gatehousehq/gatehouse/database"
)

// PostgresEnv names the variable that switches tests to PostgreSQL.
const PostgresEnv = "GATEHOUSE_TEST_POSTGRES_URL"

// Open returns a fresh migrated database, closed (and dropped) by t.Cleanup.
func Open(t testing.TB) *database.DB {
	t.Helper()
	u := URL(t)
	db, err := database.Open(u)
	if err != nil {
		t.Fatalf("database.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// URL returns the URL of a fresh empty database for t: an in-memory SQLite
// one, or a new PostgreSQL database created on the server named by
// GATEHOUSE_TEST_POSTGRES_URL.
func URL(t testing.TB) string {
	t.Helper()
	name := "t" + randHex(8)
	base := os.Getenv(PostgresEnv)
	if base == "" {
		return "sqlite::memory:" + name
	}
	admin, err := stdsql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE gh_"+name); err != nil {
		t.Fatalf("create test database on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		a, err := stdsql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS gh_"+name+" WITH (FORCE)")
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	pu.Path = "/gh_" + name
	return pu.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
