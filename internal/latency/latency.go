// Package latency records the duration of every call a benchmark times and
// reports percentiles over all of them.
//
// Benchmarks used to keep the first million samples of a run and sort them.
// For decisions over 10,000 tenants that measured the first calls after the
// set-up (which had just loaded 10,000 enforcers and pushed the decision table
// out of the CPU cache), not the run. A Recorder counts every call in a fixed
// histogram instead: no allocation while timing, a few cache lines touched,
// and the median of the whole run.
package latency

import (
	"math/bits"
	"testing"
	"time"
)

// exact is the range recorded to the nanosecond; above it each power of two
// is split in subBuckets (a resolution of 1/64, about 1.6 %).
const (
	exact      = 4096
	subBits    = 6
	subBuckets = 1 << subBits
	firstExp   = 12 // bits.Len64(exact) - 1
)

// Recorder is a histogram of durations. The zero value is ready to use.
type Recorder struct {
	counts [exact + (63-firstExp)*subBuckets]uint64 // int64 nanoseconds: 2^62 at most
	n      uint64
}

// Record counts one duration (negative durations count as zero).
func (r *Recorder) Record(d time.Duration) {
	r.counts[index(max(int64(d), 0))]++
	r.n++
}

// Count is the number of durations recorded.
func (r *Recorder) Count() uint64 { return r.n }

// Quantile returns the q-quantile (0.5: the median) of the recorded durations:
// exact below 4,096 ns, the lower bound of its bucket (within 1.6 %) above.
// It is 0 when nothing was recorded.
func (r *Recorder) Quantile(q float64) time.Duration {
	if r.n == 0 {
		return 0
	}
	rank := uint64(q*float64(r.n-1)) + 1 // 1-based rank of the quantile
	var seen uint64
	for i, c := range r.counts {
		seen += c
		if seen >= rank {
			return time.Duration(lower(i))
		}
	}
	return time.Duration(lower(len(r.counts) - 1))
}

// ReportMedian reports the median of the run as b's "p50-ns" metric.
func (r *Recorder) ReportMedian(b *testing.B) {
	b.ReportMetric(float64(r.Quantile(0.5).Nanoseconds()), "p50-ns")
}

func index(ns int64) int {
	if ns < exact {
		return int(ns)
	}
	e := bits.Len64(uint64(ns)) - 1 // ns in [2^e, 2^(e+1))
	sub := int(ns>>(e-subBits)) & (subBuckets - 1)
	return exact + (e-firstExp)*subBuckets + sub
}

// lower is the smallest duration of bucket i.
func lower(i int) int64 {
	if i < exact {
		return int64(i)
	}
	e := (i-exact)/subBuckets + firstExp
	sub := int64((i - exact) % subBuckets)
	return (subBuckets + sub) << (e - subBits)
}
