package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// propagationBudget is how soon a change on one node must hold on another.
const propagationBudget = 100 * time.Millisecond

// propagates checks that after change() returns on node A, probe() on node B
// answers want within propagationBudget. B is polled every 2 ms; the
// observed latency goes to the test log.
func propagates(t *testing.T, what string, warm func() int, change func(), probe func() (int, string), want int) {
	t.Helper()
	// B must hold the old state in its caches before the change.
	for range 3 {
		if st := warm(); st == want {
			t.Fatalf("%s: node B answers %d before the change", what, st)
		}
	}
	change()
	changed := time.Now()
	var last int
	var lastBody string
	polls := 0
	for {
		polls++
		last, lastBody = probe()
		if last == want {
			lat := time.Since(changed)
			t.Logf("%s: node B answered %d %.1f ms after node A's change (%d polls)", what, want, float64(lat.Microseconds())/1000, polls)
			if lat > propagationBudget {
				t.Errorf("%s: took %s on node B, want ≤ %s", what, lat, propagationBudget)
			}
			return
		}
		if time.Since(changed) > 2*time.Second {
			t.Errorf("%s: node B still answers %d %s 2 s after the change on node A, want %d within %s", what, last, lastBody, want, propagationBudget)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestTwoNodes runs two nodes on one database and one Redis: a logout, a
// secret-key revocation, a role removal, a tenant suspension and a rate-limit
// counter on node A hold on node B within 100 ms.
func TestTwoNodes(t *testing.T) {
	setup(t)
	rd := startRedis(t)
	seedTenants(t, rd.url(), "two", 5, "")
	a := startNode(t, "A", suite.dbURL, rd.url())
	b := startNode(t, "B", suite.dbURL, rd.url())

	get := func(n *node, path string, h headers) func() (int, string) {
		return func() (int, string) {
			st, body, err := do(http.MethodGet, n.base+path, h, nil)
			if err != nil {
				return 0, err.Error()
			}
			return st, string(body)
		}
	}
	status := func(f func() (int, string)) func() int { return func() int { st, _ := f(); return st } }

	t.Run("logout", func(t *testing.T) {
		const slug = "two-00000"
		// A cookie session made and destroyed on A.
		tok := login(t, a, slug, 0)
		cookie := sessionCookie(t, a, slug, tok)
		onB := get(b, "/t/"+slug+"/admin/users/me", headers{"cookie": cookie})
		propagates(t, "DELETE /auth/session (cookie)", status(onB), func() {
			mustDo(t, 200, http.MethodDelete, a.base+"/t/"+slug+"/auth/session", headers{"cookie": cookie}, nil)
		}, onB, 401)

		// Logout everywhere on A: the Bearer token fails on B.
		tok2 := login(t, a, slug, 0)
		onB = get(b, "/t/"+slug+"/admin/users/me", bearer(tok2))
		propagates(t, "POST /auth/logout-all (Bearer)", status(onB), func() {
			mustDo(t, 200, http.MethodPost, a.base+"/t/"+slug+"/auth/logout-all", bearer(tok2), nil)
		}, onB, 401)
	})

	t.Run("api key revocation", func(t *testing.T) {
		const slug = "two-00001"
		tok := login(t, a, slug, 0)
		body := mustDo(t, 200, http.MethodPost, a.base+"/t/"+slug+"/admin/api-keys", bearer(tok), map[string]string{"title": "sys", "type": "secret"})
		id, sk := jsonField(t, body, "api_key.id"), jsonField(t, body, "api_key.token")
		onB := get(b, "/t/"+slug+"/admin/users?limit=1", secretKey(sk))
		propagates(t, "POST /admin/api-keys/:id/revoke", status(onB), func() {
			mustDo(t, 200, http.MethodPost, a.base+"/t/"+slug+"/admin/api-keys/"+id+"/revoke", bearer(tok), map[string]any{})
		}, onB, 401)
	})

	t.Run("role removal", func(t *testing.T) {
		const slug = "two-00002"
		admin := login(t, a, slug, 0)
		userTok := login(t, a, slug, 1)
		me := mustDo(t, 200, http.MethodGet, a.base+"/t/"+slug+"/admin/users/me", bearer(userTok), nil)
		uid := jsonField(t, me, "user.id")
		mustDo(t, 200, http.MethodPost, a.base+"/t/"+slug+"/admin/rbac/roles/role_viewer/users", bearer(admin), map[string]any{"users": []string{uid}})
		onB := get(b, "/t/"+slug+"/admin/users?limit=1", bearer(userTok))
		if st, body := onB(); st != 200 {
			t.Fatalf("user with role_viewer on B: GET /admin/users = %d %s, want 200", st, body)
		}
		propagates(t, "DELETE /admin/users/:id/roles/role_viewer", status(onB), func() {
			mustDo(t, 200, http.MethodDelete, a.base+"/t/"+slug+"/admin/users/"+uid+"/roles/role_viewer", bearer(admin), nil)
		}, onB, 403)
	})

	t.Run("tenant suspension", func(t *testing.T) {
		const slug = "two-00003"
		tok := login(t, a, slug, 0)
		onB := get(b, "/t/"+slug+"/admin/users/me", bearer(tok))
		propagates(t, "POST /platform/tenants/:id/suspend", status(onB), func() {
			mustDo(t, 200, http.MethodPost, a.base+"/platform/tenants/"+slug+"/suspend", bearer(platformKey), nil)
		}, onB, 403)
		// And back.
		onB = get(b, "/t/"+slug+"/admin/users/me", bearer(tok))
		propagates(t, "POST /platform/tenants/:id/resume", status(onB), func() {
			mustDo(t, 200, http.MethodPost, a.base+"/platform/tenants/"+slug+"/resume", bearer(platformKey), nil)
		}, onB, 200)
	})

	t.Run("rate limit counter", func(t *testing.T) {
		// A tenant whose per-address auth budget is 6 attempts and refills
		// slowly: attempts on A spend the budget B sees.
		const slug = "two-rl"
		mustDo(t, 200, http.MethodPost, a.base+"/platform/tenants", bearer(platformKey), map[string]any{
			"slug": slug, "name": "Rate limit", "settings": map[string]any{"auth_ip_per_minute": 1, "auth_ip_burst": 6},
		})
		attempt := func(n *node, i int) (int, string) {
			st, body, err := do(http.MethodPost, n.base+"/t/"+slug+"/auth/user/emailpass", nil,
				map[string]string{"email": fmt.Sprintf("nobody%d@%s.test", i, slug), "password": "wrong-horse-9"})
			if err != nil {
				return 0, err.Error()
			}
			return st, string(body)
		}
		// Two attempts on B, then spend the rest on A: B's next attempt is refused.
		for i := range 2 {
			if st, body := attempt(b, i); st != 401 {
				t.Fatalf("attempt %d on B = %d %s, want 401", i, st, body)
			}
		}
		i := 100
		propagates(t, "auth attempts per address (rate limit)", func() int { return 401 }, func() {
			for j := range 4 {
				if st, body := attempt(a, 10+j); st != 401 {
					t.Fatalf("attempt %d on A = %d %s, want 401", j, st, body)
				}
			}
		}, func() (int, string) { i++; return attempt(b, i) }, 429)
	})

	// Nothing above leaked into the other tenant: a fresh login on B works.
	tok := login(t, b, "two-00004", 0)
	mustDo(t, 200, http.MethodGet, b.base+"/t/two-00004/admin/users/me", bearer(tok), nil)
}

// sessionCookie turns tok into a connect.sid cookie on n and returns the
// Cookie header value. The cookie is Secure outside development, so it is
// carried by hand rather than by a cookie jar.
func sessionCookie(t *testing.T, n *node, slug, tok string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.base+"/t/"+slug+"/auth/session", nil)
	req.Header.Set("authorization", "Bearer "+tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /auth/session = %d %s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "connect.sid" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("POST /auth/session set no connect.sid cookie: %v", resp.Header.Values("set-cookie"))
	return ""
}
