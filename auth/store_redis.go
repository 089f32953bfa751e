package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// errCorrupt is returned when a stored value cannot be decoded. It is not
// ErrStoreUnavailable (retrying will not help), but callers still fail closed.
var errCorrupt = errors.New("auth: corrupt value in session store")

// setNotBeforeScript raises the not-before in KEYS[1] to ARGV[1] (unix ms)
// and its TTL to ARGV[2] (ms), never lowering either, in one atomic step so
// that two concurrent logouts cannot undo each other.
const setNotBeforeScript = `
local v = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if cur and cur > v then v = cur end
local px = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > px then px = ttl end
redis.call('SET', KEYS[1], string.format('%d', v), 'PX', px)
return 1
`

// RedisStore is a Store in Redis, shared by every node. Each tenant's keys
// carry the tenant id in a hash tag, {prefix}:{tenantID}:…, so that they share
// one Redis Cluster slot and Check's MGET is a single-slot command.
type RedisStore struct {
	c      redis.UniversalClient
	prefix string
	setNBF *redis.Script

	mu     sync.Mutex
	closed bool
	subs   map[*redisSub]struct{}
}

// NewRedisStore returns a RedisStore using c, with every key and channel
// name under prefix ("gh" when empty). c belongs to the caller: Close does
// not close it.
//
// NewRedisStore panics if prefix contains a brace, which would move the hash
// tag and split a tenant's keys across cluster slots.
func NewRedisStore(c redis.UniversalClient, prefix string) *RedisStore {
	if prefix == "" {
		prefix = "gh"
	}
	if strings.ContainsAny(prefix, "{}") {
		panic("auth.NewRedisStore: prefix must not contain a brace")
	}
	return &RedisStore{
		c:      c,
		prefix: prefix,
		setNBF: redis.NewScript(setNotBeforeScript),
		subs:   make(map[*redisSub]struct{}),
	}
}

// Prefix returns the key prefix of the store.
func (s *RedisStore) Prefix() string { return s.prefix }

// key returns the key of id of the given kind in tenantID, which the caller
// has checked.
func (s *RedisStore) key(tenantID, kind, id string) string {
	return s.prefix + ":{" + tenantID + "}:" + kind + ":" + id
}

// unavailable wraps a Redis error. The cause is kept with %w as well, so
// that callers can still tell a cancelled request (context.Canceled) from an
// outage.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

func (s *RedisStore) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Check implements Store with one MGET of the keys q names.
func (s *RedisStore) Check(ctx context.Context, q RevocationQuery) (RevocationState, error) {
	if err := checkTenant(q.TenantID); err != nil {
		return RevocationState{}, err
	}
	if s.isClosed() {
		return RevocationState{}, errStoreClosed
	}
	keys := make([]string, 0, 3)
	jti, sid, nbf := -1, -1, -1
	if q.JTI != "" {
		jti = len(keys)
		keys = append(keys, s.key(q.TenantID, "rev:jti", q.JTI))
	}
	if q.SID != "" {
		sid = len(keys)
		keys = append(keys, s.key(q.TenantID, "rev:sid", q.SID))
	}
	if q.Subject != "" {
		nbf = len(keys)
		keys = append(keys, s.key(q.TenantID, "nbf", q.Subject))
	}
	if len(keys) == 0 {
		return RevocationState{}, nil
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return RevocationState{}, unavailable(err)
	}
	if len(vals) != len(keys) {
		return RevocationState{}, unavailable(fmt.Errorf("mget: %d values for %d keys", len(vals), len(keys)))
	}
	var st RevocationState
	st.JTIRevoked = jti >= 0 && vals[jti] != nil
	st.SIDRevoked = sid >= 0 && vals[sid] != nil
	if nbf >= 0 && vals[nbf] != nil {
		v, ok := vals[nbf].(string)
		if !ok {
			return RevocationState{}, errCorrupt
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return RevocationState{}, errCorrupt
		}
		st.NotBefore = time.UnixMilli(ms)
	}
	return st, nil
}

