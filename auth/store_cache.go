package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// BusChannel is the one Store channel a CachedStore uses: every invalidation
// message of every cache, and the heartbeats that prove the stream is alive,
// travel on it, so one subscription's health covers them all and they arrive
// in the order they were published.
const BusChannel = "bus"

// revocationsChannel carries revocation changes inside the bus.
const revocationsChannel = "revocations"

// Message framing on BusChannel: the inner channel name, a separator, the
// message. Heartbeats use a channel name no caller can subscribe to.
const (
	busSep           = "\x1f"
	heartbeatChannel = "\x00hb"
)

// CacheOptions configures a CachedStore.
type CacheOptions struct {
	// Size bounds the revocation entries kept (jti, sid and not-before each
	// count as one); default 100,000.
	Size int
	// Actors bounds the admin users and customers the auth Service caches
	// over this store (default 100,000; negative: none).
	Actors int
	// TTL bounds how long an entry is trusted even while the stream is
	// healthy (defence in depth against a lost message); default 30 s.
	TTL time.Duration
	// Heartbeat is how often this node publishes a heartbeat to itself
	// through the store; default 20 ms. A heartbeat that cannot be published
	// makes the stream stale at once.
	Heartbeat time.Duration
	// StaleAfter is how old this node's last received heartbeat may be before
	// the stream counts as down or lagging and every cache fed by it is
	// bypassed (direct reads, failing closed); default 80 ms, inside the
	// 100 ms a change or an outage has to take effect.
	StaleAfter time.Duration
	// PurgeAfter: a stream that was stale for longer than this is purged when
	// it recovers, even though no heartbeat is missing (default 5 s). A
	// shorter lag loses nothing: the subscription delivers in order, losses
	// show as a gap in this node's heartbeat numbers or as a reconnect, and
	// go-redis drops a message only after its channel stayed full for
	// busDropAfter (a minute). Purging after every lag would make a node
	// whose CPU is saturated reload every cache at once, lagging again.
	PurgeAfter time.Duration
}

func (o *CacheOptions) defaults() {
	if o.Size <= 0 {
		o.Size = 100000
	}
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 20 * time.Millisecond
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 80 * time.Millisecond
	}
	if o.StaleAfter < 2*o.Heartbeat {
		o.StaleAfter = 2 * o.Heartbeat
	}
	if o.PurgeAfter <= 0 {
		o.PurgeAfter = 5 * time.Second
	}
	if o.PurgeAfter < o.StaleAfter {
		o.PurgeAfter = o.StaleAfter
	}
}

// resetSubscriber is a Store whose subscriptions can silently drop and come
// back (Redis reconnects): reset is called after such a gap, in which
// messages may have been lost.
type resetSubscriber interface {
	SubscribeWithReset(ctx context.Context, channel string, fn func(msg string), reset func()) (stop func(), err error)
}

// CachedStore is a Store that answers revocation checks from a bounded
// in-process cache, and carries every node's cache-invalidation messages
// (its own, the tenant registry's, the authorizer's, the API keys') on one
// subscription of the backing store, whose health it tracks with heartbeats.
//
// A cached answer is used only while the stream is fresh: this node received
// its own latest heartbeat through the backing store less than StaleAfter ago
// and no message was lost. Otherwise every check reads the backing store, so
// a store outage fails closed (ErrStoreUnavailable) instead of serving a
// possibly revoked credential, and when the stream comes back every cache is
// purged (subscribers receive "*"). Revocations made through any CachedStore
// are published before the write returns; other nodes drop the entry when
// the message arrives (about a millisecond later).
//
// Sessions are not cached: they pass straight to the backing store.
type CachedStore struct {
	Store // the backing store

	opt  CacheOptions
	node string // this node's heartbeat id
	// start is the monotonic origin of the nanosecond clock below.
	start time.Time

	revs *lru.Cache[revKey, revEntry]
	// gen changes on every invalidation: a fill that read the backing store
	// before a change arrived must not store what it read.
	gen atomic.Uint64

	// lastBeat is when (mono ns) this node last received its own heartbeat;
	// 0: never, or reset. beatSeq is the last sequence number sent, gotSeq
	// the last received.
	lastBeat atomic.Int64
	beatSeq  atomic.Uint64
	gotSeq   atomic.Uint64
	// wasFresh: the stream has been fresh before, so subscribers may hold
	// entries that a gap made stale.
	wasFresh atomic.Bool

	mu       sync.RWMutex // held (read) while dispatching, (write) by stop
	handlers map[string]map[*busHandler]struct{}
	closed   atomic.Bool
	started  bool
	stopSub  func()
	stopBeat chan struct{}
	beatDone chan struct{}
}

