package fs

import (
	"context"
	"os"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

var (
	_ gofs.NodeLookuper   = (*node)(nil)
	_ gofs.NodeReaddirer  = (*node)(nil)
	_ gofs.NodeMkdirer    = (*node)(nil)
	_ gofs.NodeRmdirer    = (*node)(nil)
	_ gofs.NodeUnlinker   = (*node)(nil)
	_ gofs.NodeSymlinker  = (*node)(nil)
	_ gofs.NodeReadlinker = (*node)(nil)
	_ gofs.NodeMknoder    = (*node)(nil)
)

// hidden reports whether name in directory n is the volume's own directory, which
// the mount neither shows nor lets anyone touch.
func (n *node) hidden(name string) bool {
	return n.root.opts.HiddenName != "" && name == n.root.opts.HiddenName && n.IsRoot()
}

// Lookup finds a child in the backing directory. A regular file's ezfs xattr is read
// here, so an encrypted file is always decrypted wherever it sits.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	n.root.activity()
	if n.hidden(name) {
		return nil, syscall.ENOENT
	}
	if _, err := n.zoneOf(); err != nil {
		return nil, toErrno(err)
	}
	if ch := n.GetChild(name); ch != nil {
		if of := ch.Operations().(*node).openState(); of != nil {
			of.content.Wait() // the size once a write stored in the background landed
		}
	}
	rel := n.childRel(name)
	st, err := n.root.statx(rel)
	if err != nil {
		return nil, toErrno(err)
	}
	var enc *encState
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		var known bool
		if enc, known = n.knownEnc(name, st); !known {
			enc = n.encOf(rel)
		}
	}
	return n.newChild(ctx, st, enc, out), 0
}

// knownEnc returns the encryption state of child name when the tree already holds
// it as the inode st describes. go-fuse keeps that node for the entry anyway (a new
// node with the same identity is dropped), so reading the xattr again would only cost
// a syscall on every lookup after the entry timeout (du, ls -lR, find).
func (n *node) knownEnc(name string, st *unix.Statx_t) (enc *encState, known bool) {
	ch := n.GetChild(name)
	if ch == nil || ch.StableAttr() != n.root.stableAttr(st) {
		return nil, false
	}
	return ch.Operations().(*node).enc, true
}

// Readdir lists the backing directory, without the volume's own directory.
func (n *node) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	n.root.activity()
	z, err := n.zoneOf()
	if err != nil {
		return nil, toErrno(err)
	}
	var fd int
	err = n.root.withAt(n.rel(), func(dirfd int, name string) (err error) {
		const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
		if fd, err = unix.Openat(dirfd, name, flags, 0); err == nil && z.prefetch {
			if pfd, err := unix.Openat(dirfd, name, flags, 0); err == nil {
				n.root.prefetch(os.NewFile(uintptr(pfd), name))
			}
		}
		return err
	})
	if err != nil {
		return nil, toErrno(err)
	}
	ds, errno := gofs.NewLoopbackDirStreamFd(fd)
	if errno != 0 || !n.IsRoot() || n.root.opts.HiddenName == "" {
		return ds, errno
	}
	return &hidingStream{DirStream: ds, name: n.root.opts.HiddenName}, 0
}

// Mkdir creates a directory with exactly the requested mode.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.mkEntry(ctx, name, mode, out, func(dirfd int, cname string) error {
		return unix.Mkdirat(dirfd, cname, mode&07777)
	})
}

// Mknod creates a device, fifo or socket; a regular file in a zone becomes an
// encrypted file like Create makes.
func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if mode&unix.S_IFMT == unix.S_IFREG || mode&unix.S_IFMT == 0 {
		ch, fh, _, errno := n.Create(ctx, name, unix.O_WRONLY|unix.O_EXCL, mode&07777, out)
		if fh != nil {
			fh.(gofs.FileReleaser).Release(ctx)
		}
		return ch, errno
	}
	return n.mkEntry(ctx, name, mode, out, func(dirfd int, cname string) error {
		return unix.Mknodat(dirfd, cname, mode, int(rdev))
	})
}