// checkExpiring is Check, and also when each entry found will be forgotten
// (zero: none found), so that a CachedStore never outlives it: one pipeline
// of the MGET and a PTTL per key, still one round trip.
func (s *RedisStore) checkExpiring(ctx context.Context, q RevocationQuery) (RevocationState, revExpiry, error) {
	if err := checkTenant(q.TenantID); err != nil {
		return RevocationState{}, revExpiry{}, err
	}
	if s.isClosed() {
		return RevocationState{}, revExpiry{}, errStoreClosed
	}
	keys := []string{"", "", ""}
	if q.JTI != "" {
		keys[0] = s.key(q.TenantID, "rev:jti", q.JTI)
	}
	if q.SID != "" {
		keys[1] = s.key(q.TenantID, "rev:sid", q.SID)
	}
	if q.Subject != "" {
		keys[2] = s.key(q.TenantID, "nbf", q.Subject)
	}
	pipe := s.c.Pipeline()
	var gets [3]*redis.StringCmd
	var ttls [3]*redis.DurationCmd
	for i, k := range keys {
		if k != "" {
			gets[i] = pipe.Get(ctx, k)
			ttls[i] = pipe.PTTL(ctx, k)
		}
	}
	start := time.Now()
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return RevocationState{}, revExpiry{}, unavailable(err)
	}
	var st RevocationState
	var ex revExpiry
	found := func(i int) (string, time.Time, bool, error) {
		if gets[i] == nil {
			return "", time.Time{}, false, nil
		}
		v, err := gets[i].Result()
		if errors.Is(err, redis.Nil) {
			return "", time.Time{}, false, nil
		}
		if err != nil {
			return "", time.Time{}, false, unavailable(err)
		}
		// A key without a TTL (-1) is never forgotten; one that vanished
		// between the two commands (-2) is treated as expiring now.
		var until time.Time
		if d, err := ttls[i].Result(); err == nil && d != -1 {
			until = start.Add(max(d, 0))
		}
		return v, until, true, nil
	}
	_, until, ok, err := found(0)
	if err != nil {
		return RevocationState{}, revExpiry{}, err
	}
	st.JTIRevoked, ex.jti = ok, until
	if _, until, ok, err = found(1); err != nil {
		return RevocationState{}, revExpiry{}, err
	}
	st.SIDRevoked, ex.sid = ok, until
	if v, until, ok, err := found(2); err != nil {
		return RevocationState{}, revExpiry{}, err
	} else if ok {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return RevocationState{}, revExpiry{}, errCorrupt
		}
		st.NotBefore, ex.nbf = time.UnixMilli(ms), until
	}
	return st, ex, nil
}

// RevokeJTI implements Store.
func (s *RedisStore) RevokeJTI(ctx context.Context, tenantID, jti string, until time.Time) error {
	return s.revoke(ctx, tenantID, "rev:jti", jti, until)
}

// RevokeSID implements Store.
func (s *RedisStore) RevokeSID(ctx context.Context, tenantID, sid string, until time.Time) error {
	return s.revoke(ctx, tenantID, "rev:sid", sid, until)
}

func (s *RedisStore) revoke(ctx context.Context, tenantID, kind, id string, until time.Time) error {
	if err := checkTenant(tenantID); err != nil {
		return err
	}
	if id == "" {
		return errEmptyID
	}
	if s.isClosed() {
		return errStoreClosed
	}
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil
	}
	if err := s.c.Set(ctx, s.key(tenantID, kind, id), "1", ceilMillis(ttl)).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// ceilMillis rounds d up to a whole millisecond, Redis's TTL precision, so
