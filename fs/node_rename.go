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
// may move anywhere outside zones. A move inside a zone is reported around the
// syscall (Options.BeginMove).
func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	n.root.activity()
	dst, ok := newParent.(*node)
	if !ok || n.hidden(name) || dst.hidden(newName) {
		return syscall.EPERM
	}
	n.root.zoneMu.RLock()
	defer n.root.zoneMu.RUnlock()
	mv, err := n.checkRename(name, dst, newName, flags)
	if err != nil {
		return toErrno(err)
	}
	srcRel, dstRel := n.childRel(name), dst.childRel(newName)
	endDst, endSrc := n.root.beginMove(mv.to), noEnd
	if flags&unix.RENAME_EXCHANGE != 0 {
		endSrc = n.root.beginMove(mv.from)
	}
	defer func() { endDst(okRel(err, dstRel)); endSrc(okRel(err, srcRel)) }()
	err = n.root.withAt(srcRel, func(fd1 int, name1 string) error {
		return n.root.withAt(dstRel, func(fd2 int, name2 string) error {
			return unix.Renameat2(fd1, name1, fd2, name2, uint(flags))
		})
	})
	if err != nil {
		return toErrno(err)
	}
	if mv.own != nil && n.root.opts.ZoneMoved != nil {
		n.root.opts.ZoneMoved(mv.own.ID, dstRel)
	}
	return 0
}

// noEnd is the end of a move nobody needs to hear about.
func noEnd(string) {}

// beginMove tells the BeginMove hook that an entry is about to land in zone z (nil:
// outside zones, nothing to report) and returns the function that ends the report.
func (r *Root) beginMove(z *zone.Marker) (end func(rel string)) {
	if z == nil || r.opts.BeginMove == nil {
		return noEnd
	}
	return r.opts.BeginMove(z.ID)
}

// okRel is what a move's end hears: the new path, or "" when the syscall failed.
func okRel(err error, rel string) string {
	if err != nil {
		return ""
	}
	return rel
}

// renameZones are the zones around a rename: of the source and destination
// directories (nil outside zones), and of the moved entry itself when it is a zone root.
type renameZones struct {
	from, to, own *zone.Marker
}

// checkRename applies the zone rules to a rename (both ways for RENAME_EXCHANGE).
func (n *node) checkRename(name string, dst *node, newName string, flags uint32) (mv renameZones, err error) {
	if mv.from, err = n.zoneMarker(); err != nil {
		return mv, err
	}
	if mv.to, err = dst.zoneMarker(); err != nil {
		return mv, err
	}
	mv.own, err = n.checkMove(name, mv.from, mv.to)
	if err != nil || flags&unix.RENAME_EXCHANGE == 0 {
		return mv, err
	}
	_, err = dst.checkMove(newName, mv.to, mv.from)
	return mv, err
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

// Link makes a hard link; across a zone boundary it fails with EXDEV. A link made
// inside a zone is reported around the syscall (Options.BeginMove).
func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	n.root.activity()
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
	end := n.root.beginMove(to)
	defer func() { end(okRel(err, newRel)) }()
	st, err := n.link(t.rel(), newRel)
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
