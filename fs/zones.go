package fs

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

// zoneRef is the zone a directory belongs to.
type zoneRef struct {
	marker   zone.Marker
	dir      *node     // the zone root
	none     bool      // not in any zone
	lost     *lostZone // a registered zone whose marker is gone: everything in it is refused
	prefetch bool      // listings read the files' xattrs ahead (Root.spills)
}

// lostZone is a registered zone whose backing directory has lost its marker
// (DECISIONS.md "Format and crypto"): its files are refused, never served raw, and
// nothing new is created in it, so no plaintext lands where a zone should be.
type lostZone struct {
	rec    zone.Record
	warned atomic.Bool
}

// errLostZone refuses an operation inside a lost zone.
var errLostZone = errors.New("registered zone has lost its marker")

// noZone is the cached answer for directories outside every zone.
var noZone = &zoneRef{none: true}

// errNoMeta says a file in a zone has no ezfs xattr: it is refused, never served raw.
var errNoMeta = errors.New("zone file has no " + zone.XattrFile + " xattr")

// zoneOf returns the nearest enclosing zone of directory n (noZone outside zones).
// Inside a lost zone it returns an error wrapping errLostZone (and warns once per zone).
func (n *node) zoneOf() (*zoneRef, error) {
	z, err := n.cachedZone()
	if err == nil && z.lost != nil {
		return nil, n.root.refuseLost(z.lost)
	}
	return z, err
}

// cachedZone returns n's zone, looking it up once per directory inode.
func (n *node) cachedZone() (*zoneRef, error) {
	if z := n.dirZone.Load(); z != nil {
		return z, nil
	}
	z, err := n.findZone()
	if err == nil {
		n.dirZone.Store(z)
	}
	return z, err
}

// findZone looks up the nearest enclosing zone of directory n: its own marker, a
// registered zone whose marker is gone, or its parent's zone.
func (n *node) findZone() (*zoneRef, error) {
	rel := n.rel()
	m, err := n.root.marker(rel)
	switch {
	case err != nil:
		return nil, err
	case m != nil:
		return &zoneRef{marker: *m, dir: n, prefetch: n.root.spills(m.Key)}, nil
	case n.root.lost[rel] != nil:
		return &zoneRef{dir: n, lost: n.root.lost[rel]}, nil
	}
	if _, parent := n.Parent(); parent != nil {
		return parent.Operations().(*node).cachedZone()
	}
	return noZone, nil
}

// refuseLost warns once about lost zone l and returns the error that refuses it.
func (r *Root) refuseLost(l *lostZone) error {
	if !l.warned.Swap(true) {
		r.log.Warn("refusing access to a registered zone whose marker is gone", "zone", l.rec.Path, "key", l.rec.Key)
	}
	return fmt.Errorf("zone %s: %w", l.rec.Path, errLostZone)
}

// findLost returns the registered zones whose backing directory exists but has no
// marker, by backing-relative path, and reports each at mount.
func (r *Root) findLost(zones []zone.Record) map[string]*lostZone {
	lost := map[string]*lostZone{}
	for _, z := range zones {
		m, err := r.marker(z.Path)
		if err == nil && m == nil {
			r.log.Warn("registered zone has lost its marker; its files are refused", "zone", z.Path, "key", z.Key)
			lost[z.Path] = &lostZone{rec: z}
		}
	}
	return lost
}

// forgetZone drops n's cached zone, after a zone was created on it.
func (n *node) forgetZone() { n.dirZone.Store(nil) }

// marker reads the zone marker of a backing directory; nil if it has none.
func (r *Root) marker(rel string) (*zone.Marker, error) {
	b, err := r.getxattr(rel, zone.XattrZone)
	if err != nil || b == nil {
		return nil, err
	}
	m, err := zone.ParseMarker(b)
	if err != nil {
		return nil, fmt.Errorf("zone marker of %s: %w", rel, err)
	}
	return &m, nil
}

