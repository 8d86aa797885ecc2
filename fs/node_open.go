package fs

import (
	"context"
	"os"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
)

var (
	_ gofs.NodeOpener  = (*node)(nil)
	_ gofs.NodeCreater = (*node)(nil)
)

// openMask drops the flags the daemon must not pass to the backing open: the kernel
// supplies append offsets itself, and exec is meaningless for the backing file.
const openMask = ^uint32(unix.O_APPEND | fuse.FMODE_EXEC | unix.O_CREAT | unix.O_EXCL)

// Open opens a file: plain files directly, encrypted files through the inode's
// shared content view (O_TRUNC applied to the plaintext).
func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	n.root.activity()
	if n.enc == nil {
		return n.openPlain(flags)
	}
	of, err := n.acquire(ctx)
	if err != nil {
		return nil, 0, toErrno(err)
	}
	f := &zoneFile{n: n, of: of, direct: flags&unix.O_DIRECT != 0}
	if flags&unix.O_TRUNC != 0 {
		if err := of.content.Truncate(0); err != nil {
			f.Release(ctx)
			return nil, 0, toErrno(err)
		}
	}
	return f, zoneOpenFlags, 0
}

// zoneOpenFlags keeps the kernel's page cache of a zone file across opens, so
// re-reading an unchanged file decrypts nothing (issue 3 "Speed"). Every change made
// through the mount passes through the kernel's own cache; a change made to the
// backing tree from outside is seen by the kernel's mtime/size check when the
// attributes expire (go-fuse negotiates AUTO_INVAL_DATA).
const zoneOpenFlags = fuse.FOPEN_KEEP_CACHE

// openPlain opens a file outside zones.
func (n *node) openPlain(flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	var fh gofs.FileHandle
	rel := n.rel()
	err := n.root.withAt(rel, func(dirfd int, name string) error {
		fd, err := unix.Openat(dirfd, name, int(flags&openMask)|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == nil {
			fh = n.root.newPlainFile(fd, rel)
		}
		return err
	})
	return fh, 0, toErrno(err)
}

// Create makes a file with exactly the requested mode. In a zone the file gets a
// fresh DEK and its ezfs xattr before anyone can write to it.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	n.root.activity()
	if n.hidden(name) {
		return nil, nil, 0, syscall.EPERM
	}
	n.root.zoneMu.RLock()
	defer n.root.zoneMu.RUnlock()
	z, err := n.zoneOf()
	if err != nil {
		return nil, nil, 0, toErrno(err)
	}
	create, fl := n.createZone, uint32(zoneOpenFlags)
	if z.none {
		create, fl = n.createPlain, 0
	}
	ch, fh, errno := create(ctx, z, name, flags, mode, out)
	if errno == syscall.EEXIST && flags&unix.O_EXCL == 0 {
		return n.openExisting(ctx, name, flags, out)
	}
	return ch, fh, fl, errno
}

// openExisting serves a CREATE without O_EXCL that raced with another creator.
func (n *node) openExisting(ctx context.Context, name string, flags uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	ch, errno := n.Lookup(ctx, name, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	fh, fl, errno := ch.Operations().(*node).Open(ctx, flags)
	return ch, fh, fl, errno
}

// createPlain creates a file outside zones (z is noZone). It always creates: an
// existing file is opened by Create, never given the caller's owner and mode.
func (n *node) createPlain(ctx context.Context, _ *zoneRef, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, syscall.Errno) {
	var fd int
	rel := n.childRel(name)
	st, err := n.createBacking(ctx, rel, int(flags&^unix.O_APPEND)|unix.O_CREAT|unix.O_EXCL, mode, &fd)
	if err != nil {
		return nil, nil, toErrno(err)
	}
	return n.newChild(ctx, st, nil, out), n.root.newPlainFile(fd, rel), 0
}

// createZone creates an encrypted file in zone z.
func (n *node) createZone(ctx context.Context, z *zoneRef, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, syscall.Errno) {
	meta, dek, err := n.root.newMeta(ctx, z.marker.Key)
	if err != nil {
		n.root.log.Warn("cannot make file key", "zone", z.dir.rel(), "key", z.marker.Key, "err", err)
		return nil, nil, syscall.EIO
	}
	var fd int
	rel := n.childRel(name)
	st, err := n.createBacking(ctx, rel, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, mode, &fd, meta.Encode())
	if err != nil {
		dek.Wipe()
		return nil, nil, toErrno(err)
	}
	ch := n.newChild(ctx, st, &encState{meta: meta}, out)
	child := ch.Operations().(*node)
	f := os.NewFile(uintptr(fd), rel)
	of, err := child.install(ctx, f, dek)
	if err != nil {
		f.Close()
		return nil, nil, toErrno(err)
	}
	return ch, &zoneFile{n: child, of: of, direct: flags&unix.O_DIRECT != 0}, 0
}

// createBacking creates and opens backing file rel, sets the ezfs xattr when given,
// gives it the caller as owner and exactly the mode asked for, and stats it. On failure the new file is removed.
func (n *node) createBacking(ctx context.Context, rel string, flags int, mode uint32, fdOut *int, xattr ...[]byte) (*unix.Statx_t, error) {
	var st *unix.Statx_t
	err := n.root.withAt(rel, func(dirfd int, name string) error {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode&07777)
		if err != nil {
			return err
		}
		if err = setupNew(ctx, n, dirfd, name, fd, xattr); err == nil {
			st, err = fstatx(fd)
		}
		if err == nil {
			err = exactMode(st, mode, func(perm uint32) error { return unix.Fchmod(fd, perm) })
		}
		if err != nil {
			unix.Close(fd)
			unix.Unlinkat(dirfd, name, 0)
			return err
		}
		*fdOut = fd
		return nil
	})
	return st, err
}

// setupNew writes the ezfs xattr (if any) and the owner of a new file.
func setupNew(ctx context.Context, n *node, dirfd int, name string, fd int, xattr [][]byte) error {
	for _, v := range xattr {
		if err := unix.Fsetxattr(fd, zone.XattrFile, v, unix.XATTR_CREATE); err != nil {
			return err
		}
	}
	return n.own(ctx, dirfd, name)
}

// newMeta makes the metadata and DEK of a new file in a zone keyed by keyName, with
// the volume's suite and chunk size.
func (r *Root) newMeta(ctx context.Context, keyName string) (*zone.FileMeta, *keys.Secret, error) {
	return zone.NewFileMeta(ctx, r.opts.Keys, keyName, r.opts.Suite, r.opts.ChunkSize)
}
