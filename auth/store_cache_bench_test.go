package auth

import (
	"os"
	"testing"
)

// BenchmarkCheckCached measures Check through a CachedStore whose stream is
// fresh: after the first call every part of the query is a cache hit, so
// memory and Redis cost the same and no round trip is made.
func BenchmarkCheckCached(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchmarkCheck(b, newTestCachedStore(b, newTestMemoryStore(b), CacheOptions{}))
	})
	b.Run("redis", func(b *testing.B) {
		if os.Getenv(redisURLEnv) == "" {
			b.Skipf("$%s not set", redisURLEnv)
		}
		benchmarkCheck(b, newTestCachedStore(b, newTestRedisStore(b), CacheOptions{}))
	})
}
