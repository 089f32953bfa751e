package auth

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// janitorInterval is how often a MemoryStore drops expired entries. Reads
// already ignore them; the janitor only bounds memory.
const janitorInterval = time.Minute

// subscriberBuffer is how many messages may wait for one slow subscriber
// before Publish blocks on it.
const subscriberBuffer = 256

// MemoryStore is a Store kept in this process. It is for a single node only:
// revocations and sessions are not shared, and Publish reaches only this
// process's subscribers.
type MemoryStore struct {
	mu       sync.Mutex
	closed   bool
	jtis     map[scopedKey]time.Time // revoked until
	sids     map[scopedKey]time.Time // revoked until
	nbfs     map[scopedKey]memoryNotBefore
	sessions map[scopedKey]SessionRecord
	subs     map[string]map[*memorySub]struct{} // by channel

	stopJanitor chan struct{}
	janitorDone chan struct{}
}

// scopedKey is an id within one tenant.
type scopedKey struct{ tenantID, id string }

type memoryNotBefore struct {
	t       time.Time // millisecond precision, as in Redis
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore with a background janitor
// goroutine that removes expired entries; Close stops it.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{
		jtis:        make(map[scopedKey]time.Time),
		sids:        make(map[scopedKey]time.Time),
		nbfs:        make(map[scopedKey]memoryNotBefore),
		sessions:    make(map[scopedKey]SessionRecord),
		subs:        make(map[string]map[*memorySub]struct{}),
		stopJanitor: make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	go s.janitor()
	return s
}

func (s *MemoryStore) janitor() {
	defer close(s.janitorDone)
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopJanitor:
			return
		case now := <-t.C:
			s.sweep(now)
		}
	}
}

// sweep removes every entry expired at now.
func (s *MemoryStore) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, until := range s.jtis {
		if !now.Before(until) {
			delete(s.jtis, k)
		}
	}
	for k, until := range s.sids {
		if !now.Before(until) {
			delete(s.sids, k)
		}
	}
	for k, nbf := range s.nbfs {
		if !now.Before(nbf.expires) {
			delete(s.nbfs, k)
		}
	}
	for k, rec := range s.sessions {
		if !now.Before(rec.ExpiresAt) {
			delete(s.sessions, k)
		}
	}
}

// Check implements Store.
func (s *MemoryStore) Check(ctx context.Context, q RevocationQuery) (RevocationState, error) {
	if err := checkTenant(q.TenantID); err != nil {
		return RevocationState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return RevocationState{}, errStoreClosed
	}
	now := time.Now()
	var st RevocationState
	if q.JTI != "" {
		until, ok := s.jtis[scopedKey{q.TenantID, q.JTI}]
		st.JTIRevoked = ok && now.Before(until)
	}
	if q.SID != "" {
		until, ok := s.sids[scopedKey{q.TenantID, q.SID}]
		st.SIDRevoked = ok && now.Before(until)
	}
	if q.Subject != "" {
		if nbf, ok := s.nbfs[scopedKey{q.TenantID, q.Subject}]; ok && now.Before(nbf.expires) {
			st.NotBefore = nbf.t
		}
	}
	return st, nil
}

// checkExpiring is Check, and also when each entry found will be forgotten
// (zero: none found), so that a CachedStore never outlives it.
func (s *MemoryStore) checkExpiring(ctx context.Context, q RevocationQuery) (RevocationState, revExpiry, error) {
	st, err := s.Check(ctx, q)
	if err != nil {
		return st, revExpiry{}, err
	}
	var ex revExpiry
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.JTIRevoked {
		ex.jti = s.jtis[scopedKey{q.TenantID, q.JTI}]
	}
	if st.SIDRevoked {
		ex.sid = s.sids[scopedKey{q.TenantID, q.SID}]
	}
	if !st.NotBefore.IsZero() {
		ex.nbf = s.nbfs[scopedKey{q.TenantID, q.Subject}].expires
	}
	return st, ex, nil
}

// RevokeJTI implements Store.
func (s *MemoryStore) RevokeJTI(ctx context.Context, tenantID, jti string, until time.Time) error {
	return s.revoke(s.jtis, tenantID, jti, until)
}

// RevokeSID implements Store.
func (s *MemoryStore) RevokeSID(ctx context.Context, tenantID, sid string, until time.Time) error {
	return s.revoke(s.sids, tenantID, sid, until)
}

