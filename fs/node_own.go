package fs

import (
	"context"
	"os"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// own gives a new entry the caller's uid and gid when the daemon runs as root (as
// ext4 would have made it). In a setgid directory the group stays inherited. chown
// may clear setuid/setgid bits: exactMode puts them back.
func (n *node) own(ctx context.Context, dirfd int, name string) error {
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
	return unix.Fchownat(dirfd, name, int(c.Uid), gid, unix.AT_SYMLINK_NOFOLLOW)
}

// exactMode gives a new entry, whose stat is st, exactly the permission bits mode
// asked for: the kernel has already applied the caller's umask, but the daemon's
// own umask (which keeps the key store private, cmd/ezfs) strips bits too, and
// chown clears setuid/setgid. Only missing bits are added, with one chmod, so a
// setgid bit that a directory inherited from its parent stays, as on ext4; when
// nothing is missing it costs nothing. Symlinks have no mode of their own.
func exactMode(st *unix.Statx_t, mode uint32, chmod func(perm uint32) error) error {
	have := uint32(st.Mode) & 07777
	want := have | mode&07777
	if want == have || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil
	}
	if err := chmod(want); err != nil {
		return err
	}
	st.Mode = st.Mode&^07777 | uint16(want)
	return nil
}

// setgid reports whether directory n has the setgid bit (new entries inherit its group).
func (n *node) setgid() bool {
	st, err := n.root.statx(n.rel())
	return err == nil && st.Mode&unix.S_ISGID != 0
}