type busHandler struct{ fn func(msg string) }

// revKey names one revocation entry: a jti ('j'), sid ('s') or subject's
// not-before ('n') within a tenant.
type revKey struct {
	tenantID string
	kind     byte
	id       string
}

type revEntry struct {
	revoked bool
	nbfMS   int64 // not-before in unix ms; 0: none
	at      int64 // mono ns when read
	// until is when the backing store forgets the entry (mono ns; 0: it
	// holds nothing, or never forgets): the cache must not remember longer.
	until int64
}

// revExpiry says when the backing store forgets each revocation entry it
// found (zero time: not found, or never).
type revExpiry struct{ jti, sid, nbf time.Time }

// expiringChecker is a Store that can say when what Check found expires.
// With a Store that cannot, a CachedStore caches only what was not found.
type expiringChecker interface {
	checkExpiring(ctx context.Context, q RevocationQuery) (RevocationState, revExpiry, error)
}

var _ Store = (*CachedStore)(nil)

// NewCachedStore returns a CachedStore over inner. Call Start before use:
// until the stream is up every check reads inner.
func NewCachedStore(inner Store, opt CacheOptions) *CachedStore {
	opt.defaults()
	revs, _ := lru.New[revKey, revEntry](opt.Size)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &CachedStore{
		Store:    inner,
		opt:      opt,
		node:     hex.EncodeToString(b),
		start:    time.Now(),
		revs:     revs,
		handlers: map[string]map[*busHandler]struct{}{},
	}
}

// Inner returns the backing store.
func (s *CachedStore) Inner() Store { return s.Store }

func (s *CachedStore) mono() int64 { return int64(time.Since(s.start)) }

// Start subscribes to the bus and starts the heartbeat. It returns once the
// subscription is active (the first heartbeat may still be on its way).
func (s *CachedStore) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return nil
	}
	s.started = true
	s.mu.Unlock()
	var stop func()
	var err error
	if rs, ok := s.Store.(resetSubscriber); ok {
		stop, err = rs.SubscribeWithReset(ctx, BusChannel, s.receive, s.reset)
	} else {
		stop, err = s.Store.Subscribe(ctx, BusChannel, s.receive)
	}
	if err != nil {
		return fmt.Errorf("subscribe to the invalidation bus: %w", err)
	}
	s.stopSub = stop
	s.stopBeat = make(chan struct{})
	s.beatDone = make(chan struct{})
	go s.heartbeat()
	return nil
}

// heartbeat publishes a numbered heartbeat to this node every interval.
func (s *CachedStore) heartbeat() {
	defer close(s.beatDone)
	t := time.NewTicker(s.opt.Heartbeat)
	defer t.Stop()
	for {
		s.beat()
		select {
		case <-s.stopBeat:
			return
		case <-t.C:
		}
	}
}

func (s *CachedStore) beat() {
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.StaleAfter)
	defer cancel()
	seq := s.beatSeq.Add(1)
	// A failed publish means the store is unreachable: stop trusting every
	// cache now rather than after StaleAfter. The next heartbeat that comes
	// back purges them.
	if err := s.Store.Publish(ctx, BusChannel, heartbeatChannel+busSep+s.node+":"+strconv.FormatUint(seq, 10)); err != nil {
		s.reset()
	}
}

// Fresh reports whether invalidation messages are arriving: this node's own
// heartbeat came back through the backing store less than StaleAfter ago.
// Caches fed by the bus must read through while it is false.
func (s *CachedStore) Fresh() bool {
	last := s.lastBeat.Load()
	return last != 0 && !s.closed.Load() && s.mono()-last < int64(s.opt.StaleAfter)
}

// receive handles one bus message, in order.
func (s *CachedStore) receive(raw string) {
	channel, msg, ok := strings.Cut(raw, busSep)
	if !ok {
		return
	}
	switch channel {
	case heartbeatChannel:
		s.gotHeartbeat(msg)
	case revocationsChannel:
		s.dropRevocation(msg)
	default:
		s.dispatch(channel, msg)
	}
}

