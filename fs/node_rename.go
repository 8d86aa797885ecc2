package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

var (
	_ gofs.NodeRenamer = (*node)(nil)
	_ gofs.NodeLinker  = (*node)(nil)
)

// Rename moves an entry within the mount. Across a zone boundary it fails with
// EXDEV, so mv copies and the copy is encrypted (DECISIONS.md "Zones"); a zone root
// may move anywhere outside zones.
func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	dst, ok := newParent.(*node)
	if !ok || n.hidden(name) || dst.hidden(newName) {
		return syscall.EPERM
	}
	n.root.zoneMu.RLock()
	defer n.root.zoneMu.RUnlock()
	own, err := n.checkRename(name, dst, newName, flags)
	if err != nil {
		return toErrno(err)
	}
	srcRel, dstRel := n.childRel(name), dst.childRel(newName)
	err = n.root.withAt(srcRel, func(fd1 int, name1 string) error {
		return n.root.withAt(dstRel, func(fd2 int, name2 string) error {
			return unix.Renameat2(fd1, name1, fd2, name2, uint(flags))
		})
	})
	if err != nil {
		return toErrno(err)
	}
	if own != nil && n.root.opts.ZoneMoved != nil {
		n.root.opts.ZoneMoved(own.ID, dstRel)
	}
	if z, _ := dst.zoneMarker(); z != nil {
		n.root.moved(z, dstRel)
		if flags&unix.RENAME_EXCHANGE != 0 {
			n.root.moved(z, srcRel)
		}
	}
	return 0
}

// moved tells the Moved hook that backing path rel in zone z may be a regular file
// that has just been renamed or linked there.
func (r *Root) moved(z *zone.Marker, rel string) {
	if r.opts.Moved == nil {
		return
	}
	if st, err := r.statx(rel); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		r.opts.Moved(z.ID, rel)
	}
}

// checkRename applies the zone rules to a rename (both ways for RENAME_EXCHANGE). It
// returns the moved entry's own marker when it is a zone root.
func (n *node) checkRename(name string, dst *node, newName string, flags uint32) (*zone.Marker, error) {
	from, err := n.zoneMarker()
	if err != nil {
		return nil, err
	}
	to, err := dst.zoneMarker()
	if err != nil {
		return nil, err
	}
	own, err := n.checkMove(name, from, to)
	if err != nil || flags&unix.RENAME_EXCHANGE == 0 {
		return own, err
	}
	_, err = dst.checkMove(newName, to, from)
	return own, err
}

// checkMove applies zone.CheckMove to entry name of n moving to a directory in zone
// to; it returns the entry's own marker when it is a zone root.
func (n *node) checkMove(name string, from, to *zone.Marker) (*zone.Marker, error) {
	rel := n.childRel(name)
	if l := n.root.lost[rel]; l != nil {
		return nil, n.root.refuseLost(l)
	}
	own, err := n.root.marker(rel)
	if err != nil {
		return nil, err
	}
	return own, zone.CheckMove(from, to, own)
}

// zoneMarker returns directory n's nearest enclosing zone marker, nil outside zones.
func (n *node) zoneMarker() (*zone.Marker, error) {
	z, err := n.zoneOf()
	if err != nil || z.none {
		return nil, err
	}
	return &z.marker, nil
}

// Link makes a hard link; across a zone boundary it fails with EXDEV.
func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	t, ok := target.(*node)
	if !ok || n.hidden(name) {
		return nil, syscall.EXDEV
	}
	n.root.zoneMu.RLock()
	defer n.root.zoneMu.RUnlock()
	_, tparent := t.Parent()
	if tparent == nil {
		return nil, syscall.EXDEV
	}
	from, err := tparent.Operations().(*node).zoneMarker()
	if err != nil {
		return nil, toErrno(err)
	}
	to, err := n.zoneMarker()
	if err == nil {
		err = zone.CheckMove(from, to, nil)
	}
	if err != nil {
		return nil, toErrno(err)
	}
	newRel := n.childRel(name)
	st, err := n.link(t.rel(), newRel)
	if err != nil {
		return nil, toErrno(err)
	}
	if to != nil {
		n.root.moved(to, newRel)
	}
	return n.newChild(ctx, st, t.enc, out), 0
}

// link hard-links backing path oldRel to newRel and stats the result.
func (n *node) link(oldRel, newRel string) (*unix.Statx_t, error) {
	var st *unix.Statx_t
	err := n.root.withAt(oldRel, func(fd1 int, name1 string) error {
		return n.root.withAt(newRel, func(fd2 int, name2 string) (err error) {
			if err = unix.Linkat(fd1, name1, fd2, name2, 0); err == nil {
				st, err = statAt(fd2, name2)
			}
			return err
		})
	})
	return st, err
}
