package fs

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

// node is one file, directory or symlink of the mount. Directories cache their
// enclosing zone; regular files carry their encryption state, decided when the node
// is created from the backing file's xattr.
type node struct {
	gofs.Inode
	root *Root

	// dirZone caches the nearest enclosing zone of a directory (noZone outside
	// zones); nil means not looked up yet.
	dirZone atomic.Pointer[zoneRef]

	// enc is set for a regular file that is encrypted (it has the ezfs xattr, or
	// sits in a zone and should have one); nil for a plain file.
	enc *encState

	// noCap remembers that the backing file has no security.capability xattr. The
	// mount is the only writer of the backing tree: a capability set through it
	// clears the flag (under capMu, which orders it against a lookup in flight).
	noCap atomic.Bool
	capMu sync.Mutex

	// mu guards open, the shared state of all open handles of an encrypted file.
	mu   sync.Mutex
	open *openFile
}

// encState is what a regular file's ezfs xattr said.
type encState struct {
	meta *zone.FileMeta // nil when err is set
	err  error          // missing or corrupt xattr: every open fails with EIO
}

var (
	_ gofs.NodeGetattrer = (*node)(nil)
	_ gofs.NodeSetattrer = (*node)(nil)
	_ gofs.NodeStatfser  = (*node)(nil)
	_ gofs.NodeFsyncer   = (*node)(nil)
)

// newChild builds the node for a backing entry and links it into the tree.
func (n *node) newChild(ctx context.Context, st *unix.Statx_t, enc *encState, out *fuse.EntryOut) *gofs.Inode {
	child := &node{root: n.root, enc: enc}
	ch := n.NewInode(ctx, child, n.root.stableAttr(st))
	ch.Operations().(*node).fillAttr(&out.Attr, st)
	return ch
}

// Getattr reports the backing file's attributes, with plaintext sizes for zone files.
func (n *node) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.root.activity()
	if f, ok := fh.(gofs.FileGetattrer); ok {
		return f.Getattr(ctx, out)
	}
	if of := n.openState(); of != nil {
		return toErrno(of.getattr(n, &out.Attr))
	}
	st, err := n.root.statx(n.rel())
	if err != nil {
		return toErrno(err)
	}
	n.fillAttr(&out.Attr, st)
	return 0
}

// Fsync syncs a file through its open handle, and a directory by syncing its backing
// directory, so the entries made or renamed in it are durable as on ext4.
func (n *node) Fsync(ctx context.Context, fh gofs.FileHandle, flags uint32) syscall.Errno {
	if f, ok := fh.(gofs.FileFsyncer); ok {
		return f.Fsync(ctx, flags)
	}
	var fd int
	err := n.root.withAt(n.rel(), func(dirfd int, name string) (err error) {
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return toErrno(err)
	}
	defer unix.Close(fd)
	return toErrno(unix.Fsync(fd))
}

// Statfs reports the backing file system.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(n.root.fd, &st); err != nil {
		return toErrno(err)
	}
	out.FromStatfsT(&st)
	return 0
}

// Setattr changes mode, owner, size and times. The size of a zone file changes
// through its content view (re-sealing the last chunk).
func (n *node) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	n.root.activity()
	if f, ok := fh.(gofs.FileSetattrer); ok {
		return f.Setattr(ctx, in, out)
	}
	if of := n.openState(); of != nil {
		of.content.Wait() // a write stored in the background must not land after new times
	}
	if err := n.setattrPath(ctx, in); err != nil {
		return toErrno(err)
	}
	return n.Getattr(ctx, nil, out)
}

// setattrPath applies a SETATTR without an open handle, by backing path.
func (n *node) setattrPath(ctx context.Context, in *fuse.SetAttrIn) error {
	return n.root.withAt(n.rel(), func(dirfd int, name string) error {
		if err := chmodOwn(dirfd, name, in); err != nil {
			return err
		}
		if size, ok := in.GetSize(); ok {
			if err := n.truncate(ctx, dirfd, name, int64(size)); err != nil {
				return err
			}
		}
		return utimes(dirfd, name, in)
	})
}

// truncate sets the size of n without an open handle.
func (n *node) truncate(ctx context.Context, dirfd int, name string, size int64) error {
	if n.enc != nil {
		of, err := n.acquire(ctx)
		if err != nil {
			return err
		}
		defer n.release()
		return of.content.Truncate(size)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Ftruncate(fd, size)
}

// chmodOwn applies the mode and owner parts of a SETATTR by path.
func chmodOwn(dirfd int, name string, in *fuse.SetAttrIn) error {
	if mode, ok := in.GetMode(); ok {
		if err := unix.Fchmodat(dirfd, name, mode&07777, 0); err != nil {
			return err
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if !uok && !gok {
		return nil
	}
	u, g := -1, -1
	if uok {
		u = int(uid)
	}
	if gok {
		g = int(gid)
	}
	return unix.Fchownat(dirfd, name, u, g, unix.AT_SYMLINK_NOFOLLOW)
}

// utimes applies the time parts of a SETATTR by path.
func utimes(dirfd int, name string, in *fuse.SetAttrIn) error {
	ts, ok := setattrTimes(in)
	if !ok {
		return nil
	}
	return unix.UtimesNanoAt(dirfd, name, ts[:], unix.AT_SYMLINK_NOFOLLOW)
}

// setattrTimes turns a SETATTR's times into utimensat arguments (UTIME_OMIT for
// the ones not set); ok is false when neither is set.
func setattrTimes(in *fuse.SetAttrIn) (ts [2]unix.Timespec, ok bool) {
	ts[0] = unix.Timespec{Nsec: unix.UTIME_OMIT}
	ts[1] = ts[0]
	if a, aok := in.GetATime(); aok {
		ts[0], ok = unix.NsecToTimespec(a.UnixNano()), true
	}
	if m, mok := in.GetMTime(); mok {
		ts[1], ok = unix.NsecToTimespec(m.UnixNano()), true
	}
	return ts, ok
}
