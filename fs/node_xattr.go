package fs

import (
	"bytes"
	"context"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

var (
	_ gofs.NodeGetxattrer    = (*node)(nil)
	_ gofs.NodeSetxattrer    = (*node)(nil)
	_ gofs.NodeRemovexattrer = (*node)(nil)
	_ gofs.NodeListxattrer   = (*node)(nil)
)

// ours reports whether an xattr name belongs to ezfs (hidden and read-only).
func ours(attr string) bool { return strings.HasPrefix(attr, zone.XattrPrefix) }

// capAttr is the xattr the kernel asks for before every write to a file (to drop
// file capabilities); its absence is remembered per node (issue 3 "Speed").
const capAttr = "security.capability"

// Getxattr passes user xattrs through; ezfs's own look absent.
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	n.root.activity()
	if ours(attr) {
		return 0, syscall.ENODATA
	}
	if attr == capAttr {
		return n.getCap(dest)
	}
	sz, err := n.getxattr(attr, dest)
	return uint32(max(sz, 0)), toErrno(err)
}

// getCap answers the kernel's security.capability query, from memory once the
// backing file is known to have none. n.capMu orders it against Setxattr.
func (n *node) getCap(dest []byte) (uint32, syscall.Errno) {
	if n.noCap.Load() {
		return 0, syscall.ENODATA
	}
	n.capMu.Lock()
	defer n.capMu.Unlock()
	sz, err := n.getxattr(capAttr, dest)
	if err == unix.ENODATA {
		n.noCap.Store(true)
	}
	return uint32(max(sz, 0)), toErrno(err)
}

// getxattr reads one backing xattr of n into dest.
func (n *node) getxattr(attr string, dest []byte) (sz int, err error) {
	err = n.xattrAt(func(p string) (err error) {
		sz, err = unix.Lgetxattr(p, attr, dest)
		return err
	})
	return sz, err
}

// Setxattr passes user xattrs through; setting one of ezfs's is refused.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	n.root.activity()
	if ours(attr) {
		return syscall.EPERM
	}
	if attr == capAttr {
		n.capMu.Lock()
		defer n.capMu.Unlock()
		n.noCap.Store(false)
	}
	return toErrno(n.xattrAt(func(p string) error { return unix.Lsetxattr(p, attr, data, int(flags)) }))
}

// Removexattr passes user xattrs through; removing one of ezfs's is refused.
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	n.root.activity()
	if ours(attr) {
		return syscall.EPERM
	}
	return toErrno(n.xattrAt(func(p string) error { return unix.Lremovexattr(p, attr) }))
}

// Listxattr lists the backing xattrs without ezfs's own. With an empty dest it
// returns the size needed.
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	n.root.activity()
	list, err := n.listxattr()
	if err != nil {
		return 0, toErrno(err)
	}
	if len(dest) == 0 {
		return uint32(len(list)), 0
	}
	if len(list) > len(dest) {
		return 0, syscall.ERANGE
	}
	return uint32(copy(dest, list)), 0
}

// listxattr returns the NUL-separated list of n's xattrs that are not ezfs's.
func (n *node) listxattr() ([]byte, error) {
	var buf []byte
	err := n.xattrAt(func(p string) error {
		for {
			sz, err := unix.Llistxattr(p, nil)
			if err != nil {
				return err
			}
			buf = make([]byte, sz)
			sz, err = unix.Llistxattr(p, buf)
			if err != unix.ERANGE {
				buf = buf[:max(sz, 0)]
				return err
			}
		}
	})
	var out []byte
	for name := range bytes.SplitSeq(buf, []byte{0}) {
		if len(name) > 0 && !ours(string(name)) {
			out = append(append(out, name...), 0)
		}
	}
	return out, err
}

// xattrAt runs fn with a /proc path naming n's backing entry (xattr calls have no *at form).
func (n *node) xattrAt(fn func(p string) error) error {
	return n.root.withAt(n.rel(), func(dirfd int, name string) error { return fn(procPath(dirfd, name)) })
}
