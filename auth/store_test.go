package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// redisURLEnv names the Redis the store tests also run against when set.
const redisURLEnv = "GATEHOUSE_TEST_REDIS_URL"

// storeImpl makes a fresh, empty Store for one test and cleans it up after.
type storeImpl struct {
	name string
	new  func(t *testing.T) Store
}

// storeImpls returns the memory store, and the Redis store when
// GATEHOUSE_TEST_REDIS_URL is set.
func storeImpls() []storeImpl {
	impls := []storeImpl{{"memory", func(t *testing.T) Store { return newTestMemoryStore(t) }}}
	if os.Getenv(redisURLEnv) != "" {
		impls = append(impls, storeImpl{"redis", func(t *testing.T) Store { return newTestRedisStore(t) }})
	}
	return impls
}

func newTestMemoryStore(tb testing.TB) *MemoryStore {
	s := NewMemoryStore()
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// newTestRedisClient connects to GATEHOUSE_TEST_REDIS_URL. When the variable
// is set but Redis cannot be reached the test fails rather than skips: CI
// sets it precisely so that these tests run. name becomes the client name,
// so that a test can find its own connections in CLIENT LIST.
func newTestRedisClient(tb testing.TB, name string) *redis.Client {
	tb.Helper()
	// The URL is never printed: it may carry a password.
	opts, err := redis.ParseURL(os.Getenv(redisURLEnv))
	if err != nil {
		tb.Fatalf("redis.ParseURL($%s) error = %v", redisURLEnv, err)
	}
	opts.ClientName = name
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(tb.Context(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("$%s is set but Redis is unreachable: Ping() = %v", redisURLEnv, err)
	}
	return c
}

// newTestRedisStore returns a RedisStore under a prefix of its own, whose
// keys are deleted when the test ends.
func newTestRedisStore(tb testing.TB) *RedisStore {
	tb.Helper()
	prefix := "ghtest" + randomHex(tb, 8)
	c := newTestRedisClient(tb, prefix)
	s := NewRedisStore(c, prefix)
	tb.Cleanup(func() {
		_ = s.Close()
		// tb.Context() is already cancelled while cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("SCAN %s:* error = %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("DEL %d test keys error = %v", len(keys), err)
			}
		}
	})
	return s
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recorder collects the messages of one subscription.
type recorder chan string

func (r recorder) fn(msg string) { r <- msg }

// next returns the next message, failing the test if none comes soon.
func (r recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-r:
		return m
	case <-time.After(5 * time.Second):
		t.Fatalf("no message after 5s")
		return ""
	}
}

// none fails the test if a message arrives within d.
func (r recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-r:
		t.Errorf("got message %q, want none", m)
	case <-time.After(d):
	}
}

func mustCheck(t *testing.T, s Store, q RevocationQuery) RevocationState {
	t.Helper()
	st, err := s.Check(t.Context(), q)
	if err != nil {
		t.Fatalf("Check(%+v) error = %v", q, err)
	}
	return st
}

// wantState compares a RevocationState, with NotBefore compared as an
// instant.
func wantState(t *testing.T, q RevocationQuery, got, want RevocationState) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check(%+v) mismatch (-want +got):\n%s", q, diff)
	}
}

const (
	tenantA = "ten_01A"
	tenantB = "ten_01B"
)

