package auth

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCacheOptions make staleness quick to reach in tests.
var testCacheOptions = CacheOptions{Heartbeat: 20 * time.Millisecond, StaleAfter: 200 * time.Millisecond}

// newTestCachedStore starts a CachedStore over inner and waits until its
// stream is fresh. The CachedStore does not close inner: two of them may
// share one, as two nodes share Redis.
func newTestCachedStore(tb testing.TB, inner Store, opt CacheOptions) *CachedStore {
	tb.Helper()
	s := NewCachedStore(nopCloser{inner}, opt)
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("Start error = %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	waitFor(tb, "stream fresh", 5*time.Second, s.Fresh)
	return s
}

// nopCloser keeps a CachedStore from closing a store other nodes share.
type nopCloser struct{ Store }

func (nopCloser) Close() error { return nil }

// SubscribeWithReset passes the reset hook through when the store has one.
func (n nopCloser) SubscribeWithReset(ctx context.Context, channel string, fn func(string), reset func()) (func(), error) {
	if rs, ok := n.Store.(resetSubscriber); ok {
		return rs.SubscribeWithReset(ctx, channel, fn, reset)
	}
	return n.Store.Subscribe(ctx, channel, fn)
}

func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not true after %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sharedStores returns the backing stores two nodes share: memory (two
// nodes in one process) and, with GATEHOUSE_TEST_REDIS_URL, Redis through two
// clients (two processes).
func sharedStores(t *testing.T) map[string]func(t *testing.T) (a, b Store) {
	m := map[string]func(t *testing.T) (Store, Store){
		"memory": func(t *testing.T) (Store, Store) { s := newTestMemoryStore(t); return s, s },
	}
	if os.Getenv(redisURLEnv) != "" {
		m["redis"] = func(t *testing.T) (Store, Store) {
			a := newTestRedisStore(t)
			b := NewRedisStore(newTestRedisClient(t, a.prefix), a.prefix)
			t.Cleanup(func() { _ = b.Close() })
			return a, b
		}
	}
	return m
}

// TestCachedStoreCrossNode checks that a revocation made on node A is
// honoured by node B within 100 ms although B had the credential cached as
// valid: jti, sid and not-before.
func TestCachedStoreCrossNode(t *testing.T) {
	t.Parallel()
	for name, stores := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ia, ib := stores(t)
			a := newTestCachedStore(t, ia, testCacheOptions)
			b := newTestCachedStore(t, ib, testCacheOptions)
			ctx := t.Context()
			q := RevocationQuery{TenantID: tenantA, JTI: "jti-1", SID: "sid-1", Subject: "user-1"}
			cases := []struct {
				name   string
				revoke func() error
				want   func(RevocationState) bool
			}{
				{"jti", func() error { return a.RevokeJTI(ctx, tenantA, q.JTI, time.Now().Add(time.Hour)) },
					func(st RevocationState) bool { return st.JTIRevoked }},
				{"sid", func() error { return a.RevokeSID(ctx, tenantA, q.SID, time.Now().Add(time.Hour)) },
					func(st RevocationState) bool { return st.SIDRevoked }},
				{"not-before", func() error { return a.SetNotBefore(ctx, tenantA, q.Subject, time.Now(), time.Hour) },
					func(st RevocationState) bool { return !st.NotBefore.IsZero() }},
			}
			for _, tc := range cases {
				// Warm B's cache, and prove it answers from it.
				for range 3 {
					if st := mustCheck(t, b, q); tc.want(st) {
						t.Fatalf("%s: Check on B before the revocation = %+v, want not revoked", tc.name, st)
					}
				}
				if _, ok := b.revs.Get(revKey{tenantA, tc.name[0], map[byte]string{'j': q.JTI, 's': q.SID, 'n': q.Subject}[tc.name[0]]}); !ok {
					t.Fatalf("%s: B did not cache the entry", tc.name)
				}
				mustDo(t, tc.name, tc.revoke())
				start := time.Now()
				waitFor(t, tc.name+" revoked on B", time.Second, func() bool { return tc.want(mustCheck(t, b, q)) })
				if d := time.Since(start); d > 100*time.Millisecond {
					t.Errorf("%s: B honoured the revocation after %v, want ≤ 100ms", tc.name, d)
				}
				if st := mustCheck(t, a, q); !tc.want(st) {
					t.Errorf("%s: Check on A = %+v, want revoked at once", tc.name, st)
				}
			}
		})
	}
}

