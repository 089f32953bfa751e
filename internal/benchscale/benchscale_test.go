package benchscale

import (
	"slices"
	"testing"
)

func TestTenantCounts(t *testing.T) {
	t.Setenv("GATEHOUSE_BENCH_TENANTS", "")
	if got := TenantCounts(t); !slices.Equal(got, DefaultTenants) {
		t.Errorf("unset: %v, want %v", got, DefaultTenants)
	}
	t.Setenv("GATEHOUSE_BENCH_TENANTS", " 10, 1000,,")
	if got := TenantCounts(t); !slices.Equal(got, []int{10, 1000}) {
		t.Errorf("\" 10, 1000,,\": %v, want [10 1000]", got)
	}
}