// storeTests is the behaviour every Store implementation must have.
var storeTests = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"ping", func(t *testing.T, s Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping() = %v, want nil", err)
		}
	}},
	{"revoke jti", func(t *testing.T, s Store) {
		if err := s.RevokeJTI(t.Context(), tenantA, "jti-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("RevokeJTI error = %v", err)
		}
		q := RevocationQuery{TenantID: tenantA, JTI: "jti-1", SID: "sid-1", Subject: "user-1"}
		wantState(t, q, mustCheck(t, s, q), RevocationState{JTIRevoked: true})
		q = RevocationQuery{TenantID: tenantA, JTI: "jti-2"}
		wantState(t, q, mustCheck(t, s, q), RevocationState{})
	}},
	{"revoke sid", func(t *testing.T, s Store) {
		if err := s.RevokeSID(t.Context(), tenantA, "sid-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("RevokeSID error = %v", err)
		}
		q := RevocationQuery{TenantID: tenantA, JTI: "sid-1", SID: "sid-1"}
		// A sid does not revoke a jti that happens to have the same value.
		wantState(t, q, mustCheck(t, s, q), RevocationState{SIDRevoked: true})
	}},
	{"check all at once", func(t *testing.T, s Store) {
		nbf := time.UnixMilli(1_800_000_000_123)
		mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "j", time.Now().Add(time.Hour)))
		mustDo(t, "RevokeSID", s.RevokeSID(t.Context(), tenantA, "s", time.Now().Add(time.Hour)))
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "u", nbf, time.Hour))
		q := RevocationQuery{TenantID: tenantA, JTI: "j", SID: "s", Subject: "u"}
		wantState(t, q, mustCheck(t, s, q), RevocationState{JTIRevoked: true, SIDRevoked: true, NotBefore: nbf})
		// Empty fields are not checked.
		for _, q := range []RevocationQuery{{TenantID: tenantA}, {TenantID: tenantA, Subject: "u"}} {
			want := RevocationState{}
			if q.Subject != "" {
				want.NotBefore = nbf
			}
			wantState(t, q, mustCheck(t, s, q), want)
		}
	}},
	// One case waits for every kind of expiry, so that the test run pays
	// the wait once per store, whatever -parallel is.
	{"expiry", func(t *testing.T, s Store) {
		until := time.Now().Add(1500 * time.Millisecond)
		mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "j", until))
		mustDo(t, "RevokeSID", s.RevokeSID(t.Context(), tenantA, "s", until))
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "u", time.Now(), time.Until(until)))
		rec := SessionRecord{TenantID: tenantA, Subject: "u", CreatedAt: time.Now(), ExpiresAt: until}
		mustDo(t, "PutSession", s.PutSession(t.Context(), "sess-1", rec))

		q := RevocationQuery{TenantID: tenantA, JTI: "j", SID: "s", Subject: "u"}
		if st := mustCheck(t, s, q); !st.JTIRevoked || !st.SIDRevoked || st.NotBefore.IsZero() {
			t.Fatalf("Check(%+v) before expiry = %+v, want all revoked", q, st)
		}
		if _, err := s.GetSession(t.Context(), tenantA, "sess-1"); err != nil {
			t.Fatalf("GetSession(before expiry) error = %v", err)
		}

		time.Sleep(time.Until(until.Add(500 * time.Millisecond)))

		wantState(t, q, mustCheck(t, s, q), RevocationState{})
		if _, err := s.GetSession(t.Context(), tenantA, "sess-1"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSession(after expiry) error = %v, want %v", err, ErrSessionNotFound)
		}
	}},
	{"revoke until in the past is a no-op", func(t *testing.T, s Store) {
		past := time.Now().Add(-time.Second)
		mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "j", past))
		mustDo(t, "RevokeSID", s.RevokeSID(t.Context(), tenantA, "s", past))
		q := RevocationQuery{TenantID: tenantA, JTI: "j", SID: "s"}
		wantState(t, q, mustCheck(t, s, q), RevocationState{})
	}},
	{"not before round trip", func(t *testing.T, s Store) {
		nbf := time.Date(2026, 12, 4, 10, 11, 12, 345_678_901, time.UTC)
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "user-1", nbf, time.Hour))
		q := RevocationQuery{TenantID: tenantA, Subject: "user-1"}
		got := mustCheck(t, s, q).NotBefore
		if want := nbf.Truncate(time.Millisecond); !got.Equal(want) {
			t.Errorf("Check(%+v).NotBefore = %v, want %v (millisecond precision)", q, got, want)
		}
		q = RevocationQuery{TenantID: tenantA, Subject: "user-2"}
		wantState(t, q, mustCheck(t, s, q), RevocationState{})
	}},
	{"not before never moves back", func(t *testing.T, s Store) {
		later := time.UnixMilli(1_800_000_002_000)
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "u", later, time.Hour))
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "u", later.Add(-time.Second), time.Hour))
		q := RevocationQuery{TenantID: tenantA, Subject: "u"}
		if got := mustCheck(t, s, q).NotBefore; !got.Equal(later) {
			t.Errorf("Check(%+v).NotBefore = %v after setting an earlier one, want %v", q, got, later)
		}
		evenLater := later.Add(time.Second)
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "u", evenLater, time.Hour))
		if got := mustCheck(t, s, q).NotBefore; !got.Equal(evenLater) {
			t.Errorf("Check(%+v).NotBefore = %v, want %v", q, got, evenLater)
		}
	}},
	{"not before needs a positive ttl", func(t *testing.T, s Store) {
		if err := s.SetNotBefore(t.Context(), tenantA, "u", time.Now(), 0); err == nil {
			t.Errorf("SetNotBefore(ttl 0) = nil, want error")
		}
	}},
	{"session round trip", func(t *testing.T, s Store) {
		now := time.Now()
		rec := SessionRecord{
			TenantID:  tenantA,
			Subject:   "user-1",
			JTI:       "jti-1",
			SID:       "sid-1",
			Data:      []byte(`{"actor_type":"user"}` + "\x00\xff"),
			CreatedAt: now,
			ExpiresAt: now.Add(time.Hour),
		}
		mustDo(t, "PutSession", s.PutSession(t.Context(), "sess-1", rec))
		rec.Data[0] = 'X' // the store kept its own copy
		got, err := s.GetSession(t.Context(), tenantA, "sess-1")
		if err != nil {
			t.Fatalf("GetSession(%q, %q) error = %v", tenantA, "sess-1", err)
		}
		rec.Data[0] = '{'
		if diff := cmp.Diff(rec, got); diff != "" {
			t.Errorf("GetSession(%q, %q) mismatch (-want +got):\n%s", tenantA, "sess-1", diff)
		}

		// Putting again under the same id replaces the record.
		rec2 := SessionRecord{TenantID: tenantA, Subject: "user-2", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		mustDo(t, "PutSession", s.PutSession(t.Context(), "sess-1", rec2))
		got, err = s.GetSession(t.Context(), tenantA, "sess-1")
		if err != nil || got.Subject != "user-2" || got.Data != nil {
			t.Errorf("GetSession after replace = %+v, %v; want subject user-2, no data", got, err)
		}

		if _, err := s.GetSession(t.Context(), tenantA, "sess-2"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSession(unknown id) error = %v, want %v", err, ErrSessionNotFound)
		}
	}},
	{"session with its revocation state", func(t *testing.T, s Store) {
		now := time.Now()
		rec := SessionRecord{TenantID: tenantA, Subject: "ident-1", JTI: "jti-9", SID: "sid-9", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		mustDo(t, "PutSession", s.PutSession(t.Context(), "sess-9", rec))
		got, st, err := s.GetSessionChecked(t.Context(), tenantA, "sess-9")
		if err != nil || got.JTI != "jti-9" || st != (RevocationState{}) {
			t.Fatalf("GetSessionChecked(fresh) = %+v, %+v, %v; want the record and no revocation", got, st, err)
		}
		nbf := now.Truncate(time.Millisecond)
		mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "jti-9", now.Add(time.Hour)))
		mustDo(t, "RevokeSID", s.RevokeSID(t.Context(), tenantA, "sid-9", now.Add(time.Hour)))
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "ident-1", nbf, time.Hour))
		_, st, err = s.GetSessionChecked(t.Context(), tenantA, "sess-9")
		want := RevocationState{JTIRevoked: true, SIDRevoked: true, NotBefore: nbf}
		if err != nil || st.JTIRevoked != want.JTIRevoked || st.SIDRevoked != want.SIDRevoked || !st.NotBefore.Equal(nbf) {
			t.Errorf("GetSessionChecked(revoked) state = %+v, %v; want %+v", st, err, want)
		}
		// Revocations of another tenant do not show, and its sessions are not found.
		if _, _, err := s.GetSessionChecked(t.Context(), tenantB, "sess-9"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSessionChecked(other tenant) error = %v, want %v", err, ErrSessionNotFound)
		}
		if _, _, err := s.GetSessionChecked(t.Context(), tenantA, "nope"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSessionChecked(unknown) error = %v, want %v", err, ErrSessionNotFound)
		}
	}},
	{"session delete", func(t *testing.T, s Store) {
		rec := SessionRecord{TenantID: tenantA, Subject: "u", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		mustDo(t, "PutSession", s.PutSession(t.Context(), "sess-1", rec))
		mustDo(t, "DeleteSession", s.DeleteSession(t.Context(), tenantA, "sess-1"))
		if _, err := s.GetSession(t.Context(), tenantA, "sess-1"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSession(deleted) error = %v, want %v", err, ErrSessionNotFound)
		}
		if err := s.DeleteSession(t.Context(), tenantA, "sess-1"); err != nil {
			t.Errorf("DeleteSession(already deleted) = %v, want nil", err)
		}
	}},
	{"session already expired", func(t *testing.T, s Store) {
		rec := SessionRecord{TenantID: tenantA, Subject: "u", CreatedAt: time.Now().Add(-time.Hour), ExpiresAt: time.Now().Add(-time.Second)}
		if err := s.PutSession(t.Context(), "sess-1", rec); err == nil {
			t.Errorf("PutSession(ExpiresAt in the past) = nil, want error")
		}
		if _, err := s.GetSession(t.Context(), tenantA, "sess-1"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSession(never stored) error = %v, want %v", err, ErrSessionNotFound)
		}
	}},
	{"tenant isolation", func(t *testing.T, s Store) {
		until := time.Now().Add(time.Hour)
		mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "X", until))
		mustDo(t, "RevokeSID", s.RevokeSID(t.Context(), tenantA, "X", until))
		mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "X", time.Now(), time.Hour))
		qB := RevocationQuery{TenantID: tenantB, JTI: "X", SID: "X", Subject: "X"}
		wantState(t, qB, mustCheck(t, s, qB), RevocationState{})
		qA := RevocationQuery{TenantID: tenantA, JTI: "X", SID: "X"}
		wantState(t, qA, mustCheck(t, s, qA), RevocationState{JTIRevoked: true, SIDRevoked: true})

		rec := SessionRecord{TenantID: tenantA, Subject: "u", CreatedAt: time.Now(), ExpiresAt: until}
		mustDo(t, "PutSession", s.PutSession(t.Context(), "sess-X", rec))
		if got, err := s.GetSession(t.Context(), tenantB, "sess-X"); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("GetSession(%q, session of %q) = %+v, %v, want %v", tenantB, tenantA, got, err, ErrSessionNotFound)
		}
		// Tenant B cannot delete tenant A's session either.
		mustDo(t, "DeleteSession", s.DeleteSession(t.Context(), tenantB, "sess-X"))
		if _, err := s.GetSession(t.Context(), tenantA, "sess-X"); err != nil {
			t.Errorf("GetSession(%q) after tenant B's delete error = %v, want nil", tenantA, err)
		}
	}},
	{"invalid tenant id", func(t *testing.T, s Store) {
		for _, tenant := range []string{"", "a}b", "{a}"} {
			if _, err := s.Check(t.Context(), RevocationQuery{TenantID: tenant, JTI: "j"}); err == nil {
				t.Errorf("Check(tenant %q) = nil error, want error", tenant)
			}
			if err := s.RevokeJTI(t.Context(), tenant, "j", time.Now().Add(time.Hour)); err == nil {
				t.Errorf("RevokeJTI(tenant %q) = nil, want error", tenant)
			}
			rec := SessionRecord{TenantID: tenant, ExpiresAt: time.Now().Add(time.Hour)}
			if err := s.PutSession(t.Context(), "sess", rec); err == nil {
				t.Errorf("PutSession(tenant %q) = nil, want error", tenant)
			}
			if _, err := s.GetSession(t.Context(), tenant, "sess"); err == nil {
				t.Errorf("GetSession(tenant %q) = nil error, want error", tenant)
			}
		}
	}},
	{"publish subscribe", func(t *testing.T, s Store) {
		got, other := make(recorder, 16), make(recorder, 16)
		stop, err := s.Subscribe(t.Context(), "policy", got.fn)
		if err != nil {
			t.Fatalf("Subscribe error = %v", err)
		}
		stopOther, err := s.Subscribe(t.Context(), "other", other.fn)
		if err != nil {
			t.Fatalf("Subscribe error = %v", err)
		}
		defer stopOther()

		msgs := []string{"tenant:A", "tenant:B", ""}
		for _, m := range msgs {
			mustDo(t, "Publish", s.Publish(t.Context(), "policy", m))
		}
		for _, want := range msgs {
			if m := got.next(t); m != want {
				t.Errorf("message = %q, want %q (in publish order)", m, want)
			}
		}
		other.none(t, 100*time.Millisecond)

		stop()
		stop() // idempotent
		mustDo(t, "Publish", s.Publish(t.Context(), "policy", "after stop"))
		got.none(t, 200*time.Millisecond)
	}},
	{"publish without subscribers", func(t *testing.T, s Store) {
		mustDo(t, "Publish", s.Publish(t.Context(), "nobody", "msg"))
	}},
	{"close", func(t *testing.T, s Store) {
		got := make(recorder, 16)
		stop, err := s.Subscribe(t.Context(), "policy", got.fn)
		if err != nil {
			t.Fatalf("Subscribe error = %v", err)
		}
		mustDo(t, "Close", s.Close())
		mustDo(t, "Close again", s.Close())
		stop() // after Close: must not hang

		if err := s.Ping(t.Context()); !errors.Is(err, ErrStoreUnavailable) {
			t.Errorf("Ping() after Close = %v, want %v", err, ErrStoreUnavailable)
		}
		q := RevocationQuery{TenantID: tenantA, JTI: "j"}
		if _, err := s.Check(t.Context(), q); !errors.Is(err, ErrStoreUnavailable) {
			t.Errorf("Check(%+v) after Close error = %v, want %v", q, err, ErrStoreUnavailable)
		}
		if _, err := s.Subscribe(t.Context(), "policy", got.fn); !errors.Is(err, ErrStoreUnavailable) {
			t.Errorf("Subscribe() after Close error = %v, want %v", err, ErrStoreUnavailable)
		}
	}},
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s error = %v", what, err)
	}
}

