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
