package latency

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQuantileExactBelow4us(t *testing.T) {
	var r Recorder
	if got := r.Quantile(0.5); got != 0 {
		t.Fatalf("empty recorder: median %v, want 0", got)
	}
	for _, d := range []time.Duration{300, 100, 200, 5000, 90} {
		r.Record(d)
	}
	if got := r.Quantile(0.5); got != 200 {
		t.Errorf("median of 90,100,200,300,5000 ns = %v, want 200ns", got)
	}
	if got := r.Quantile(0); got != 90 {
		t.Errorf("minimum = %v, want 90ns", got)
	}
	r.Record(-5)
	if got := r.Quantile(0); got != 0 {
		t.Errorf("a negative duration counts as 0, minimum = %v", got)
	}
	if r.Count() != 6 {
		t.Errorf("Count = %d, want 6", r.Count())
	}
}

// TestQuantileMatchesSort: against sorting every sample, the quantiles of a
// wide random spread are within the bucket resolution (1/64).
func TestQuantileMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var r Recorder
	var all []time.Duration
	for range 100000 {
		d := time.Duration(rng.ExpFloat64() * 40000) // mean 40 µs
		r.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99} {
		want := all[int(q*float64(len(all)-1))]
		got := r.Quantile(q)
		if got > want || float64(want-got) > float64(want)/64+1 {
			t.Errorf("q%.2f = %v, sorted samples give %v", q, got, want)
		}
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	for i := 1; i < len(Recorder{}.counts); i++ {
		if lower(i) <= lower(i-1) {
			t.Fatalf("bucket %d starts at %d, not after bucket %d (%d)", i, lower(i), i-1, lower(i-1))
		}
		if index(lower(i)) != i || index(lower(i)-1) != i-1 {
			t.Fatalf("bucket %d: index(%d) = %d, index(%d) = %d", i, lower(i), index(lower(i)), lower(i)-1, index(lower(i)-1))
		}
	}
}
