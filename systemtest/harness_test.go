package systemtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for creating and dropping the test database
)

const (
	enableEnv   = "GATEHOUSE_SYSTEM_TESTS"
	postgresEnv = "GATEHOUSE_TEST_POSTGRES_URL"
	redisEnv    = "GATEHOUSE_TEST_REDIS_URL"

	platformKey = "systest-platform-key-0123456789abcdef"
	masterKey   = "systest-master-key-0123456789abcdef0123"
	password    = "correct-horse-9" // every seeded user's
)

// suite is what every test of a run shares: the binary and the database.
var suite struct {
	once    sync.Once
	err     error
	dir     string // temp folder of the binary
	bin     string
	pgBase  string // GATEHOUSE_TEST_POSTGRES_URL
	dbName  string
	dbURL   string // the run's own database
	redisBn string // redis-server
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupSuite()
	os.Exit(code)
}

// setup returns once the binary is built and the run's database exists and
// is migrated. Outside GATEHOUSE_SYSTEM_TESTS=1 it skips, saying how to run
// the tests; inside it, a missing service fails the test.
func setup(t *testing.T) {
	t.Helper()
	if os.Getenv(enableEnv) != "1" {
		t.Skipf("system tests start real gatehouse, PostgreSQL and redis-server processes: run them with `make test-system` "+
			"(or %s=1 with %s and %s from scripts/services.sh)", enableEnv, postgresEnv, redisEnv)
	}
	var missing []string
	for _, v := range []string{postgresEnv, redisEnv} {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing = append(missing, "redis-server in PATH")
	}
	if len(missing) > 0 {
		t.Fatalf("%s=1 but %s missing: run `make test-system`, which starts PostgreSQL and Redis with scripts/services.sh and exports their URLs",
			enableEnv, strings.Join(missing, ", "))
	}
	suite.once.Do(func() { suite.err = buildSuite() })
	if suite.err != nil {
		t.Fatalf("system test setup: %v", suite.err)
	}
}

func buildSuite() error {
	dir, err := os.MkdirTemp("", "gatehouse-systest-")
	if err != nil {
		return err
	}
	suite.dir = dir
	suite.redisBn, _ = exec.LookPath("redis-server")
	suite.bin = filepath.Join(dir, "gatehouse")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	build := exec.Command("go", "build", "-o", suite.bin, "./cmd/gatehouse")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/gatehouse: %v\n%s", err, out)
	}

	suite.pgBase = os.Getenv(postgresEnv)
	suite.dbName = "gh_sys_" + randHex(6)
	admin, err := sql.Open("pgx", suite.pgBase)
	if err != nil {
		return fmt.Errorf("%s: %w", postgresEnv, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+suite.dbName); err != nil {
		return fmt.Errorf("create database %s on %s: %w", suite.dbName, postgresEnv, err)
	}
	u, err := url.Parse(suite.pgBase)
	if err != nil {
		return err
	}
	u.Path = "/" + suite.dbName
	suite.dbURL = u.String()
	// One migration before any node starts: nodes run with GATEHOUSE_NO_MIGRATE.
	cmd := exec.Command(suite.bin, "migrate")
	cmd.Env = nodeEnv(suite.dbURL, "")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gatehouse migrate: %v\n%s", err, out)
	}
	return nil
}

