package systemtest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// recoveryBudget is how soon service must return after a dependency does.
	recoveryBudget = 5 * time.Second
	// detectGrace is how long after a dependency dies a node may still answer
	// from what it knew: the same budget as propagation between nodes.
	detectGrace = 100 * time.Millisecond
	// liftedLimits lifts the per-address auth budget: every request of a
	// load test comes from 127.0.0.1.
	liftedLimits = `{"auth_ip_per_minute":1000000,"auth_ip_burst":100000}`
)

// createKey makes a secret key on n with the admin token and returns its id
// and token.
func createKey(t *testing.T, n *node, slug, tok, title string) (id, sk string) {
	t.Helper()
	b := mustDo(t, 200, http.MethodPost, n.base+"/t/"+slug+"/admin/api-keys", bearer(tok), map[string]string{"title": title, "type": "secret"})
	return jsonField(t, b, "api_key.id"), jsonField(t, b, "api_key.token")
}

// report fails the test with at most a few examples of each problem.
type report struct {
	t      *testing.T
	counts map[string]int
}

func newReport(t *testing.T) *report { return &report{t: t, counts: map[string]int{}} }

func (r *report) fail(kind string, res result) {
	r.counts[kind]++
	if r.counts[kind] <= 3 {
		r.t.Errorf("%s: %s on node %s at +%s: status %d err %v body %s", kind, res.name, res.node,
			res.start.Format("15:04:05.000"), res.status, res.err, res.body)
	}
}

func (r *report) done() {
	for k, v := range r.counts {
		if v > 3 {
			r.t.Errorf("%s: %d requests in all", k, v)
		}
	}
}