// that an entry is never forgotten before it should be.
func ceilMillis(d time.Duration) time.Duration {
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// SetNotBefore implements Store. The value is t in unix milliseconds.
func (s *RedisStore) SetNotBefore(ctx context.Context, tenantID, subject string, t time.Time, ttl time.Duration) error {
	if err := checkTenant(tenantID); err != nil {
		return err
	}
	if subject == "" {
		return errEmptyID
	}
	if ttl <= 0 {
		return errBadTTL
	}
	if s.isClosed() {
		return errStoreClosed
	}
	key := s.key(tenantID, "nbf", subject)
	if err := s.setNBF.Run(ctx, s.c, []string{key}, t.UnixMilli(), ceilMillis(ttl).Milliseconds()).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// sessionJSON is the stored form of a SessionRecord. It has its own field
// names so that renaming a Go field does not strand sessions already stored.
type sessionJSON struct {
	TenantID  string    `json:"tid"`
	Subject   string    `json:"sub,omitempty"`
	JTI       string    `json:"jti,omitempty"`
	SID       string    `json:"sid,omitempty"`
	Data      []byte    `json:"data,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PutSession implements Store.
func (s *RedisStore) PutSession(ctx context.Context, id string, rec SessionRecord) error {
	if err := checkTenant(rec.TenantID); err != nil {
		return err
	}
	if id == "" {
		return errEmptyID
	}
	if s.isClosed() {
		return errStoreClosed
	}
	ttl := time.Until(rec.ExpiresAt)
	if ttl <= 0 {
		return errSessionExpired
	}
	b, err := json.Marshal(sessionJSON(rec))
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	if err := s.c.Set(ctx, s.key(rec.TenantID, "sess", id), b, ceilMillis(ttl)).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// GetSession implements Store.
func (s *RedisStore) GetSession(ctx context.Context, tenantID, id string) (SessionRecord, error) {
	if err := checkTenant(tenantID); err != nil {
		return SessionRecord{}, err
	}
	if s.isClosed() {
		return SessionRecord{}, errStoreClosed
	}
	b, err := s.c.Get(ctx, s.key(tenantID, "sess", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return SessionRecord{}, ErrSessionNotFound
	}
	if err != nil {
		return SessionRecord{}, unavailable(err)
	}
	var j sessionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return SessionRecord{}, errCorrupt
	}
	rec := SessionRecord(j)
	// The key already scopes by tenant; checking the record as well means a
	// key written under the wrong tenant still cannot be read across.
	// Redis expires keys with millisecond precision, so ExpiresAt is checked
	// too for parity with MemoryStore.
	if rec.TenantID != tenantID || !time.Now().Before(rec.ExpiresAt) {
		return SessionRecord{}, ErrSessionNotFound
	}
	return rec, nil
}

// getSessionScript reads a session (KEYS[1]) and, from the jti, sid and
// subject inside it, the revocation keys under the tenant's key prefix
// (ARGV[1]), so a cookie request costs one round trip. The revocation keys
// share KEYS[1]'s hash tag, hence its cluster slot.
const getSessionScript = `
local v = redis.call('GET', KEYS[1])
if not v then return {} end
local ok, r = pcall(cjson.decode, v)
if not ok then return {v, '', '', ''} end
local function get(kind, id)
  if type(id) ~= 'string' or id == '' then return '' end
  return redis.call('GET', ARGV[1] .. kind .. ':' .. id) or ''
end
return {v, get('rev:jti', r['jti']), get('rev:sid', r['sid']), get('nbf', r['sub'])}
`

var getSessionChecked = redis.NewScript(getSessionScript)

// GetSessionChecked implements Store with one script call.
func (s *RedisStore) GetSessionChecked(ctx context.Context, tenantID, id string) (SessionRecord, RevocationState, error) {
	if err := checkTenant(tenantID); err != nil {
		return SessionRecord{}, RevocationState{}, err
	}
	if s.isClosed() {
		return SessionRecord{}, RevocationState{}, errStoreClosed
	}
	prefix := s.prefix + ":{" + tenantID + "}:"
	res, err := getSessionChecked.Run(ctx, s.c, []string{s.key(tenantID, "sess", id)}, prefix).StringSlice()
	if err != nil {
		return SessionRecord{}, RevocationState{}, unavailable(err)
	}
	if len(res) == 0 {
		return SessionRecord{}, RevocationState{}, ErrSessionNotFound
	}
	if len(res) != 4 {
		return SessionRecord{}, RevocationState{}, errCorrupt
	}
	var j sessionJSON
	if err := json.Unmarshal([]byte(res[0]), &j); err != nil {
		return SessionRecord{}, RevocationState{}, errCorrupt
	}
	rec := SessionRecord(j)
	if rec.TenantID != tenantID || !time.Now().Before(rec.ExpiresAt) {
		return SessionRecord{}, RevocationState{}, ErrSessionNotFound
	}
	st := RevocationState{JTIRevoked: res[1] != "", SIDRevoked: res[2] != ""}
	if res[3] != "" {
		ms, err := strconv.ParseInt(res[3], 10, 64)
		if err != nil {
			return SessionRecord{}, RevocationState{}, errCorrupt
		}
		st.NotBefore = time.UnixMilli(ms)
	}
	return rec, st, nil
}

// DeleteSession implements Store.
func (s *RedisStore) DeleteSession(ctx context.Context, tenantID, id string) error {
	if err := checkTenant(tenantID); err != nil {
		return err
	}
	if s.isClosed() {
		return errStoreClosed
	}
	if err := s.c.Del(ctx, s.key(tenantID, "sess", id)).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// channel returns the Redis channel name for channel.
func (s *RedisStore) channel(channel string) string {
	return s.prefix + ":" + channel
}

// Publish implements Store with PUBLISH, which reaches every node's
// subscribers (in a Cluster, on every shard).
func (s *RedisStore) Publish(ctx context.Context, channel, msg string) error {
	if channel == "" {
		return errEmptyID
	}
	if s.isClosed() {
		return errStoreClosed
	}
	if err := s.c.Publish(ctx, s.channel(channel), msg).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// busDropAfter is how long go-redis waits for room in a subscription's
// channel before it drops a message (its default, stated here because
// CacheOptions.PurgeAfter must stay below it).
const busDropAfter = time.Minute

// redisSub is one Subscribe call.
type redisSub struct {
	ps       *redis.PubSub
	done     chan struct{} // closed by stop
	exited   chan struct{} // closed when the goroutine has returned
	stopOnce sync.Once
}

func (sub *redisSub) stop() {
	sub.stopOnce.Do(func() {
		close(sub.done)
		// Close ends go-redis's reader and closes ps.Channel(); the error
		// only says it was already closed.
		_ = sub.ps.Close()
	})
	<-sub.exited
}

// Subscribe implements Store with a plain SUBSCRIBE on a dedicated
// connection. go-redis health-checks that connection and resubscribes after a
// reconnect, so the subscription survives a Redis restart or failover;
// messages published while it is down are lost, as with any Redis pub/sub.
func (s *RedisStore) Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error) {
	return s.SubscribeWithReset(ctx, channel, fn, nil)
}

// SubscribeWithReset is Subscribe, and calls reset (when not nil) each time
// the subscription came back after its connection dropped: messages
// published in between were lost, so a cache fed by them must start over.
// reset runs on the subscription's goroutine, in order with fn.
func (s *RedisStore) SubscribeWithReset(ctx context.Context, channel string, fn func(msg string), reset func()) (stop func(), err error) {
	if channel == "" {
		return nil, errEmptyID
	}
	if s.isClosed() {
		return nil, errStoreClosed
	}
	ps := s.c.Subscribe(ctx, s.channel(channel))
	// The first reply is the server's confirmation; waiting for it is what
	// makes a Publish right after Subscribe returns reach fn.
	reply, err := ps.Receive(ctx)
	if err != nil {
		_ = ps.Close()
		return nil, unavailable(err)
	}
	if _, ok := reply.(*redis.Subscription); !ok {
		_ = ps.Close()
		return nil, unavailable(fmt.Errorf("subscribe: unexpected reply %T", reply))
	}

	sub := &redisSub{ps: ps, done: make(chan struct{}), exited: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ps.Close()
		return nil, errStoreClosed
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()

	// Subscription confirmations after the first (consumed above) mean
	// go-redis reconnected and subscribed again.
	msgs := ps.ChannelWithSubscriptions(redis.WithChannelSendTimeout(busDropAfter))
	go func() {
		defer close(sub.exited)
		for {
			select {
			case <-sub.done:
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *redis.Message:
					fn(m.Payload)
				case *redis.Subscription:
					if reset != nil && m.Kind == "subscribe" {
						reset()
					}
				}
			}
		}
	}()

	return func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
		sub.stop()
	}, nil
}

// Ping implements Store.
func (s *RedisStore) Ping(ctx context.Context) error {
	if s.isClosed() {
		return errStoreClosed
	}
	if err := s.c.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Close implements Store: it stops every subscription made through s. It does
// not close the client, which belongs to the caller and may be shared.
func (s *RedisStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	subs := make([]*redisSub, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	clear(s.subs)
	s.mu.Unlock()
	for _, sub := range subs {
		sub.stop()
	}
	return nil
}
