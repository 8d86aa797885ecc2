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
// # Zones the registry knows
//
// [Options.Zones] lists the registered zones. One whose directory has lost its marker
// is refused (EIO, one warning per zone): nothing inside is looked up, listed or
// created, so its files are never served raw and no plaintext is written where a
// zone should be. [Root.MakeZone] turns an empty directory into a zone without a
// window in which the mount could add an entry to it.
//
// # Modes
//
// A new entry gets exactly the mode the caller asked for (the kernel applies the
// caller's umask), whatever the daemon's own process umask is: bits that umask or
// chown stripped are put back with one chmod, only when some are missing. The daemon
// can therefore keep a private umask for its own files (the key store).
//
// # Hooks for the daemon
//
// [Options.BeginMove] brackets every rename or link into a zone, so a re-encryption
// walk sees moved entries; [Options.Activity] is called at the start of each
// foreground operation, so background work can yield.
//
// # Speed
//
// Measured with scripts/bench.sh (make bench; figures in BENCHMARKS.md). Zone files keep the
// kernel page cache across opens (FOPEN_KEEP_CACHE); the mount's read-ahead is raised
// to [ReadAhead]; the kernel's security.capability query before each write is answered
// from memory once a file is known to have none; a lookup of a known inode does not
// read the ezfs xattr again; listing a zone directory reads its files' xattrs ahead of
// the lookups, many at a time. A zone write of 128 KiB or more is sealed and stored in
// the background once its data is copied and its backing space reserved (fallocate), so
// the next request travels while it is sealed; everything else on the file waits for it,
// a full disk still fails the write itself, and any other error of the background write
// comes back from the next write, fsync or close. $EZFS_CPUPROFILE=FILE writes a CPU profile of the daemon
// from [New] to [Root.Close].
//
// # Locks
//
// POSIX and BSD locks are left to the kernel (the mount does not negotiate FUSE lock
// support): the kernel then arbitrates them among all users of the mount, which is
// exactly what ext4 would do. Locks are not visible to programs that open the backing
// tree directly.
package fs