// encOf reads the encryption state of a regular backing file in directory dir:
// nil for a plain file outside zones.
func (n *node) encOf(rel string) *encState {
	b, err := n.root.getxattr(rel, zone.XattrFile)
	if err != nil {
		return &encState{err: fmt.Errorf("read %s of %s: %w", zone.XattrFile, rel, err)}
	}
	if b != nil {
		meta, err := zone.ParseFileMeta(b)
		if err != nil {
			return &encState{err: fmt.Errorf("%s of %s: %w", zone.XattrFile, rel, err)}
		}
		return &encState{meta: meta}
	}
	if z, err := n.zoneOf(); err != nil || !z.none {
		return &encState{err: errNoMeta}
	}
	return nil
}

// getxattr reads a whole backing xattr without following a final symlink; nil, nil
// when it is absent.
func (r *Root) getxattr(rel, attr string) ([]byte, error) {
	var out []byte
	err := r.withAt(rel, func(dirfd int, name string) (err error) {
		p := procPath(dirfd, name)
		out, err = xattrOf(func(buf []byte) (int, error) { return unix.Lgetxattr(p, attr, buf) })
		return err
	})
	return out, err
}

// xattrOf reads a whole xattr through get, growing the buffer on ERANGE; nil, nil
// when it is absent.
func xattrOf(get func(buf []byte) (int, error)) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		sz, err := get(buf)
		switch {
		case err == unix.ENODATA:
			return nil, nil
		case err == unix.ERANGE:
			buf = make([]byte, 2*len(buf))
		case err != nil:
			return nil, err
		default:
			return buf[:sz], nil
		}
	}
}

// Marker reads the zone marker of backing-relative directory rel; nil if it has none.
func (r *Root) Marker(rel string) (*zone.Marker, error) { return r.marker(rel) }

// forgetZone drops the cached zone of backing-relative directory rel, after a marker
// was set on it (zone create). Only rel's own cache can be stale: a new zone's
// directory is empty.
func (r *Root) forgetZone(rel string) {
	in := r.node.EmbeddedInode()
	for name := range strings.SplitSeq(rel, "/") {
		if in = in.GetChild(name); in == nil {
			return
		}
	}
	in.Operations().(*node).forgetZone()
}

// MakeZone makes the empty backing directory rel a zone with marker m. The
// emptiness check and the marker are one step for the mount: no entry is added
// anywhere in it in between, so no plaintext file can slip into a new zone
// (zone create). It fails with an error wrapping zone.ErrNotEmpty when rel has
// entries, and with EEXIST when it already has a marker.
func (r *Root) MakeZone(rel string, m zone.Marker) error {
	r.zoneMu.Lock()
	defer r.zoneMu.Unlock()
	err := r.withAt(rel, func(dirfd int, name string) error {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := checkEmpty(fd); err != nil {
			return err
		}
		return unix.Fsetxattr(fd, zone.XattrZone, m.Encode(), unix.XATTR_CREATE)
	})
	if err != nil {
		return fmt.Errorf("make %s a zone: %w", rel, err)
	}
	r.forgetZone(rel)
	return nil
}

// UnmakeZone removes the marker that MakeZone set on rel (when registering the
// zone failed). Files created in it meanwhile keep their xattrs and stay encrypted.
func (r *Root) UnmakeZone(rel string) error {
	r.zoneMu.Lock()
	defer r.zoneMu.Unlock()
	err := r.withAt(rel, func(dirfd int, name string) error {
		return unix.Lremovexattr(procPath(dirfd, name), zone.XattrZone)
	})
	r.forgetZone(rel)
	return err
}

// checkEmpty fails with an error wrapping zone.ErrNotEmpty unless directory fd has
// no entries but . and ..
func checkEmpty(fd int) error {
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil || n <= 0 {
			return err
		}
		if _, count, _ := unix.ParseDirent(buf[:n], 1, nil); count > 0 {
			return zone.ErrNotEmpty
		}
	}
}