// TestCachedStoreBus checks that Publish and Subscribe through CachedStores
// reach the other node, and that a recovered stream sends "*" to every
// subscriber.
func TestCachedStoreBus(t *testing.T) {
	t.Parallel()
	for name, stores := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ia, ib := stores(t)
			a := newTestCachedStore(t, ia, testCacheOptions)
			b := newTestCachedStore(t, ib, testCacheOptions)
			got := make(recorder, 64)
			stop, err := b.Subscribe(t.Context(), "tenants:changed", got.fn)
			mustDo(t, "Subscribe", err)
			defer stop()
			mustDo(t, "Publish", a.Publish(t.Context(), "tenants:changed", "ten_1"))
			if m := got.next(t); m != "ten_1" {
				t.Errorf("message = %q, want ten_1", m)
			}
			// A stream that had a gap (Redis reconnected) purges on recovery.
			b.reset()
			waitFor(t, "fresh again", 5*time.Second, b.Fresh)
			if m := got.next(t); m != "*" {
				t.Errorf("message after recovery = %q, want *", m)
			}
			stop()
			mustDo(t, "Publish", a.Publish(t.Context(), "tenants:changed", "ten_2"))
			got.none(t, 100*time.Millisecond)
		})
	}
}

// partition is a Store whose pub/sub can be cut: Publish fails and nothing
// is delivered, as when a node loses its Redis subscription.
type partition struct {
	Store
	cut atomic.Bool
}

func (p *partition) Publish(ctx context.Context, channel, msg string) error {
	if p.cut.Load() {
		return ErrStoreUnavailable
	}
	return p.Store.Publish(ctx, channel, msg)
}

func (p *partition) Subscribe(ctx context.Context, channel string, fn func(string)) (func(), error) {
	return p.Store.Subscribe(ctx, channel, func(m string) {
		if !p.cut.Load() {
			fn(m)
		}
	})
}

func (p *partition) Close() error { return nil }

// TestCachedStoreStaleStream checks the fail-closed path: when node B stops
// receiving the stream, it stops trusting its cache within StaleAfter and
// reads the backing store, so a revocation it was never told about is
// honoured; and a revocation that cannot be announced is an error.
func TestCachedStoreStaleStream(t *testing.T) {
	t.Parallel()
	inner := newTestMemoryStore(t)
	pb := &partition{Store: inner}
	a := newTestCachedStore(t, &partition{Store: inner}, testCacheOptions)
	b := newTestCachedStore(t, pb, testCacheOptions)
	ctx := t.Context()
	q := RevocationQuery{TenantID: tenantA, JTI: "jti-1"}
	if st := mustCheck(t, b, q); st.JTIRevoked {
		t.Fatalf("Check = %+v, want not revoked", st)
	}
	pb.cut.Store(true)
	mustDo(t, "RevokeJTI", a.RevokeJTI(ctx, tenantA, "jti-1", time.Now().Add(time.Hour)))
	start := time.Now()
	waitFor(t, "B stale", 2*time.Second, func() bool { return !b.Fresh() })
	if d := time.Since(start); d > testCacheOptions.StaleAfter+100*time.Millisecond {
		t.Errorf("B went stale after %v, want ≤ %v", d, testCacheOptions.StaleAfter)
	}
	if st := mustCheck(t, b, q); !st.JTIRevoked {
		t.Errorf("Check on stale B = %+v, want revoked (read through)", st)
	}
	// B cannot announce: the revocation is stored, but the caller is told.
	err := b.RevokeJTI(ctx, tenantA, "jti-2", time.Now().Add(time.Hour))
	if !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("RevokeJTI with the bus down error = %v, want %v", err, ErrStoreUnavailable)
	}
	// The stream comes back: B purges and trusts its cache again.
	pb.cut.Store(false)
	waitFor(t, "B fresh", 2*time.Second, b.Fresh)
	if b.revs.Len() != 0 {
		t.Errorf("B kept %d entries across the gap, want 0", b.revs.Len())
	}
	if st := mustCheck(t, b, RevocationQuery{TenantID: tenantA, JTI: "jti-2"}); !st.JTIRevoked {
		t.Errorf("Check(jti-2) = %+v, want revoked", st)
	}
}

