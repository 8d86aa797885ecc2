package fs

import (
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

const (
	// prefetchMax is how many entries of one zone directory a listing warms.
	prefetchMax = 4096
	// prefetchInFlight bounds the backing reads that listings keep in flight
	// across the whole mount.
	prefetchInFlight = 16
)

// prefetchSlots is the semaphore of prefetchInFlight.
var prefetchSlots = make(chan struct{}, prefetchInFlight)

// prefetch reads, in the background, the ezfs xattr of every regular file in
// the zone directory open as dir (and closes dir). A listing (ls -l, du,
// find, rm -r) looks its entries up one at a time right behind, and then
// finds each backing inode and xattr in the backing file system's caches.
// Only zones whose xattrs spill out of the inode are prefetched (spills):
// there the xattr sits in a block of its own, one more disk read per file
// when cold, and issued many at a time those reads cost about a third of
// what they cost one by one. Where the xattr is in the inode, the lookup
// reads it with the inode, and a prefetch only doubles the work of every
// listing (BENCHMARKS.md).
func (r *Root) prefetch(dir *os.File) {
	go func() {
		defer dir.Close()
		ents, _ := dir.ReadDir(prefetchMax)
		fd := int(dir.Fd())
		var wg sync.WaitGroup
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			prefetchSlots <- struct{}{}
			wg.Go(func() {
				defer func() { <-prefetchSlots }()
				unix.Lgetxattr(procPath(fd, e.Name()), zone.XattrFile, nil)
				r.prefetched.Add(1)
			})
		}
		wg.Wait()
	}()
}

// spills reports whether the xattrs of new files under zone key name leave
// the inode on the backing file system (zone.XattrFitsInInode, probed in the
// volume's own directory once per key name). Without a volume directory to
// probe in, or when the probe fails, it says yes, and listings prefetch.
func (r *Root) spills(name string) bool {
	r.spillMu.Lock()
	defer r.spillMu.Unlock()
	if v, ok := r.spill[name]; ok {
		return v
	}
	v := true
	if r.opts.HiddenName != "" {
		dir := filepath.Join(r.opts.Backing, r.opts.HiddenName)
		fits, err := zone.XattrFitsInInode(dir, zone.MetaLen(r.opts.Suite, name))
		v = err != nil || !fits
	}
	r.spill[name] = v
	return v
}

// SpillingKeys returns the keys of the volume's zones (Options.Zones) whose files'
// xattrs leave the inode, so that the mount can say so in its log.
func (r *Root) SpillingKeys() []string {
	var out []string
	for _, z := range r.opts.Zones {
		if !slices.Contains(out, z.Key) && r.spills(z.Key) {
			out = append(out, z.Key)
		}
	}
	return out
}