// TestStore runs storeTests against every implementation, each case on a
// fresh store, in parallel so that the cases that wait for an expiry overlap.
func TestStore(t *testing.T) {
	t.Parallel()
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range storeTests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.run(t, impl.new(t))
				})
			}
		})
	}
}

func TestStoreRevocationStateRevoked(t *testing.T) {
	t.Parallel()
	nbf := time.UnixMilli(1_800_000_000_500)
	tests := []struct {
		name     string
		st       RevocationState
		issuedAt time.Time
		want     bool
	}{
		{"nothing", RevocationState{}, nbf, false},
		{"jti", RevocationState{JTIRevoked: true}, nbf, true},
		{"sid", RevocationState{SIDRevoked: true}, nbf, true},
		{"issued before not-before", RevocationState{NotBefore: nbf}, nbf.Add(-time.Millisecond), true},
		{"issued at not-before", RevocationState{NotBefore: nbf}, nbf, false},
		{"issued after not-before", RevocationState{NotBefore: nbf}, nbf.Add(time.Millisecond), false},
		{"iat in seconds, same second", RevocationState{NotBefore: nbf}, nbf.Truncate(time.Second), true},
	}
	for _, tt := range tests {
		if got := tt.st.Revoked(tt.issuedAt); got != tt.want {
			t.Errorf("%s: %+v.Revoked(%v) = %v, want %v", tt.name, tt.st, tt.issuedAt, got, tt.want)
		}
	}
}