// failing is a Store whose reads fail, as Redis does when it is down.
type failing struct {
	Store
	down atomic.Bool
}

func (f *failing) Check(ctx context.Context, q RevocationQuery) (RevocationState, error) {
	if f.down.Load() {
		return RevocationState{}, unavailable(errors.New("connection refused"))
	}
	return f.Store.Check(ctx, q)
}

func (f *failing) Publish(ctx context.Context, channel, msg string) error {
	if f.down.Load() {
		return unavailable(errors.New("connection refused"))
	}
	return f.Store.Publish(ctx, channel, msg)
}

func (f *failing) Close() error { return nil }

// TestCachedStoreFailsClosed checks that once the store is down, checks stop
// being answered from the cache within StaleAfter and fail with
// ErrStoreUnavailable (a 503), never "not revoked".
func TestCachedStoreFailsClosed(t *testing.T) {
	t.Parallel()
	f := &failing{Store: newTestMemoryStore(t)}
	s := newTestCachedStore(t, f, testCacheOptions)
	q := RevocationQuery{TenantID: tenantA, JTI: "j", SID: "s", Subject: "u"}
	mustCheck(t, s, q)
	f.down.Store(true)
	waitFor(t, "stale", 2*time.Second, func() bool { return !s.Fresh() })
	if _, err := s.Check(t.Context(), q); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("Check with the store down error = %v, want %v", err, ErrStoreUnavailable)
	}
	f.down.Store(false)
	waitFor(t, "fresh", 2*time.Second, s.Fresh)
	mustCheck(t, s, q)
}

// TestCachedStoreFillRace checks that a read which began before a
// revocation arrived is not cached after it.
func TestCachedStoreFillRace(t *testing.T) {
	t.Parallel()
	inner := newTestMemoryStore(t)
	slow := &slowCheck{Store: inner, entered: make(chan struct{}), release: make(chan struct{})}
	s := newTestCachedStore(t, slow, testCacheOptions)
	ctx := t.Context()
	q := RevocationQuery{TenantID: tenantA, JTI: "j"}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = s.Check(ctx, q) // reads "not revoked", then stalls
	}()
	<-slow.entered
	mustDo(t, "RevokeJTI", s.RevokeJTI(ctx, tenantA, "j", time.Now().Add(time.Hour)))
	close(slow.release)
	wg.Wait()
	if st := mustCheck(t, s, q); !st.JTIRevoked {
		t.Errorf("Check after the race = %+v, want revoked", st)
	}
}

// slowCheck answers its first Check, then waits before returning it.
type slowCheck struct {
	Store
	once             sync.Once
	entered, release chan struct{}
}

func (s *slowCheck) Check(ctx context.Context, q RevocationQuery) (RevocationState, error) {
	st, err := s.Store.Check(ctx, q)
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.entered)
		<-s.release
	}
	return st, err
}

func (s *slowCheck) Close() error { return nil }

// TestCachedStoreRedisReconnect kills node B's subscriber connection on the
// Redis server: B must stop trusting its cache (reset), purge, and honour a
// revocation published while it was disconnected.
func TestCachedStoreRedisReconnect(t *testing.T) {
	t.Parallel()
	if os.Getenv(redisURLEnv) == "" {
		t.Skipf("$%s not set", redisURLEnv)
	}
	ia := newTestRedisStore(t)
	rb := NewRedisStore(newTestRedisClient(t, ia.prefix+"b"), ia.prefix)
	t.Cleanup(func() { _ = rb.Close() })
	a := newTestCachedStore(t, ia, testCacheOptions)
	b := newTestCachedStore(t, rb, testCacheOptions)
	ctx := t.Context()
	q := RevocationQuery{TenantID: tenantA, JTI: "j"}
	mustCheck(t, b, q)
	list, err := rb.c.ClientList(ctx).Result()
	mustDo(t, "CLIENT LIST", err)
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+ia.prefix+"b ") && strings.Contains(line, " sub=1 ") {
			for _, f := range strings.Fields(line) {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					mustDo(t, "CLIENT KILL", rb.c.ClientKillByFilter(ctx, "ID", id).Err())
					killed++
				}
			}
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d subscriber connections, want 1", killed)
	}
	mustDo(t, "RevokeJTI", a.RevokeJTI(ctx, tenantA, "j", time.Now().Add(time.Hour)))
	waitFor(t, "revoked on B", 5*time.Second, func() bool {
		st, err := b.Check(ctx, q)
		return err == nil && st.JTIRevoked
	})
}

