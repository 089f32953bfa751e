package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

// freshEnv points the CLI and the App at a fresh database: PostgreSQL when
// GATEHOUSE_TEST_POSTGRES_URL is set, a SQLite file otherwise.
func freshEnv(tb testing.TB) {
	tb.Helper()
	u := filepath.Join(tb.TempDir(), "gatehouse.db")
	if pg := dbtest.URL(tb); strings.HasPrefix(pg, "postgres") {
		tb.Setenv("GATEHOUSE_DATABASE_URL", pg)
	} else {
		tb.Setenv("GATEHOUSE_DATABASE_URL", "sqlite:"+u)
	}
	tb.Setenv("GATEHOUSE_ENV", "test")
	tb.Setenv("GATEHOUSE_REDIS_URL", "")
	tb.Setenv("GATEHOUSE_MASTER_KEY", "cli-test-master-key-0123456789abcdef")
	tb.Setenv("GATEHOUSE_LOG_LEVEL", "warn")
}

func TestSeed(t *testing.T) {
	freshEnv(t)
	ctx := context.Background()
	args := []string{"seed", "--tenants", "3", "--users-per-tenant", "4", "--policies", "5", "--roles", "2", "--prefix", "st", "--password", "correct-horse-9"}
	var out, errb bytes.Buffer
	if code := Main(ctx, args, &out, &errb); code != 0 {
		t.Fatalf("seed: exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "3 tenants created, 0 skipped") || !strings.Contains(out.String(), "12 users") {
		t.Errorf("seed summary = %q, want 3 tenants created and 12 users", out.String())
	}

	// A second run with one more tenant creates only that one.
	out.Reset()
	args[2] = "4"
	if code := Main(ctx, args, &out, &errb); code != 0 {
		t.Fatalf("seed again: exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "1 tenants created, 3 skipped") {
		t.Errorf("second seed summary = %q, want 1 created and 3 skipped", out.String())
	}

	err := withApp(ctx, &errb, func(a *App) error {
		n, err := a.DB.Tenant.Query().Where(tenant.SlugHasPrefix("st-")).Count(tenants.SystemContext(ctx, "test"))
		if err != nil {
			return err
		}
		if n != 4 {
			t.Errorf("seeded tenants = %d, want 4", n)
		}
		tn, err := a.Tenants.FindBySlugOrID(ctx, "st-00003")
		if err != nil {
			return err
		}
		tctx := tenants.NewContext(auth.WithClientIP(ctx, "127.0.0.1"), tn)
		users, total, err := a.Auth.FindUsers(tctx, auth.UserFilter{Limit: 100})
		if err != nil {
			return err
		}
		if total != 4 || len(users) != 4 {
			t.Errorf("users of st-00003 = %d, want 4", total)
		}
		// Built-in roles exist (the registry made the tenant) and the seeded
		// ones hold the custom policies.
		roles, nroles, err := a.RBAC.FindRoles(tctx, rbac.RoleFilter{Limit: 100})
		if err != nil {
			return err
		}
		if nroles != 3+2 {
			t.Errorf("roles of st-00003 = %d (%v), want 3 built-in + 2 seeded", nroles, roles)
		}
		// Every seeded user logs in with the shared password; the first is a
		// super admin, the others hold a seeded role's policies.
		for i, want := range []struct {
			res, op string
			allowed bool
		}{{"user", "delete", true}, {"seed_resource_0", "read", true}, {"seed_resource_1", "read", true}} {
			email := seedEmail("st-00003", i)
			res, err := a.Auth.Login(tctx, tn, auth.ActorUser, "emailpass", auth.Credentials{Email: email, Password: "correct-horse-9"})
			if err != nil {
				t.Errorf("Login(%q) = %v, want a token", email, err)
				continue
			}
			if res.Token == "" {
				t.Errorf("Login(%q) returned no token", email)
			}
			u, _, err := a.Auth.FindUsers(tctx, auth.UserFilter{Email: email, Limit: 1})
			if err != nil || len(u) != 1 {
				t.Fatalf("FindUsers(%q) = %v, %v", email, u, err)
			}
			ok, err := a.RBAC.Authorizer().Allowed(tctx, rbac.UserSubject(u[0].ID), want.res, want.op)
			if err != nil || ok != want.allowed {
				t.Errorf("Allowed(%s, %s:%s) = %v, %v; want %v", email, want.res, want.op, ok, err, want.allowed)
			}
		}
		if _, err := a.Auth.Login(tctx, tn, auth.ActorUser, "emailpass", auth.Credentials{Email: seedEmail("st-00003", 1), Password: "wrong-horse-9"}); err == nil {
			t.Errorf("Login with a wrong password succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSeedRejectsBadOptions(t *testing.T) {
	freshEnv(t)
	for _, args := range [][]string{
		{"seed", "--tenants", "-1"},
		{"seed", "--prefix", "Bad Prefix"},
		{"seed", "--roles", "0"},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}