// TestMemoryStoreJanitor checks that expired entries are dropped, not only
// hidden, so memory does not grow with every logout.
func TestMemoryStoreJanitor(t *testing.T) {
	t.Parallel()
	s := newTestMemoryStore(t)
	now := time.Now()
	mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "old", now.Add(time.Second)))
	mustDo(t, "RevokeJTI", s.RevokeJTI(t.Context(), tenantA, "new", now.Add(time.Hour)))
	mustDo(t, "RevokeSID", s.RevokeSID(t.Context(), tenantA, "old", now.Add(time.Second)))
	mustDo(t, "SetNotBefore", s.SetNotBefore(t.Context(), tenantA, "old", now, time.Second))
	rec := SessionRecord{TenantID: tenantA, CreatedAt: now, ExpiresAt: now.Add(time.Second)}
	mustDo(t, "PutSession", s.PutSession(t.Context(), "old", rec))

	s.sweep(now.Add(2 * time.Second))

	s.mu.Lock()
	defer s.mu.Unlock()
	got := []int{len(s.jtis), len(s.sids), len(s.nbfs), len(s.sessions)}
	if diff := cmp.Diff([]int{1, 0, 0, 0}, got); diff != "" {
		t.Errorf("entries (jtis, sids, nbfs, sessions) after sweep mismatch (-want +got):\n%s", diff)
	}
}