// TestCachedStoreConformance runs the Store conformance tests against a
// CachedStore over each backing store.
func TestCachedStoreConformance(t *testing.T) {
	t.Parallel()
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range storeTests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					s := NewCachedStore(impl.new(t), testCacheOptions)
					if err := s.Start(t.Context()); err != nil {
						t.Fatalf("Start error = %v", err)
					}
					t.Cleanup(func() { _ = s.Close() })
					tt.run(t, s)
				})
			}
		})
	}
}

// checkExpiring passes through, so that nodes in tests cache what was found
// as production does.
func (n nopCloser) checkExpiring(ctx context.Context, q RevocationQuery) (RevocationState, revExpiry, error) {
	if ec, ok := n.Store.(expiringChecker); ok {
		return ec.checkExpiring(ctx, q)
	}
	// The test fakes (partition, failing) wrap a store with expiries; the
	// entries they find are treated as never expiring, which the tests that
	// use them do not wait for.
	st, err := n.Store.Check(ctx, q)
	return st, revExpiry{}, err
}

// lagging is a Store whose subscription can be held back without losing
// anything: while paused, messages queue in order and are delivered on
// resume, as when a node's CPU is saturated.
type lagging struct {
	Store
	mu     sync.Mutex
	paused bool
	queue  []func()
}

func (l *lagging) Subscribe(ctx context.Context, channel string, fn func(string)) (func(), error) {
	return l.Store.Subscribe(ctx, channel, func(m string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.paused {
			l.queue = append(l.queue, func() { fn(m) })
			return
		}
		fn(m)
	})
}

func (l *lagging) pause() { l.mu.Lock(); l.paused = true; l.mu.Unlock() }

func (l *lagging) resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.queue {
		f()
	}
	l.queue, l.paused = nil, false
}

func (l *lagging) Close() error { return nil }

// TestCachedStoreLagWithoutLoss: a stream that lags but loses nothing is
// bypassed while it lags (a revocation made meanwhile is honoured at once)
// and, when it catches up, keeps its caches (no purge: every message arrived
// in order); a lag longer than PurgeAfter purges them anyway.
func TestCachedStoreLagWithoutLoss(t *testing.T) {
	t.Parallel()
	inner := newTestMemoryStore(t)
	lag := &lagging{Store: inner}
	opt := testCacheOptions
	opt.PurgeAfter = time.Second
	a := newTestCachedStore(t, lag, opt)
	b := newTestCachedStore(t, inner, opt)
	got := make(recorder, 256)
	stop, err := a.Subscribe(t.Context(), "tenants:changed", got.fn)
	mustDo(t, "Subscribe", err)
	defer stop()
	kept := RevocationQuery{TenantID: tenantA, JTI: "kept"}
	revoked := RevocationQuery{TenantID: tenantA, JTI: "revoked-meanwhile"}
	mustCheck(t, a, kept)
	mustCheck(t, a, revoked)

	lag.pause()
	waitFor(t, "A lagging", 2*time.Second, func() bool { return !a.Fresh() })
	mustDo(t, "RevokeJTI on B", b.RevokeJTI(t.Context(), tenantA, revoked.JTI, time.Now().Add(time.Hour)))
	if st := mustCheck(t, a, revoked); !st.JTIRevoked {
		t.Errorf("Check on lagging A = %+v, want revoked (read through)", st)
	}
	lag.resume()
	waitFor(t, "A fresh", 2*time.Second, a.Fresh)
	got.none(t, 150*time.Millisecond)
	if _, ok := a.revs.Peek(revKey{tenantA, 'j', kept.JTI}); !ok {
		t.Error("a short lag without loss purged the cache")
	}
	if st := mustCheck(t, a, revoked); !st.JTIRevoked {
		t.Errorf("Check after the lag = %+v, want revoked", st)
	}

	lag.pause()
	time.Sleep(opt.PurgeAfter + 200*time.Millisecond)
	lag.resume()
	waitFor(t, "A fresh after a long lag", 2*time.Second, a.Fresh)
	if m := got.next(t); m != "*" {
		t.Errorf("message after a lag longer than PurgeAfter = %q, want *", m)
	}
}
