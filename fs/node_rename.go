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
	if err == nil && own != nil && n.root.opts.ZoneMoved != nil {
		n.root.opts.ZoneMoved(own.ID, dstRel)
	}
	return toErrno(err)
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
	own, err := n.root.marker(n.childRel(name))
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
	st, err := n.link(t.rel(), n.childRel(name))
	if err != nil {
		return nil, toErrno(err)
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