// TestRedisStoreUnavailable needs no Redis: it points a store at a closed
// port and checks every method fails fast with ErrStoreUnavailable, which
// callers turn into a 503 rather than treating the credential as valid.
func TestRedisStoreUnavailable(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{
		Addr:        "127.0.0.1:1",
		DialTimeout: 200 * time.Millisecond,
		MaxRetries:  -1, // no command retries
		// go-redis also retries a failed dial 5 times, 100ms apart.
		DialerRetries: 1,
	})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedisStore(c, "ghtest"+randomHex(t, 8))
	t.Cleanup(func() { _ = s.Close() })

	ops := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Check", func(ctx context.Context) error {
			_, err := s.Check(ctx, RevocationQuery{TenantID: tenantA, JTI: "j", SID: "s", Subject: "u"})
			return err
		}},
		{"RevokeJTI", func(ctx context.Context) error { return s.RevokeJTI(ctx, tenantA, "j", time.Now().Add(time.Hour)) }},
		{"SetNotBefore", func(ctx context.Context) error { return s.SetNotBefore(ctx, tenantA, "u", time.Now(), time.Hour) }},
		{"PutSession", func(ctx context.Context) error {
			return s.PutSession(ctx, "sess", SessionRecord{TenantID: tenantA, ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{"GetSession", func(ctx context.Context) error {
			_, err := s.GetSession(ctx, tenantA, "sess")
			return err
		}},
		{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, tenantA, "sess") }},
		{"Publish", func(ctx context.Context) error { return s.Publish(ctx, "ch", "m") }},
		{"Subscribe", func(ctx context.Context) error {
			stop, err := s.Subscribe(ctx, "ch", func(string) {})
			if err == nil {
				stop()
			}
			return err
		}},
		{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := op.run(t.Context())
			if !errors.Is(err, ErrStoreUnavailable) {
				t.Errorf("%s(unreachable Redis) error = %v, want %v", op.name, err, ErrStoreUnavailable)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s(unreachable Redis) took %v, want < 2s", op.name, d)
			}
		})
	}
}