// TestRedisOutage stops Redis under load: requests that need a revocation
// or session check answer 503 {"type":"unavailable"} (never 200, never 401
// or 500), /readyz answers 503, and service is back within 5 s of Redis
// coming back, without restarting Gatehouse. A key revoked before the outage
// stays revoked although the restarted Redis is empty.
func TestRedisOutage(t *testing.T) {
	setup(t)
	rd := startRedis(t)
	seedTenants(t, rd.url(), "rdo", 1, liftedLimits)
	n := startNode(t, "A", suite.dbURL, rd.url())
	const slug = "rdo-00000"
	base := n.base + "/t/" + slug
	tok := login(t, n, slug, 0)
	_, sk := createKey(t, n, slug, tok, "live")
	revokedID, revoked := createKey(t, n, slug, tok, "revoked")
	mustDo(t, 200, http.MethodPost, base+"/admin/api-keys/"+revokedID+"/revoke", bearer(tok), map[string]any{})
	mustDo(t, 401, http.MethodGet, base+"/admin/users?limit=1", secretKey(revoked), nil)

	kinds := []request{
		{name: "bearer", method: http.MethodGet, url: base + "/admin/users/me", h: bearer(tok), okStatus: 200},
		{name: "secret key", method: http.MethodGet, url: base + "/admin/users?limit=1", h: secretKey(sk), okStatus: 200},
		{name: "revoked key", method: http.MethodGet, url: base + "/admin/users?limit=1", h: secretKey(revoked), okStatus: 401},
	}
	l := startLoad(6, func(w, i int) request { rq := kinds[(w+i)%len(kinds)]; rq.node = "A"; return rq })
	time.Sleep(500 * time.Millisecond)

	rd.stop()
	killed := time.Now()
	readyz := func() (int, string) {
		st, b, err := do(http.MethodGet, n.base+"/readyz", nil, nil)
		if err != nil {
			return 0, err.Error()
		}
		return st, string(b)
	}
	d, ok := waitFor(3*time.Second, 5*time.Millisecond, func() bool { st, _ := readyz(); return st == 503 })
	if !ok {
		st, b := readyz()
		t.Errorf("/readyz with Redis down = %d %s after %s, want 503", st, b, d)
	} else {
		_, b := readyz()
		t.Logf("/readyz turned 503 %s after Redis died: %s", d.Round(time.Millisecond), b)
		if !strings.Contains(b, "redis") {
			t.Errorf("/readyz with Redis down = %s, want it to name redis", b)
		}
	}
	time.Sleep(1500 * time.Millisecond)

	rd.start()
	back := time.Now()
	rec, ok := waitFor(recoveryBudget, 10*time.Millisecond, func() bool {
		if st, _ := readyz(); st != 200 {
			return false
		}
		for _, k := range kinds {
			if st, _, err := do(k.method, k.url, k.h, nil); err != nil || st != k.okStatus {
				return false
			}
		}
		return true
	})
	if !ok {
		st, b := readyz()
		t.Errorf("service not back %s after Redis came back (/readyz %d %s), want ≤ %s", rec, st, b, recoveryBudget)
	} else {
		t.Logf("service back %s after Redis came back", rec.Round(time.Millisecond))
	}
	recovered := back.Add(rec)
	time.Sleep(300 * time.Millisecond)
	rs := l.finish()
	t.Logf("requests:\n%s", summarize(rs))
	t.Logf("statuses by start time from Redis dying (back at %+.2fs):\n%s", back.Sub(killed).Seconds(), timeline(rs, killed, 250*time.Millisecond))

	rep := newReport(t)
	inGrace200 := 0
	for _, r := range rs {
		switch {
		case r.err != nil:
			rep.fail("transport error", r)
		case r.name == "revoked key" && r.status == 200:
			rep.fail("a key revoked before the outage was accepted", r)
		case r.end.Before(killed):
			if r.status != okOf(kinds, r.name) {
				rep.fail("before the outage", r)
			}
		case r.start.After(killed) && r.start.Before(killed.Add(detectGrace)) && r.status == 200:
			inGrace200++
		case r.start.After(killed.Add(detectGrace)) && r.end.Before(back):
			if r.name == "revoked key" && r.status == 401 {
				break // known revoked from the database: refused either way
			}
			if r.status != 503 || errorType([]byte(r.body)) != "unavailable" {
				rep.fail("during the outage: want 503 unavailable (fail closed)", r)
			}
		case r.start.After(recovered):
			if r.status != okOf(kinds, r.name) {
				rep.fail("after recovery", r)
			}
		}
	}
	rep.done()
	if inGrace200 > 0 {
		t.Logf("%d requests started within %s of Redis dying were still answered 200", inGrace200, detectGrace)
	}
	// Data written before the outage: the users are all there.
	b := mustDo(t, 200, http.MethodGet, base+"/admin/users?limit=10", bearer(tok), nil)
	if !strings.Contains(string(b), `"count":3`) {
		t.Errorf("users after the outage: %s, want count 3", b)
	}
}

func okOf(kinds []request, name string) int {
	for _, k := range kinds {
		if k.name == name {
			return k.okStatus
		}
	}
	return 200
}

// tcpProxy forwards 127.0.0.1:port to a target; cut drops every connection
// and refuses new ones until restore.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close(); _ = c.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	_ = up.Close()
}

// cut closes the listener and every connection: PostgreSQL is gone.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// restore listens again on the same address.
func (p *tcpProxy) restore() {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
}

// terminateBackends ends every connection to the run's database but ours.
func terminateBackends(t *testing.T) int {
	t.Helper()
	admin, err := sql.Open("pgx", suite.pgBase)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n int
	err = admin.QueryRowContext(ctx,
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, suite.dbName).Scan(&n)
	if err != nil {
		t.Fatalf("pg_terminate_backend: %v", err)
	}
	return n
}

