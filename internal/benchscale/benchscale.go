// Package benchscale holds what the scale benchmarks share: the tenant
// counts they run at.
package benchscale

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// DefaultTenants are the tenant counts of the decision targets (10, 1,000 and
// 10,000 tenants).
var DefaultTenants = []int{10, 1000, 10000}

// TenantCounts returns the counts to run at: GATEHOUSE_BENCH_TENANTS
// ("10,1000") when set, else DefaultTenants. A malformed list fails tb.
func TenantCounts(tb testing.TB) []int {
	v := os.Getenv("GATEHOUSE_BENCH_TENANTS")
	if v == "" {
		return DefaultTenants
	}
	var counts []int
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			tb.Fatalf("GATEHOUSE_BENCH_TENANTS=%q: %q is not a tenant count", v, f)
		}
		counts = append(counts, n)
	}
	return counts
}