// TestRedisStoreLayout pins the key layout and value formats, which other
// tools (and nodes running another version) read, and that Check is one
// command.
func TestRedisStoreLayout(t *testing.T) {
	t.Parallel()
	if os.Getenv(redisURLEnv) == "" {
		t.Skipf("$%s not set", redisURLEnv)
	}
	s := newTestRedisStore(t)
	c := s.c
	p := s.prefix
	ctx := t.Context()

	nbf := time.UnixMilli(1_800_000_000_123)
	mustDo(t, "RevokeJTI", s.RevokeJTI(ctx, tenantA, "j1", time.Now().Add(time.Hour)))
	mustDo(t, "RevokeSID", s.RevokeSID(ctx, tenantA, "s1", time.Now().Add(time.Hour)))
	mustDo(t, "SetNotBefore", s.SetNotBefore(ctx, tenantA, "u1", nbf, time.Hour))
	created := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rec := SessionRecord{TenantID: tenantA, Subject: "u1", Data: []byte("d"), CreatedAt: created, ExpiresAt: time.Now().Add(time.Hour)}
	mustDo(t, "PutSession", s.PutSession(ctx, "x1", rec))

	for _, key := range []string{
		p + ":{" + tenantA + "}:rev:jti:j1",
		p + ":{" + tenantA + "}:rev:sid:s1",
		p + ":{" + tenantA + "}:nbf:u1",
		p + ":{" + tenantA + "}:sess:x1",
	} {
		ttl, err := c.PTTL(ctx, key).Result()
		if err != nil || ttl <= 0 || ttl > time.Hour {
			t.Errorf("PTTL(%q) = %v, %v; want a TTL of at most 1h", key, ttl, err)
		}
	}
	if v, err := c.Get(ctx, p+":{"+tenantA+"}:nbf:u1").Result(); err != nil || v != strconv.FormatInt(nbf.UnixMilli(), 10) {
		t.Errorf("GET nbf = %q, %v; want %d (unix ms)", v, err, nbf.UnixMilli())
	}
	b, err := c.Get(ctx, p+":{"+tenantA+"}:sess:x1").Bytes()
	if err != nil {
		t.Fatalf("GET sess error = %v", err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatalf("session value %q is not JSON: %v", b, err)
	}
	if j["tid"] != tenantA || j["sub"] != "u1" || j["created_at"] != "2026-12-04T10:00:00Z" {
		t.Errorf("session JSON = %s, want tid, sub and created_at fields", b)
	}

	// Check is a single MGET, however many fields are asked for.
	var cmds atomic.Int32
	var names []string
	c.AddHook(countHook{n: &cmds, names: &names})
	q := RevocationQuery{TenantID: tenantA, JTI: "j1", SID: "s1", Subject: "u1"}
	wantState(t, q, mustCheck(t, s, q), RevocationState{JTIRevoked: true, SIDRevoked: true, NotBefore: nbf})
	if n := cmds.Load(); n != 1 || len(names) != 1 || names[0] != "mget" {
		t.Errorf("Check(%+v) sent %d commands %v, want 1 mget", q, n, names)
	}
}

// countHook counts the commands a client sends. It is used from one
// goroutine.
type countHook struct {
	n     *atomic.Int32
	names *[]string
}

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		*h.names = append(*h.names, cmd.Name())
		return next(ctx, cmd)
	}
}

