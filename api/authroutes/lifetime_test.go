package authroutes_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

func tenantWith(t *testing.T, env *apitest.Env, slug string, settings map[string]any) *ent.Tenant {
	t.Helper()
	tn, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: slug, Name: slug, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// clock is a test clock the auth service reads; tokens keep the real one, so
// only the service's lifetime rules see time move.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestAbsoluteLifetime (checklist 12, 21): refreshing cannot carry a login
// past its absolute lifetime counted from auth_time, and neither can a
// cookie session; the tenant can shorten it.
func TestAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	var clk clock
	env := newEnv(t, apitest.Options{Auth: auth.Config{Now: clk.now}})
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", adminPW)
	refreshed := tokenOf(t, "refresh on day 0", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, tok)...))
	if claimsOf(t, refreshed).AuthTime != claimsOf(t, tok).AuthTime {
		t.Fatalf("refresh changed auth_time")
	}
	for day := 1; day <= 29; day++ {
		clk.advance(24 * time.Hour)
		refreshed = tokenOf(t, "daily refresh", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, refreshed)...))
	}
	wantMe(t, "token refreshed on day 29", env, uid, bearer(tn, refreshed)...)
	clk.advance(25 * time.Hour) // day 30 plus one hour
	want(t, "refresh past 30 days", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, refreshed)...), http.StatusUnauthorized, unauthorized)

	t.Run("tenant setting", func(t *testing.T) {
		var clk clock // tokens keep real time: start this login at offset 0
		env := newEnv(t, apitest.Options{Auth: auth.Config{Now: clk.now}})
		short := tenantWith(t, env, "short", map[string]any{"absolute_lifetime_seconds": 3600})
		uid, tok := env.Admin(t, short, "admin@short.test", adminPW)
		tokenOf(t, "refresh at once", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(short, tok)...))
		r := env.Do(t, "POST", "/auth/session", nil, bearer(short, tok)...)
		if r.Status != http.StatusOK {
			t.Fatalf("POST /auth/session = %d %s", r.Status, r.Body)
		}
		cookie := "connect.sid=" + sessionCookie(t, r).Value
		wantMe(t, "session at once", env, uid, th(short, "Cookie", cookie)...)
		for i := 0; i < 3; i++ { // a busy session: only the absolute lifetime ends it
			clk.advance(19 * time.Minute)
			wantMe(t, "session in use", env, uid, th(short, "Cookie", cookie)...)
		}
		clk.advance(4 * time.Minute)
		want(t, "refresh after an hour", env.Do(t, "POST", "/auth/token/refresh", nil, bearer(short, tok)...), http.StatusUnauthorized, unauthorized)
		wantMeUnauthorized(t, "session after an hour", env, th(short, "Cookie", cookie)...)
	})
}

// TestSessionIdleTimeout (checklist 21): a cookie session unused for longer
// than the idle timeout ends, one in use does not.
func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	var clk clock
	env := newEnv(t, apitest.Options{Auth: auth.Config{Now: clk.now, IdleTTL: 30 * time.Minute}})
	tn := env.Tenant(t, "acme")
	uid, tok := env.Admin(t, tn, "admin@acme.test", adminPW)
	newSession := func() string {
		r := env.Do(t, "POST", "/auth/session", nil, bearer(tn, tok)...)
		if r.Status != http.StatusOK {
			t.Fatalf("POST /auth/session = %d %s", r.Status, r.Body)
		}
		return "connect.sid=" + sessionCookie(t, r).Value
	}
	busy, idle := newSession(), newSession()
	for i := 0; i < 4; i++ { // 2 hours of use, every 20 minutes
		clk.advance(20 * time.Minute)
		wantMe(t, "busy session", env, uid, th(tn, "Cookie", busy)...)
	}
	wantMeUnauthorized(t, "session idle for 80 minutes", env, th(tn, "Cookie", idle)...)
	clk.advance(31 * time.Minute)
	wantMeUnauthorized(t, "busy session after 31 idle minutes", env, th(tn, "Cookie", busy)...)
	wantMe(t, "the bearer token is not a session", env, uid, bearer(tn, tok)...)

	t.Run("tenant setting", func(t *testing.T) {
		strict := tenantWith(t, env, "strict", map[string]any{"session_idle_seconds": 300})
		uid, tok := env.Admin(t, strict, "admin@strict.test", adminPW)
		r := env.Do(t, "POST", "/auth/session", nil, bearer(strict, tok)...)
		ck := "connect.sid=" + sessionCookie(t, r).Value
		clk.advance(4 * time.Minute)
		wantMe(t, "after 4 minutes", env, uid, th(strict, "Cookie", ck)...)
		clk.advance(6 * time.Minute)
		wantMeUnauthorized(t, "after 6 idle minutes", env, th(strict, "Cookie", ck)...)
	})
}