// Symlink creates a symbolic link; targets are stored as given (not encrypted).
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.mkEntry(ctx, name, unix.S_IFLNK|0o777, out, func(dirfd int, cname string) error {
		return unix.Symlinkat(target, dirfd, cname)
	})
}

// mkEntry runs mk to create name in n, gives it the caller as owner and exactly the
// mode asked for, and returns its new node; the entry is removed again if that fails.
func (n *node) mkEntry(ctx context.Context, name string, mode uint32, out *fuse.EntryOut, mk func(dirfd int, cname string) error) (*gofs.Inode, syscall.Errno) {
	n.root.activity()
	if n.hidden(name) {
		return nil, syscall.EPERM
	}
	n.root.zoneMu.RLock()
	defer n.root.zoneMu.RUnlock()
	if _, err := n.zoneOf(); err != nil {
		return nil, toErrno(err)
	}
	var st *unix.Statx_t
	err := n.root.withAt(n.childRel(name), func(dirfd int, cname string) error {
		if err := mk(dirfd, cname); err != nil {
			return err
		}
		err := n.own(ctx, dirfd, cname)
		if err == nil {
			st, err = statAt(dirfd, cname)
		}
		if err == nil {
			err = exactMode(st, mode, func(perm uint32) error { return unix.Fchmodat(dirfd, cname, perm, 0) })
		}
		if err != nil {
			unix.Unlinkat(dirfd, cname, unlinkFlag(mode))
		}
		return err
	})
	if err != nil {
		return nil, toErrno(err)
	}
	return n.newChild(ctx, st, nil, out), 0
}

// Readlink returns a symlink's target.
func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	n.root.activity()
	var target []byte
	err := n.root.withAt(n.rel(), func(dirfd int, name string) error {
		for size := 256; ; size *= 2 {
			buf := make([]byte, size)
			sz, err := unix.Readlinkat(dirfd, name, buf)
			if err != nil || sz < size {
				target = buf[:max(sz, 0)]
				return err
			}
		}
	})
	return target, toErrno(err)
}

// Rmdir removes an empty directory.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.remove(name, unix.AT_REMOVEDIR)
}

// Unlink removes a file.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.remove(name, 0)
}

// remove unlinks name from n.
func (n *node) remove(name string, flags int) syscall.Errno {
	n.root.activity()
	if n.hidden(name) {
		return syscall.ENOENT
	}
	err := n.root.withAt(n.childRel(name), func(dirfd int, cname string) error {
		return unix.Unlinkat(dirfd, cname, flags)
	})
	return toErrno(err)
}

// statAt stats dirfd/name without following a final symlink.
func statAt(dirfd int, name string) (*unix.Statx_t, error) {
	var st unix.Statx_t
	err := unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, statMask, &st)
	return &st, err
}

// unlinkFlag is the unlinkat flag that removes an entry of the given mode.
func unlinkFlag(mode uint32) int {
	if mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.AT_REMOVEDIR
	}
	return 0
}

// hidingStream drops one name from a directory listing.
type hidingStream struct {
	gofs.DirStream
	name  string
	next  *fuse.DirEntry
	errno syscall.Errno
}

// HasNext skips the hidden entry.
func (s *hidingStream) HasNext() bool {
	for s.next == nil && s.DirStream.HasNext() {
		e, errno := s.DirStream.Next()
		if errno != 0 || e.Name != s.name {
			s.next, s.errno = &e, errno
		}
	}
	return s.next != nil
}

// Next returns the entry HasNext found.
func (s *hidingStream) Next() (fuse.DirEntry, syscall.Errno) {
	if !s.HasNext() {
		return fuse.DirEntry{}, syscall.EIO
	}
	e, errno := *s.next, s.errno
	s.next, s.errno = nil, 0
	return e, errno
}