func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int32(len(cmds)))
		for _, c := range cmds {
			*h.names = append(*h.names, c.Name())
		}
		return next(ctx, cmds)
	}
}

// TestRedisStoreSubscribeReconnect kills the subscriber's connection on the
// server and checks that messages flow again once go-redis has reconnected
// and resubscribed.
func TestRedisStoreSubscribeReconnect(t *testing.T) {
	t.Parallel()
	if os.Getenv(redisURLEnv) == "" {
		t.Skipf("$%s not set", redisURLEnv)
	}
	s := newTestRedisStore(t)
	got := make(recorder, 64)
	stop, err := s.Subscribe(t.Context(), "policy", got.fn)
	if err != nil {
		t.Fatalf("Subscribe error = %v", err)
	}
	defer stop()
	mustDo(t, "Publish", s.Publish(t.Context(), "policy", "before"))
	if m := got.next(t); m != "before" {
		t.Fatalf("message = %q, want %q", m, "before")
	}

	// Only this test's connections carry its prefix as client name.
	list, err := s.c.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST error = %v", err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		fields := strings.Fields(line)
		var id string
		var mine, subscriber bool
		for _, f := range fields {
			switch {
			case strings.HasPrefix(f, "id="):
				id = strings.TrimPrefix(f, "id=")
			case f == "name="+s.prefix:
				mine = true
			case f == "sub=1":
				subscriber = true
			}
		}
		if mine && subscriber {
			if err := s.c.ClientKillByFilter(t.Context(), "ID", id).Err(); err != nil {
				t.Fatalf("CLIENT KILL ID error = %v", err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("found %d subscriber connections named %q, want 1", killed, s.prefix)
	}

	// Messages published before the resubscription are lost (Redis pub/sub
	// is at most once), so publish until one gets through.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mustDo(t, "Publish", s.Publish(t.Context(), "policy", "after"))
		select {
		case m := <-got:
			if m != "after" {
				t.Fatalf("message = %q, want %q", m, "after")
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message 10s after the subscriber connection was killed")
		}
	}
}

// benchmarkCheck measures Check for a credential whose jti is revoked and
// whose subject has a not-before, the usual state of a logged-out token.
func benchmarkCheck(b *testing.B, s Store) {
	ctx := b.Context()
	if err := s.RevokeJTI(ctx, tenantA, "jti-revoked", time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	if err := s.SetNotBefore(ctx, tenantA, "user-1", time.Now(), time.Hour); err != nil {
		b.Fatal(err)
	}
	q := RevocationQuery{TenantID: tenantA, JTI: "jti-revoked", SID: "sid-1", Subject: "user-1"}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Check(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Check(ctx, q); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkCheckMemory(b *testing.B) {
	benchmarkCheck(b, newTestMemoryStore(b))
}

func BenchmarkCheckRedis(b *testing.B) {
	if os.Getenv(redisURLEnv) == "" {
		b.Skipf("$%s not set", redisURLEnv)
	}
	benchmarkCheck(b, newTestRedisStore(b))
}