func (s *CachedStore) gotHeartbeat(msg string) {
	node, seqText, _ := strings.Cut(msg, ":")
	if node != s.node {
		return
	}
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		return
	}
	prev := s.gotSeq.Swap(seq)
	now := s.mono()
	last := s.lastBeat.Load()
	// A gap in our own sequence means a message was lost, and so may a
	// reconnect (last == 0) or a very long lag: every cache starts over
	// before being trusted again. A shorter lag delivered everything, in
	// order, while the caches were bypassed (see PurgeAfter).
	if prev != 0 && seq != prev+1 || last == 0 || now-last >= int64(s.opt.PurgeAfter) {
		if s.wasFresh.Load() {
			s.purge()
		} else {
			// Nothing was trusted yet: subscribers cache nothing while the
			// stream is not fresh.
			s.gen.Add(1)
			s.revs.Purge()
		}
	}
	s.wasFresh.Store(true)
	s.lastBeat.Store(now)
}

// reset is called by the backing store after its subscription reconnected:
// messages may have been lost, so nothing cached is trusted until the next
// heartbeat, which purges every cache.
func (s *CachedStore) reset() {
	s.lastBeat.Store(0)
	s.gen.Add(1)
}

// purge drops every cached entry here and tells every subscriber to do the
// same ("*").
func (s *CachedStore) purge() {
	s.gen.Add(1)
	s.revs.Purge()
	s.dispatch("", "*")
}

// dispatch calls the handlers of channel ("" : every channel) with msg.
func (s *CachedStore) dispatch(channel, msg string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if channel == "" {
		for _, hs := range s.handlers {
			for h := range hs {
				h.fn(msg)
			}
		}
		return
	}
	for h := range s.handlers[channel] {
		h.fn(msg)
	}
}

// Publish implements Store: msg travels on the bus, in order with every
// other invalidation and heartbeat.
func (s *CachedStore) Publish(ctx context.Context, channel, msg string) error {
	if channel == "" || strings.Contains(channel, busSep) || strings.HasPrefix(channel, "\x00") {
		return errEmptyID
	}
	return s.Store.Publish(ctx, BusChannel, channel+busSep+msg)
}

// Subscribe implements Store: fn is called for messages published on
// channel through any CachedStore over the same backing store, and with "*"
// whenever the stream had a gap (purge everything).
func (s *CachedStore) Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error) {
	if channel == "" || strings.Contains(channel, busSep) || strings.HasPrefix(channel, "\x00") {
		return nil, errEmptyID
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, errStoreClosed
	}
	h := &busHandler{fn: fn}
	s.mu.Lock()
	if s.handlers[channel] == nil {
		s.handlers[channel] = map[*busHandler]struct{}{}
	}
	s.handlers[channel][h] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.handlers[channel], h)
			s.mu.Unlock()
		})
	}, nil
}

// Check implements Store: from the cache while the stream is fresh, else
// (and for whatever is not cached) with one read of the backing store.
func (s *CachedStore) Check(ctx context.Context, q RevocationQuery) (RevocationState, error) {
	if err := checkTenant(q.TenantID); err != nil {
		return RevocationState{}, err
	}
	if !s.Fresh() {
		return s.Store.Check(ctx, q)
	}
	now := s.mono()
	var st RevocationState
	if s.cached(q, now, &st) {
		return st, nil
	}
	gen := s.gen.Load()
	var ex revExpiry
	var err error
	ec, known := s.Store.(expiringChecker)
	if known {
		st, ex, err = ec.checkExpiring(ctx, q)
	} else {
		st, err = s.Store.Check(ctx, q)
	}
	if err != nil {
		return st, err
	}
	if s.gen.Load() != gen || !s.Fresh() {
		return st, nil
	}
	// until converts a store expiry to this clock; found entries whose
	// expiry is unknown are not cached.
	until := func(found bool, t time.Time) (int64, bool) {
		switch {
		case !found:
			return 0, true
		case !known:
			return 0, false
		case t.IsZero():
			return 0, true
		}
		return now + int64(time.Until(t)), true
	}
	if q.JTI != "" {
		if u, ok := until(st.JTIRevoked, ex.jti); ok {
			s.revs.Add(revKey{q.TenantID, 'j', q.JTI}, revEntry{revoked: st.JTIRevoked, at: now, until: u})
		}
	}
	if q.SID != "" {
		if u, ok := until(st.SIDRevoked, ex.sid); ok {
			s.revs.Add(revKey{q.TenantID, 's', q.SID}, revEntry{revoked: st.SIDRevoked, at: now, until: u})
		}
	}
	if q.Subject != "" {
		if u, ok := until(!st.NotBefore.IsZero(), ex.nbf); ok {
			e := revEntry{at: now, until: u}
			if !st.NotBefore.IsZero() {
				e.nbfMS = st.NotBefore.UnixMilli()
			}
			s.revs.Add(revKey{q.TenantID, 'n', q.Subject}, e)
		}
	}
	return st, nil
}

