package fs

import (
	"context"
	"os"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// own gives a new entry the caller's uid and gid when the daemon runs as root (as
// ext4 would have made it). In a setgid directory the group stays inherited. chown
// clears setuid/setgid bits, so a mode that asked for them is applied again.
func (n *node) own(ctx context.Context, dirfd int, name string, mode uint32) error {
	if os.Geteuid() != 0 {
		return nil
	}
	c, ok := fuse.FromContext(ctx)
	if !ok {
		return nil
	}
	gid := int(c.Gid)
	if n.setgid() {
		gid = -1
	}
	if err := unix.Fchownat(dirfd, name, int(c.Uid), gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if mode&(unix.S_ISUID|unix.S_ISGID) == 0 || mode&unix.S_IFMT == unix.S_IFLNK {
		return nil
	}
	return unix.Fchmodat(dirfd, name, mode&07777, 0)
}

// setgid reports whether directory n has the setgid bit (new entries inherit its group).
func (n *node) setgid() bool {
	st, err := n.root.statx(n.rel())
	return err == nil && st.Mode&unix.S_ISGID != 0
}
