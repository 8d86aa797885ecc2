package fs

import (
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone/chunk"
)

// statMask is what every stat asks the backing file system for.
const statMask = unix.STATX_BASIC_STATS | unix.STATX_BTIME

// statx stats a backing-relative path without following a final symlink.
func (r *Root) statx(rel string) (*unix.Statx_t, error) {
	var st unix.Statx_t
	err := r.withAt(rel, func(dirfd int, name string) error {
		return unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, statMask, &st)
	})
	return &st, err
}

// fstatx stats an open descriptor.
func fstatx(fd int) (*unix.Statx_t, error) {
	var st unix.Statx_t
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, statMask, &st)
	return &st, err
}

// fillAttr converts a backing stat to FUSE attributes; for an encrypted file the
// size and block count are those of the plaintext (chunk.Layout.PlainSize).
func (n *node) fillAttr(a *fuse.Attr, st *unix.Statx_t) {
	a.Ino = st.Ino
	a.Size = st.Size
	a.Blocks = st.Blocks
	a.Atime, a.Atimensec = uint64(st.Atime.Sec), st.Atime.Nsec
	a.Mtime, a.Mtimensec = uint64(st.Mtime.Sec), st.Mtime.Nsec
	a.Ctime, a.Ctimensec = uint64(st.Ctime.Sec), st.Ctime.Nsec
	a.Mode = uint32(st.Mode)
	a.Nlink = st.Nlink
	a.Uid, a.Gid = st.Uid, st.Gid
	a.Rdev = uint32(unix.Mkdev(st.Rdev_major, st.Rdev_minor))
	a.Blksize = st.Blksize
	if n.enc != nil && n.enc.meta != nil {
		l := chunk.Layout{ChunkSize: n.enc.meta.ChunkSize}
		a.Size = uint64(plainSize(l, int64(st.Size)))
		a.Blocks = st.Blocks * uint64(l.ChunkSize) / uint64(l.ChunkSize+chunk.Overhead)
	}
}

// plainSize is the plaintext size of a backing size; for an impossible size (cut
// mid-tag) it counts the cut chunk's bytes beyond the overhead, so a read there
// reaches the damaged chunk and fails with EIO instead of the file looking shorter.
func plainSize(l chunk.Layout, backing int64) int64 {
	if n, err := l.PlainSize(backing); err == nil {
		return n
	}
	full := int64(l.ChunkSize + chunk.Overhead)
	tail := max(backing%full-chunk.Overhead, 1)
	return backing/full*int64(l.ChunkSize) + tail
}