func (s *MemoryStore) revoke(m map[scopedKey]time.Time, tenantID, id string, until time.Time) error {
	if err := checkTenant(tenantID); err != nil {
		return err
	}
	if id == "" {
		return errEmptyID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	if !time.Now().Before(until) {
		return nil
	}
	m[scopedKey{tenantID, id}] = until
	return nil
}

// SetNotBefore implements Store.
func (s *MemoryStore) SetNotBefore(ctx context.Context, tenantID, subject string, t time.Time, ttl time.Duration) error {
	if err := checkTenant(tenantID); err != nil {
		return err
	}
	if subject == "" {
		return errEmptyID
	}
	if ttl <= 0 {
		return errBadTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	now := time.Now()
	next := memoryNotBefore{t: time.UnixMilli(t.UnixMilli()), expires: now.Add(ttl)}
	k := scopedKey{tenantID, subject}
	if cur, ok := s.nbfs[k]; ok && now.Before(cur.expires) {
		if cur.t.After(next.t) {
			next.t = cur.t
		}
		if cur.expires.After(next.expires) {
			next.expires = cur.expires
		}
	}
	s.nbfs[k] = next
	return nil
}

// PutSession implements Store.
func (s *MemoryStore) PutSession(ctx context.Context, id string, rec SessionRecord) error {
	if err := checkTenant(rec.TenantID); err != nil {
		return err
	}
	if id == "" {
		return errEmptyID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	if !time.Now().Before(rec.ExpiresAt) {
		return errSessionExpired
	}
	s.sessions[scopedKey{rec.TenantID, id}] = cloneSession(rec)
	return nil
}

// GetSession implements Store.
func (s *MemoryStore) GetSession(ctx context.Context, tenantID, id string) (SessionRecord, error) {
	if err := checkTenant(tenantID); err != nil {
		return SessionRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return SessionRecord{}, errStoreClosed
	}
	rec, ok := s.sessions[scopedKey{tenantID, id}]
	if !ok || rec.TenantID != tenantID || !time.Now().Before(rec.ExpiresAt) {
		return SessionRecord{}, ErrSessionNotFound
	}
	return cloneSession(rec), nil
}

// GetSessionChecked implements Store.
func (s *MemoryStore) GetSessionChecked(ctx context.Context, tenantID, id string) (SessionRecord, RevocationState, error) {
	rec, err := s.GetSession(ctx, tenantID, id)
	if err != nil {
		return SessionRecord{}, RevocationState{}, err
	}
	st, err := s.Check(ctx, RevocationQuery{TenantID: tenantID, JTI: rec.JTI, SID: rec.SID, Subject: rec.Subject})
	return rec, st, err
}

// DeleteSession implements Store.
func (s *MemoryStore) DeleteSession(ctx context.Context, tenantID, id string) error {
	if err := checkTenant(tenantID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	delete(s.sessions, scopedKey{tenantID, id})
	return nil
}

// cloneSession copies rec so that neither the caller nor the store sees the
// other's later changes to Data, and normalises it the way a JSON round trip
// through Redis does: no monotonic clock reading, nil for empty Data.
func cloneSession(rec SessionRecord) SessionRecord {
	if len(rec.Data) == 0 {
		rec.Data = nil
	} else {
		rec.Data = bytes.Clone(rec.Data)
	}
	rec.CreatedAt = rec.CreatedAt.Round(0)
	rec.ExpiresAt = rec.ExpiresAt.Round(0)
	return rec
}

// memorySub is one Subscribe call: a queue drained by its own goroutine, so
// that a slow fn delays only its own messages.
type memorySub struct {
	queue    chan string
	done     chan struct{} // closed by stop
	exited   chan struct{} // closed when the goroutine has returned
	stopOnce sync.Once
}

// Publish implements Store. It blocks while a subscriber's queue is full, so
// that no invalidation message is dropped, until ctx ends.
func (s *MemoryStore) Publish(ctx context.Context, channel, msg string) error {
	if channel == "" {
		return errEmptyID
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errStoreClosed
	}
	subs := make([]*memorySub, 0, len(s.subs[channel]))
	for sub := range s.subs[channel] {
		subs = append(subs, sub)
	}
	s.mu.Unlock()

	for _, sub := range subs {
		select {
		case sub.queue <- msg:
		case <-sub.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Subscribe implements Store.
func (s *MemoryStore) Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error) {
	if channel == "" {
		return nil, errEmptyID
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sub := &memorySub{
		queue:  make(chan string, subscriberBuffer),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errStoreClosed
	}
	if s.subs[channel] == nil {
		s.subs[channel] = make(map[*memorySub]struct{})
	}
	s.subs[channel][sub] = struct{}{}
	s.mu.Unlock()

	go func() {
		defer close(sub.exited)
		for {
			select {
			case <-sub.done:
				return
			case msg := <-sub.queue:
				fn(msg)
			}
		}
	}()

	stop = func() {
		sub.stopOnce.Do(func() {
			s.mu.Lock()
			delete(s.subs[channel], sub)
			if len(s.subs[channel]) == 0 {
				delete(s.subs, channel)
			}
			s.mu.Unlock()
			close(sub.done)
		})
		<-sub.exited
	}
	return stop, nil
}

// Ping implements Store. A MemoryStore is reachable until it is closed.
func (s *MemoryStore) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	return nil
}

// Close implements Store: it stops the janitor and every subscription.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var subs []*memorySub
	for _, set := range s.subs {
		for sub := range set {
			subs = append(subs, sub)
		}
	}
	s.subs = make(map[string]map[*memorySub]struct{})
	s.mu.Unlock()

	close(s.stopJanitor)
	<-s.janitorDone
	for _, sub := range subs {
		sub.stopOnce.Do(func() { close(sub.done) })
		<-sub.exited
	}
	return nil
}
