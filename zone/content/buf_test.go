package content

import (
	"runtime"
	"testing"
)

// A large buffer comes back after garbage collections, which empty a
// sync.Pool, and fits a slightly larger request of the same kind.
func TestLargeBuffersOutliveGC(t *testing.T) {
	b := getBuf(1<<20 + 100)
	first := &(*b)[0]
	putBuf(b)
	runtime.GC()
	runtime.GC()
	c := getBuf(1<<20 + 10000)
	defer putBuf(c)
	if &(*c)[0] != first || len(*c) != 1<<20+10000 {
		t.Fatal("a large buffer was not reused after garbage collection")
	}
}

// Small buffers are not rounded up to the large size (a 10 KiB write must
// not zero a quarter of a megabyte) and stay out of the large stack.
func TestSmallBuffersStaySmall(t *testing.T) {
	b := getBuf(10 << 10)
	if cap(*b) >= largeMin {
		t.Fatalf("a 10 KiB buffer has a capacity of %d", cap(*b))
	}
	putBuf(b)
}