// TestPostgresOutage cuts the node's PostgreSQL connections under load, first
// with a TCP proxy that drops them and refuses new ones for 1.5 s, then by
// terminating the backends repeatedly: requests answer 200 (from caches) or
// 503 {"type":"unavailable"}, never 500; /readyz answers 503 while the
// database is unreachable; service is back within 5 s; every write
// acknowledged before the fault is still there.
func TestPostgresOutage(t *testing.T) {
	setup(t)
	rd := startRedis(t)
	seedTenants(t, rd.url(), "pgo", 1, liftedLimits)
	pg, err := url.Parse(suite.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, pg.Host)
	viaProxy := *pg
	viaProxy.Host = proxy.addr
	n := startNode(t, "A", viaProxy.String(), rd.url())
	const slug = "pgo-00000"
	base := n.base + "/t/" + slug
	tok := login(t, n, slug, 0)
	_, sk := createKey(t, n, slug, tok, "live")

	var (
		mu       sync.Mutex
		channels []string // acknowledged writes
		seq      atomic.Int64
	)
	kinds := []request{
		{name: "bearer me", method: http.MethodGet, url: base + "/admin/users/me", h: bearer(tok), okStatus: 200},
		{name: "bearer list", method: http.MethodGet, url: base + "/admin/users?limit=1", h: bearer(tok), okStatus: 200},
		{name: "secret key", method: http.MethodGet, url: base + "/admin/sales-channels?limit=1", h: secretKey(sk), okStatus: 200},
		{name: "write", method: http.MethodPost, url: base + "/admin/sales-channels", h: bearer(tok), okStatus: 200,
			onOK: func(b []byte) {
				id := idOf(b, "sales_channel")
				mu.Lock()
				channels = append(channels, id)
				mu.Unlock()
			}},
	}
	l := startLoad(6, func(w, i int) request {
		rq := kinds[(w+i)%len(kinds)]
		rq.node = "A"
		if rq.name == "write" {
			rq.body = map[string]string{"name": fmt.Sprintf("channel %d", seq.Add(1))}
		}
		return rq
	})
	readyz := func() int { st, _, _ := do(http.MethodGet, n.base+"/readyz", nil, nil); return st }
	awaitRecovery := func(phase string) {
		t.Helper()
		rec, ok := waitFor(recoveryBudget, 10*time.Millisecond, func() bool {
			if readyz() != 200 {
				return false
			}
			for _, k := range kinds[:3] {
				if st, _, err := do(k.method, k.url, k.h, nil); err != nil || st != 200 {
					return false
				}
			}
			return true
		})
		if !ok {
			t.Errorf("%s: service not back %s after PostgreSQL came back, want ≤ %s", phase, rec, recoveryBudget)
		} else {
			t.Logf("%s: service back %s after PostgreSQL came back", phase, rec.Round(time.Millisecond))
		}
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	before := len(channels)
	mu.Unlock()

	// 1. The network to PostgreSQL is cut.
	proxy.cut()
	d, ok := waitFor(3*time.Second, 5*time.Millisecond, func() bool { return readyz() == 503 })
	if !ok {
		t.Errorf("/readyz with PostgreSQL unreachable = %d after %s, want 503", readyz(), d)
	} else {
		t.Logf("/readyz turned 503 %s after PostgreSQL became unreachable", d.Round(time.Millisecond))
	}
	time.Sleep(1500 * time.Millisecond)
	proxy.restore()
	awaitRecovery("proxy cut")

	// 2. Backends terminated ten times, 100 ms apart.
	killed := 0
	for range 10 {
		killed += terminateBackends(t)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("terminated %d PostgreSQL backends", killed)
	awaitRecovery("pg_terminate_backend")
	time.Sleep(300 * time.Millisecond)
	rs := l.finish()
	t.Logf("requests:\n%s", summarize(rs))

	rep := newReport(t)
	for _, r := range rs {
		switch {
		case r.err != nil:
			rep.fail("transport error", r)
		case r.status == 200:
		case r.status == 503 && errorType([]byte(r.body)) == "unavailable":
		default:
			rep.fail("want 200 or 503 unavailable", r)
		}
	}
	rep.done()

	// Every acknowledged write, before and during the faults, is there.
	mu.Lock()
	ids := append([]string(nil), channels...)
	mu.Unlock()
	if before == 0 {
		t.Errorf("no write was acknowledged before the fault")
	}
	missing := 0
	for _, id := range ids {
		if st, b, err := do(http.MethodGet, base+"/admin/sales-channels/"+id, bearer(tok), nil); err != nil || st != 200 {
			missing++
			if missing <= 3 {
				t.Errorf("sales channel %s acknowledged with 200 is gone: %d %s %v", id, st, b, err)
			}
		}
	}
	t.Logf("%d acknowledged writes (%d before the fault), %d missing", len(ids), before, missing)
}

// TestSIGTERMUnderLoad sends SIGTERM to node A of two while both serve
// load: every request A had accepted completes with 200, A exits 0, no
// request to the surviving node B fails, and every write acknowledged by
// either node is readable afterwards. The client stops sending to A just
// before the signal (as a load balancer does once the pod is terminating);
// nothing is retried. A runs with a shutdown delay, as the Helm chart sets
// one: a request whose connection the kernel accepted just before the
// signal is served, not reset with the closing listener (without it, a
// clean-clone make test on 2026-12-05 failed here: two such requests got EOF).
func TestSIGTERMUnderLoad(t *testing.T) {
	setup(t)
	rd := startRedis(t)
	seedTenants(t, rd.url(), "term", 1, liftedLimits)
	a := startNodeEnv(t, "A", append(nodeEnv(suite.dbURL, rd.url()), "GATEHOUSE_SHUTDOWN_DELAY=300ms"))
	b := startNode(t, "B", suite.dbURL, rd.url())
	const slug = "term-00000"
	tok := login(t, b, slug, 0)

	// No keep-alive to A: a request is never written onto a connection the
	// server is closing as idle.
	noKeepAlive := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var (
		signaled atomic.Bool
		mu       sync.Mutex
		channels []string
		seq      atomic.Int64
	)
	l := startLoad(8, func(w, i int) request {
		n, c := a, noKeepAlive
		if signaled.Load() {
			n, c = b, httpClient
		}
		base := n.base + "/t/" + slug
		rq := request{node: n.name, client: c, okStatus: 200}
		switch (w + i) % 3 {
		case 0:
			rq.name, rq.method, rq.url = "login", http.MethodPost, base+"/auth/user/emailpass"
			rq.body = map[string]string{"email": userEmail(slug, 1), "password": password}
		case 1:
			rq.name, rq.method, rq.url, rq.h = "bearer", http.MethodGet, base+"/admin/users/me", bearer(tok)
		case 2:
			rq.name, rq.method, rq.url, rq.h = "write", http.MethodPost, base+"/admin/sales-channels", bearer(tok)
			rq.body = map[string]string{"name": fmt.Sprintf("channel %d", seq.Add(1))}
			rq.onOK = func(b []byte) {
				id := idOf(b, "sales_channel")
				mu.Lock()
				channels = append(channels, id)
				mu.Unlock()
			}
		}
		return rq
	})
	time.Sleep(time.Second)
	signaled.Store(true)
	time.Sleep(5 * time.Millisecond) // requests already dialled to A are accepted
	a.signal(syscall.SIGTERM)
	sigAt := time.Now()
	exited, exitErr := a.wait(30 * time.Second)
	exitAfter := time.Since(sigAt)
	time.Sleep(time.Second)
	rs := l.finish()
	t.Logf("requests:\n%s", summarize(rs))
	if !exited {
		t.Errorf("node A still running 30 s after SIGTERM")
	} else if exitErr != nil {
		t.Errorf("node A exited with %v after SIGTERM, want 0", exitErr)
	} else {
		t.Logf("node A exited 0, %s after SIGTERM", exitAfter.Round(time.Millisecond))
	}

	rep := newReport(t)
	inFlight := 0
	for _, r := range rs {
		if r.node == "A" && r.end.After(sigAt) {
			inFlight++
		}
		if r.err != nil || r.status != 200 {
			rep.fail("failed request", r)
		}
	}
	rep.done()
	t.Logf("%d requests were in flight on node A when it got SIGTERM; all completed", inFlight)
	if inFlight == 0 {
		t.Errorf("no request was in flight on node A at SIGTERM: the test did not exercise the drain")
	}
	mu.Lock()
	ids := append([]string(nil), channels...)
	mu.Unlock()
	for _, id := range ids {
		if st, body, err := do(http.MethodGet, b.base+"/t/"+slug+"/admin/sales-channels/"+id, bearer(tok), nil); err != nil || st != 200 {
			t.Errorf("sales channel %s acknowledged with 200 is gone: %d %s %v", id, st, body, err)
		}
	}
	t.Logf("%d acknowledged writes, all readable on node B", len(ids))
}
