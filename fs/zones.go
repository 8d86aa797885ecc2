package fs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

// zoneRef is the zone a directory belongs to.
type zoneRef struct {
	marker zone.Marker
	dir    *node // the zone root
	none   bool  // not in any zone
}

// noZone is the cached answer for directories outside every zone.
var noZone = &zoneRef{none: true}

// errNoMeta says a file in a zone has no ezfs xattr: it is refused, never served raw.
var errNoMeta = errors.New("zone file has no " + zone.XattrFile + " xattr")

// zoneOf returns the nearest enclosing zone of directory n (noZone outside zones),
// caching the answer per directory inode.
func (n *node) zoneOf() (*zoneRef, error) {
	if z := n.dirZone.Load(); z != nil {
		return z, nil
	}
	m, err := n.root.marker(n.rel())
	if err != nil {
		return nil, err
	}
	z := noZone
	if m != nil {
		z = &zoneRef{marker: *m, dir: n}
	} else if _, parent := n.Parent(); parent != nil {
		if z, err = parent.Operations().(*node).zoneOf(); err != nil {
			return nil, err
		}
	}
	n.dirZone.Store(z)
	return z, nil
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
	err := r.withAt(rel, func(dirfd int, name string) error {
		p := procPath(dirfd, name)
		buf := make([]byte, 256)
		for {
			sz, err := unix.Lgetxattr(p, attr, buf)
			switch {
			case err == unix.ENODATA:
				return nil
			case err == unix.ERANGE:
				buf = make([]byte, 2*len(buf))
				continue
			case err != nil:
				return err
			}
			out = buf[:sz]
			return nil
		}
	})
	return out, err
}

// Marker reads the zone marker of backing-relative directory rel; nil if it has none.
func (r *Root) Marker(rel string) (*zone.Marker, error) { return r.marker(rel) }

// ForgetZone drops the cached zone of backing-relative directory rel, after a marker
// was set on it (zone create). Only rel's own cache can be stale: a new zone's
// directory is empty.
func (r *Root) ForgetZone(rel string) {
	in := r.node.EmbeddedInode()
	for name := range strings.SplitSeq(rel, "/") {
		if in = in.GetChild(name); in == nil {
			return
		}
	}
	in.Operations().(*node).forgetZone()
}
