// Package fs serves an ezfs volume through FUSE: files outside encryption zones pass
// through unchanged, files in zones are encrypted chunk by chunk (zone/content).
//
// # Layout
//
// root.go holds the shared state and [New]; node*.go the go-fuse node methods split by
// operation group; file*.go the open-file handles; errno.go the one place where errors
// become errno values.
//
// # Backing paths
//
// Every backing path is resolved relative to the backing root's directory descriptor
// (see at.go), so the backing root may be renamed and long paths work.
//
// # Locks
//
// POSIX and BSD locks are left to the kernel (the mount does not negotiate FUSE lock
// support): the kernel then arbitrates them among all users of the mount, which is
// exactly what ext4 would do. Locks are not visible to programs that open the backing
// tree directly.
package fs