// usable reports whether e may answer at now.
func (s *CachedStore) usable(e revEntry, now int64) bool {
	return now-e.at < int64(s.opt.TTL) && (e.until == 0 || now < e.until)
}

// cached fills st from the cache and reports whether every part of q was
// there and young enough.
func (s *CachedStore) cached(q RevocationQuery, now int64, st *RevocationState) bool {
	if q.JTI != "" {
		e, ok := s.revs.Get(revKey{q.TenantID, 'j', q.JTI})
		if !ok || !s.usable(e, now) {
			return false
		}
		st.JTIRevoked = e.revoked
	}
	if q.SID != "" {
		e, ok := s.revs.Get(revKey{q.TenantID, 's', q.SID})
		if !ok || !s.usable(e, now) {
			return false
		}
		st.SIDRevoked = e.revoked
	}
	if q.Subject != "" {
		e, ok := s.revs.Get(revKey{q.TenantID, 'n', q.Subject})
		if !ok || !s.usable(e, now) {
			return false
		}
		if e.nbfMS != 0 {
			st.NotBefore = time.UnixMilli(e.nbfMS)
		}
	}
	return true
}

// RevokeJTI implements Store, and tells every node before returning.
func (s *CachedStore) RevokeJTI(ctx context.Context, tenantID, jti string, until time.Time) error {
	if err := s.Store.RevokeJTI(ctx, tenantID, jti, until); err != nil {
		return err
	}
	return s.changed(ctx, revKey{tenantID, 'j', jti})
}

// RevokeSID implements Store, and tells every node before returning.
func (s *CachedStore) RevokeSID(ctx context.Context, tenantID, sid string, until time.Time) error {
	if err := s.Store.RevokeSID(ctx, tenantID, sid, until); err != nil {
		return err
	}
	return s.changed(ctx, revKey{tenantID, 's', sid})
}

// SetNotBefore implements Store, and tells every node before returning.
func (s *CachedStore) SetNotBefore(ctx context.Context, tenantID, subject string, t time.Time, ttl time.Duration) error {
	if err := s.Store.SetNotBefore(ctx, tenantID, subject, t, ttl); err != nil {
		return err
	}
	return s.changed(ctx, revKey{tenantID, 'n', subject})
}

// errNotAnnounced is returned when a revocation was stored but the message
// telling the other nodes could not be sent: the caller sees a failure (and
// retries), rather than a success other nodes may not honour for up to
// StaleAfter.
var errNotAnnounced = errors.New("revocation stored but not announced to other nodes")

// changed drops k here and publishes it to every node. The publish outlives
// the caller's cancellation: the revocation is already stored.
func (s *CachedStore) changed(ctx context.Context, k revKey) error {
	s.gen.Add(1)
	s.revs.Remove(k)
	msg := revocationsChannel + busSep + string(k.kind) + busSep + k.tenantID + busSep + k.id
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	var err error
	for range 2 {
		if err = s.Store.Publish(pctx, BusChannel, msg); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %w: %w", ErrStoreUnavailable, errNotAnnounced, err)
}

// dropRevocation handles a revocation message from any node (this one too).
func (s *CachedStore) dropRevocation(msg string) {
	parts := strings.SplitN(msg, busSep, 3)
	if len(parts) != 3 || len(parts[0]) != 1 {
		s.purge()
		return
	}
	s.gen.Add(1)
	s.revs.Remove(revKey{parts[1], parts[0][0], parts[2]})
}

// Close implements Store: it stops the heartbeat and the subscription, then
// closes the backing store.
func (s *CachedStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.stopBeat != nil {
		close(s.stopBeat)
		<-s.beatDone
	}
	if s.stopSub != nil {
		s.stopSub()
	}
	s.revs.Purge()
	return s.Store.Close()
}
