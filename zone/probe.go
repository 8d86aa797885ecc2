package zone

import (
	"os"

	"golang.org/x/sys/unix"
)

// XattrFitsInInode reports whether the file system holding dir keeps a zone
// file's xattr of n bytes (MetaLen) inside the file's inode, by setting one
// on a scratch file in dir. Where it does not, every zone file takes one more
// block, and cold listings and removals of many small zone files cost one
// more disk read each (README "Performance notes"). ext4 with its default
// 256-byte inodes keeps up to 60 bytes there: a format-2 xattr with a key
// name of up to 16 bytes; mkfs.ext4 -I 512 or XFS keep any.
func XattrFitsInInode(dir string, n int) (bool, error) {
	f, err := os.CreateTemp(dir, ".ezfs-probe-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), XattrFile, make([]byte, n), 0); err != nil {
		return false, &os.PathError{Op: "setxattr", Path: f.Name(), Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return st.Blocks == 0, nil
}