func cleanupSuite() {
	if suite.dbName != "" {
		if admin, err := sql.Open("pgx", suite.pgBase); err == nil {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + suite.dbName + " WITH (FORCE)")
			_ = admin.Close()
		}
	}
	if suite.dir != "" {
		_ = os.RemoveAll(suite.dir)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// nodeEnv is the environment of a gatehouse process on dbURL and redisURL.
func nodeEnv(dbURL, redisURL string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"GATEHOUSE_ENV=test",
		"GATEHOUSE_DATABASE_URL=" + dbURL,
		"GATEHOUSE_MASTER_KEY=" + masterKey,
		"GATEHOUSE_PLATFORM_KEY=" + platformKey,
		"GATEHOUSE_LOG_LEVEL=info",
		"GATEHOUSE_NO_MIGRATE=1",
	}
	// Cache tuning passes through, to try settings: GATEHOUSE_CACHE_STALE_AFTER=200ms make test-system.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GATEHOUSE_CACHE_") {
			env = append(env, kv)
		}
	}
	if redisURL != "" {
		env = append(env, "GATEHOUSE_REDIS_URL="+redisURL, "GATEHOUSE_REDIS_PREFIX=sys") // each test has its own redis-server
	}
	return env
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisServer is a redis-server process of one test, on its own port.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{t: t, port: freePort(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(suite.redisBn, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(r.cmd, r.done)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 100*time.Millisecond); err == nil {
			fmt.Fprint(c, "PING\r\n")
			buf := make([]byte, 16)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			_ = c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("redis-server on port %d did not answer PING", r.port)
}

// stop kills redis-server (no save: its data is gone) and waits for it.
func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// node is one gatehouse serve process.
type node struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	log  *syncBuffer
	done chan struct{}
	err  error // exit status, after done
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startNode starts gatehouse serve on a free port and waits until /healthz
// answers. Its log is printed when the test fails.
func startNode(t *testing.T, name, dbURL, redisURL string) *node {
	t.Helper()
	return startNodeEnv(t, name, nodeEnv(dbURL, redisURL))
}

func startNodeEnv(t *testing.T, name string, env []string) *node {
	t.Helper()
	n := &node{t: t, name: name, log: &syncBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(suite.bin, "serve", "--addr", "127.0.0.1:0")
	n.cmd.Env = env
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.cmd.Stdout = n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", name, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(n.log, line)
			if m := listeningRE.FindStringSubmatch(line); !sent && m != nil {
				addr <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(n.log, stderr)
	}()
	go func() { n.err = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			path := filepath.Join(os.TempDir(), fmt.Sprintf("gatehouse-systest-%s-%s.log", strings.ReplaceAll(t.Name(), "/", "_"), n.name))
			_ = os.WriteFile(path, []byte(n.log.String()), 0o600)
			t.Logf("log of node %s in %s; its last 4 kB:\n%s", n.name, path, tail(n.log.String(), 4<<10))
		}
	})
	select {
	case a := <-addr:
		n.base = "http://" + a
	case <-n.done:
		t.Fatalf("node %s exited on start (%v):\n%s", name, n.err, n.log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("node %s did not log its address within 20 s:\n%s", name, n.log.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st, _, err := do(http.MethodGet, n.base+"/healthz", nil, nil); err == nil && st == 200 {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("node %s: /healthz not 200 within 10 s", name)
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// signal sends sig to the node.
func (n *node) signal(sig syscall.Signal) {
	if err := n.cmd.Process.Signal(sig); err != nil {
		n.t.Errorf("signal node %s: %v", n.name, err)
	}
}

// wait waits up to d for the node to exit and returns its exit error.
func (n *node) wait(d time.Duration) (exited bool, err error) {
	select {
	case <-n.done:
		return true, n.err
	case <-time.After(d):
		return false, nil
	}
}

func (n *node) kill() {
	select {
	case <-n.done:
	default:
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// headers is a request's headers as pairs.
type headers map[string]string

func bearer(tok string) headers { return headers{"authorization": "Bearer " + tok} }

func secretKey(sk string) headers { return headers{"authorization": "Basic " + sk} }

var httpClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	},
}

// do sends one request with the shared keep-alive client.
func do(method, u string, h headers, body any) (int, []byte, error) {
	return doWith(context.Background(), httpClient, method, u, h, body)
}

func doWith(ctx context.Context, c *http.Client, method, u string, h headers, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// mustDo sends a request and fails the test unless it answers want.
func mustDo(t *testing.T, want int, method, u string, h headers, body any) []byte {
	t.Helper()
	st, b, err := do(method, u, h, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	if st != want {
		t.Fatalf("%s %s = %d %s, want %d", method, u, st, b, want)
	}
	return b
}

// jsonField decodes b and returns the string at a dotted path ("api_key.id").
func jsonField(t *testing.T, b []byte, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: no %q in %s", path, k, b)
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s in %s is %T, want a string", path, b, v)
	}
	return s
}

// seedTenants runs `gatehouse seed` on the run's database: tenants
// PREFIX-00000… with users user00000 (super admin) and user00001 (a seeded
// role), password `password`.
func seedTenants(t *testing.T, redisURL, prefix string, n int, settings string) {
	t.Helper()
	args := []string{"seed", "--tenants", fmt.Sprint(n), "--users-per-tenant", "3", "--policies", "2", "--prefix", prefix, "--password", password}
	if settings != "" {
		args = append(args, "--settings", settings)
	}
	cmd := exec.Command(suite.bin, args...)
	cmd.Env = nodeEnv(suite.dbURL, redisURL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gatehouse seed: %v\n%s", err, out)
	}
}

func userEmail(slug string, i int) string { return fmt.Sprintf("user%05d@%s.test", i, slug) }

// login logs a seeded user in on n and returns the JWT.
func login(t *testing.T, n *node, slug string, user int) string {
	t.Helper()
	b := mustDo(t, 200, http.MethodPost, n.base+"/t/"+slug+"/auth/user/emailpass", nil,
		map[string]string{"email": userEmail(slug, user), "password": password})
	return jsonField(t, b, "token")
}

// idOf returns the string at obj.id of a JSON body, or "".
func idOf(b []byte, obj string) string {
	var v map[string]struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &v)
	return v[obj].ID
}

// errorType returns the "type" of an error body, or "".
func errorType(b []byte) string {
	var e struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &e)
	if e.Message == "" {
		return ""
	}
	return e.Type
}

// result is one request of a load run.
type result struct {
	name       string
	node       string
	start, end time.Time
	status     int
	body       string
	err        error
}

// load sends requests from workers goroutines until stop is closed; pick
// chooses each request. It returns every result.
type load struct {
	mu      sync.Mutex
	results []result
	wg      sync.WaitGroup
	stop    chan struct{}
}

// request is one request a load worker sends.
type request struct {
	name, node  string
	client      *http.Client
	method, url string
	h           headers
	body        any
	okStatus    int
	onOK        func(body []byte)
}

func startLoad(workers int, pick func(worker, i int) request) *load {
	l := &load{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				rq := pick(w, i)
				c := rq.client
				if c == nil {
					c = httpClient
				}
				r := result{name: rq.name, node: rq.node, start: time.Now()}
				st, b, err := doWith(context.Background(), c, rq.method, rq.url, rq.h, rq.body)
				r.end, r.status, r.err = time.Now(), st, err
				if err == nil && st == rq.okStatus && rq.onOK != nil {
					rq.onOK(b)
				}
				if len(b) > 300 {
					b = b[:300]
				}
				r.body = string(b)
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	return l
}

// finish stops the load and returns its results.
func (l *load) finish() []result {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.results
}

// waitFor polls cond every few ms until it holds or d passes, and returns
// how long it took (or false).
func waitFor(d, every time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > d {
			return time.Since(start), false
		}
		time.Sleep(every)
	}
}

// summarize counts results by node, name and outcome, for the log.
func summarize(rs []result) string {
	counts := map[string]int{}
	for _, r := range rs {
		k := fmt.Sprintf("%s %s ", r.node, r.name)
		if r.err != nil {
			k += "error"
		} else {
			k += fmt.Sprint(r.status)
		}
		counts[k]++
	}
	var b strings.Builder
	for k, v := range counts {
		fmt.Fprintf(&b, "  %s: %d\n", k, v)
	}
	return b.String()
}

// timeline counts the results by start time in steps of step from t0, for
// the log: "+0.25s 200×31 503×2".
func timeline(rs []result, t0 time.Time, step time.Duration) string {
	type bucket map[string]int
	buckets := map[int]bucket{}
	last := 0
	for _, r := range rs {
		i := int(r.start.Sub(t0) / step)
		if r.start.Before(t0) {
			i = -1
		}
		if buckets[i] == nil {
			buckets[i] = bucket{}
		}
		k := fmt.Sprint(r.status)
		if r.err != nil {
			k = "err"
		}
		buckets[i][k]++
		last = max(last, i)
	}
	var b strings.Builder
	for i := -1; i <= last; i++ {
		if buckets[i] == nil {
			continue
		}
		keys := make([]string, 0, len(buckets[i]))
		for k := range buckets[i] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, "  %+.2fs", (time.Duration(i) * step).Seconds())
		for _, k := range keys {
			fmt.Fprintf(&b, " %s×%d", k, buckets[i][k])
		}
		b.WriteString("\n")
	}
	return b.String()
}
