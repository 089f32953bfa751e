package rbac

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on x86-64 and arm64.
const hugePage = 2 << 20

// allocBuckets returns n zeroed buckets. A table of at least one huge page is
// mapped on its own and marked for transparent huge pages (madvise): a hit
// reads one random bucket, and with 4 KiB pages a table of megabytes also
// costs a TLB miss on most lookups. free unmaps it (nil: garbage collected).
func allocBuckets(n int) (buckets []decisionBucket, free func()) {
	size := n * int(unsafe.Sizeof(decisionBucket{}))
	if size < hugePage {
		return make([]decisionBucket, n), nil
	}
	// Over-allocate by one huge page to align the table on one.
	mem, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]decisionBucket, n), nil
	}
	off := 0
	if r := int(uintptr(unsafe.Pointer(&mem[0])) % hugePage); r != 0 {
		off = hugePage - r
	}
	table := mem[off : off+size]
	_ = syscall.Madvise(table, syscall.MADV_HUGEPAGE) // best effort: THP may be off
	return unsafe.Slice((*decisionBucket)(unsafe.Pointer(&table[0])), n), func() { _ = syscall.Munmap(mem) }
}
