//go:build unix

package keys

import (
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Page locks do not nest and several small secrets share a heap page, so
// locked pages are reference-counted: a page is unlocked when its last
// secret is wiped. Go's heap does not move objects, so addresses are stable.
// mlock(2) rounds to whole pages, so locking a sub-slice locks its page.
var pageLocks struct {
	sync.Mutex
	count map[uintptr]int
}

var pageSize = uintptr(os.Getpagesize())

// pageSlices splits b at page boundaries and calls fn with each page's address and part of b.
func pageSlices(b []byte, fn func(page uintptr, part []byte)) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	for off := uintptr(0); off < uintptr(len(b)); {
		page := (start + off) &^ (pageSize - 1)
		end := min(page+pageSize-start, uintptr(len(b)))
		fn(page, b[off:end])
		off = end
	}
}

func lockPages(b []byte) {
	pageLocks.Lock()
	defer pageLocks.Unlock()
	if pageLocks.count == nil {
		pageLocks.count = make(map[uintptr]int)
	}
	pageSlices(b, func(page uintptr, part []byte) {
		if pageLocks.count[page] == 0 {
			_ = unix.Mlock(part) // best effort: RLIMIT_MEMLOCK may refuse
		}
		pageLocks.count[page]++
	})
}

func unlockPages(b []byte) {
	pageLocks.Lock()
	defer pageLocks.Unlock()
	pageSlices(b, func(page uintptr, part []byte) {
		if pageLocks.count[page]--; pageLocks.count[page] <= 0 {
			delete(pageLocks.count, page)
			_ = unix.Munlock(part)
		}
	})
}

// The key arena: KeyLen-byte slots carved from anonymous pages that are locked
// and kept out of core dumps once, when they are mapped. A zone file's DEK then
// costs no system call to protect (an mlock and an munlock each otherwise), and
// key bytes stay off the garbage-collected heap. Slots are reused and never
// unmapped: the arena is as large as the most keys held at once.
const arenaChunk = 64 << 10

var arena struct {
	sync.Mutex
	free [][]byte
}

// arenaSlot returns a free slot for a key of n bytes, or nil when n is not
// KeyLen or no memory could be mapped.
func arenaSlot(n int) []byte {
	if n != KeyLen {
		return nil
	}
	arena.Lock()
	defer arena.Unlock()
	if len(arena.free) == 0 {
		m, err := unix.Mmap(-1, 0, arenaChunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return nil
		}
		_ = unix.Mlock(m)                       // best effort, as lockPages
		_ = unix.Madvise(m, unix.MADV_DONTDUMP) // the daemon is non-dumpable anyway
		for off := 0; off < len(m); off += KeyLen {
			arena.free = append(arena.free, m[off:off+KeyLen:off+KeyLen])
		}
	}
	b := arena.free[len(arena.free)-1]
	arena.free = arena.free[:len(arena.free)-1]
	return b
}

// freeSlot returns a zeroed slot to the arena.
func freeSlot(b []byte) {
	arena.Lock()
	defer arena.Unlock()
	arena.free = append(arena.free, b)
}
