package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/tenants"
)

func login(ctx context.Context, env *apitest.Env, ip, email, pw string) error {
	tn, _ := tenants.FromContext(ctx)
	_, err := env.Auth.Login(auth.WithClientIP(ctx, ip), tn, "user", "emailpass", auth.Credentials{Email: email, Password: pw})
	return err
}

// TestBruteForceBackoff is the scripted attack of the security issue: 50
// wrong passwords against one account from one address put the account in
// back-off (429 with a retry time), the right password from another address
// works once the back-off has passed, another account is never affected,
// and (with Redis) a second node enforces the same back-off.
func TestBruteForceBackoff(t *testing.T) {
	prefix := apitest.SharedRedisPrefix(t)
	env := apitest.NewWith(t, apitest.Options{RedisPrefix: prefix})
	second := env
	if prefix != "" {
		second = apitest.NewWith(t, apitest.Options{DB: env.DB, RedisPrefix: prefix})
	}
	tn, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "attacked", Name: "A",
		Settings: map[string]any{"login_max_backoff_seconds": 2}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := env.Ctx(tn)
	for _, email := range []string{"victim@a.test", "bystander@a.test"} {
		if _, err := env.Auth.CreateUser(ctx, auth.CreateUserInput{Email: email, Password: "right-password"}); err != nil {
			t.Fatal(err)
		}
	}
	unauthorized, limited := 0, 0
	var last error
	for i := 0; i < 50; i++ {
		err := login(ctx, env, "203.0.113.7", "victim@a.test", "wrong-password")
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EUNAUTHORIZED:
			unauthorized++
		case gatehouse.ERATELIMITED:
			limited++
			last = err
		default:
			t.Fatalf("attempt %d: Login error = %v, want unauthorized or rate_limited", i, err)
		}
	}
	if unauthorized < 5 || limited < 40 {
		t.Errorf("50 wrong passwords: %d unauthorized, %d rate limited; want the first 5 unauthorized and most later ones limited", unauthorized, limited)
	}
	var ge *gatehouse.Error
	if !errors.As(last, &ge) || ge.RetryAfter <= 0 || ge.RetryAfter > 2*time.Second {
		t.Errorf("rate-limited error = %#v, want a RetryAfter within the 2 s maximum back-off", last)
	}
	// The account is in back-off for everyone, on every node…
	for name, node := range map[string]*apitest.Env{"node 1": env, "node 2": second} {
		if err := login(node.Ctx(tn), node, "198.51.100.9", "victim@a.test", "right-password"); gatehouse.ErrorCode(err) != gatehouse.ERATELIMITED {
			t.Errorf("%s: right password from another address during back-off: error = %v, want rate_limited", name, err)
		}
	}
	// …but another account from the attacker's own address is unaffected.
	if err := login(ctx, env, "203.0.113.7", "bystander@a.test", "right-password"); err != nil {
		t.Errorf("another account during the back-off: Login error = %v, want nil", err)
	}
	time.Sleep(2100 * time.Millisecond)
	if err := login(second.Ctx(tn), second, "198.51.100.9", "victim@a.test", "right-password"); err != nil {
		t.Fatalf("right password after the back-off: Login error = %v, want nil", err)
	}
	// Success resets the count: one new failure is a plain 401 again.
	if err := login(ctx, env, "198.51.100.9", "victim@a.test", "wrong-password"); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Errorf("after a success, a wrong password: error = %v, want unauthorized", err)
	}
}

// TestAddressBudget: one address gets a bounded number of auth attempts per
// minute across accounts; the HTTP answer is Medusa-shaped 429 with Retry-After.
func TestAddressBudget(t *testing.T) {
	env := apitest.New(t)
	_, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "budget", Name: "B",
		Settings: map[string]any{"auth_ip_per_minute": 3, "auth_ip_burst": 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		r := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "nobody@b.test", "password": "x-password"}, "x-tenant-id", "budget")
		if r.Status != 401 {
			t.Fatalf("attempt %d = %d %s, want 401", i, r.Status, r.Body)
		}
	}
	r := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "someone-else@b.test", "password": "x-password"}, "x-tenant-id", "budget")
	if r.Status != 429 || r.JSON["type"] != "not_allowed" || r.JSON["message"] != "Too many requests" || r.Header.Get("Retry-After") == "" {
		t.Errorf("4th attempt from one address = %d %s (Retry-After %q), want 429 {not_allowed, Too many requests} with Retry-After",
			r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	// reset-password shares the budget and still answers in Medusa's shape.
	if r := env.Do(t, "POST", "/auth/user/emailpass/reset-password", map[string]any{"identifier": "x@b.test"}, "x-tenant-id", "budget"); r.Status != 429 {
		t.Errorf("reset-password over budget = %d %s, want 429", r.Status, r.Body)
	}
	// Another tenant's budget is its own.
	env.Tenant(t, "other")
	if r := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "a@o.test", "password": "x-password"}, "x-tenant-id", "other"); r.Status != 401 {
		t.Errorf("another tenant from the same address = %d, want 401", r.Status)
	}
}
