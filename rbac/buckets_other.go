//go:build !linux

package rbac

// allocBuckets returns n zeroed buckets from the Go heap.
func allocBuckets(n int) (buckets []decisionBucket, free func()) {
	return make([]decisionBucket, n), nil
}
