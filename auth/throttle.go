package auth

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a token bucket: Rate tokens per Period, bursts of Burst.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// Throttle limits attempts across nodes (Redis) or in this process (memory).
type Throttle interface {
	// Allow takes a token for key under limit; retryAfter > 0 means refused.
	Allow(ctx context.Context, key string, l Limit) (retryAfter time.Duration, err error)
	// Fail records a failed attempt for key, kept for window, and returns
	// the failures so far in the window and when the last one happened.
	Fail(ctx context.Context, key string, window time.Duration) (n int, last time.Time, err error)
	// Failures returns the failures of key without recording one.
	Failures(ctx context.Context, key string) (n int, last time.Time, err error)
	// Reset forgets key's failures (a successful login).
	Reset(ctx context.Context, key string) error
}

// RedisThrottle is a Throttle shared by every node: GCRA rate limits from
// go-redis/redis_rate, failure counters in a hash.
type RedisThrottle struct {
	c       redis.UniversalClient
	limiter *redis_rate.Limiter
	prefix  string
}

var _ Throttle = (*RedisThrottle)(nil)

// NewRedisThrottle returns a Redis throttle; keys start with prefix.
func NewRedisThrottle(c redis.UniversalClient, prefix string) *RedisThrottle {
	if prefix == "" {
		prefix = "gh"
	}
	return &RedisThrottle{c: c, limiter: redis_rate.NewLimiter(c), prefix: prefix + ":thr:"}
}

// Allow implements Throttle.
func (t *RedisThrottle) Allow(ctx context.Context, key string, l Limit) (time.Duration, error) {
	res, err := t.limiter.Allow(ctx, t.prefix+key, redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period})
	if err != nil {
		return 0, unavailable(err)
	}
	if res.Allowed == 0 {
		return max(res.RetryAfter, time.Second), nil
	}
	return 0, nil
}

var failScript = redis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n`)

// Fail implements Throttle.
func (t *RedisThrottle) Fail(ctx context.Context, key string, window time.Duration) (int, time.Time, error) {
	now := time.Now()
	n, err := failScript.Run(ctx, t.c, []string{t.prefix + "f:" + key}, now.UnixMilli(), window.Milliseconds()).Int()
	if err != nil {
		return 0, time.Time{}, unavailable(err)
	}
	return n, now, nil
}

// Failures implements Throttle.
func (t *RedisThrottle) Failures(ctx context.Context, key string) (int, time.Time, error) {
	vals, err := t.c.HMGet(ctx, t.prefix+"f:"+key, "n", "last").Result()
	if err != nil {
		return 0, time.Time{}, unavailable(err)
	}
	ns, _ := vals[0].(string)
	ls, _ := vals[1].(string)
	n, _ := strconv.Atoi(ns)
	ms, _ := strconv.ParseInt(ls, 10, 64)
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return n, time.UnixMilli(ms), nil
}

// Reset implements Throttle.
func (t *RedisThrottle) Reset(ctx context.Context, key string) error {
	if err := t.c.Del(ctx, t.prefix+"f:"+key).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// MemoryThrottle is a Throttle for one node: token buckets from
// golang.org/x/time/rate and failure counters, both in bounded LRUs.
type MemoryThrottle struct {
	mu       sync.Mutex
	buckets  *lru.Cache[string, *rate.Limiter]
	failures *lru.Cache[string, failures]
}

type failures struct {
	n       int
	last    time.Time
	expires time.Time
}

var _ Throttle = (*MemoryThrottle)(nil)

// NewMemoryThrottle returns an in-process throttle.
func NewMemoryThrottle() *MemoryThrottle {
	b, _ := lru.New[string, *rate.Limiter](100000)
	f, _ := lru.New[string, failures](100000)
	return &MemoryThrottle{buckets: b, failures: f}
}

// Allow implements Throttle.
func (t *MemoryThrottle) Allow(_ context.Context, key string, l Limit) (time.Duration, error) {
	k := fmt.Sprintf("%s|%d|%d|%d", key, l.Rate, l.Burst, l.Period)
	t.mu.Lock()
	lim, ok := t.buckets.Get(k)
	if !ok {
		lim = rate.NewLimiter(rate.Every(l.Period/time.Duration(max(l.Rate, 1))), max(l.Burst, 1))
		t.buckets.Add(k, lim)
	}
	t.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return max(d, time.Second), nil
	}
	return 0, nil
}

// Fail implements Throttle.
func (t *MemoryThrottle) Fail(_ context.Context, key string, window time.Duration) (int, time.Time, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	f, ok := t.failures.Get(key)
	if !ok || now.After(f.expires) {
		f = failures{}
	}
	f.n++
	f.last = now
	f.expires = now.Add(window)
	t.failures.Add(key, f)
	return f.n, f.last, nil
}

// Failures implements Throttle.
func (t *MemoryThrottle) Failures(_ context.Context, key string) (int, time.Time, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.failures.Get(key)
	if !ok || time.Now().After(f.expires) {
		return 0, time.Time{}, nil
	}
	return f.n, f.last, nil
}

// Reset implements Throttle.
func (t *MemoryThrottle) Reset(_ context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures.Remove(key)
	return nil
}
