package zone

import (
	"os"

	"golang.org/x/sys/unix"
)

// probeLen is the size of a typical file xattr: 28 fixed bytes, a 16-byte
// key name and a 72-byte EDEK (FORMAT.md "File metadata").
const probeLen = 28 + 16 + 72

// XattrFitsInInode reports whether the file system holding dir keeps a zone
// file's xattr inside the file's inode, by setting one on a scratch file in
// dir. Where it does not (ext4 with its default 256-byte inodes), every
// zone file takes one more block, and cold listings and removals of many
// small zone files cost one more disk read each (README "Performance
// notes"; mkfs.ext4 -I 512 or XFS keep it in the inode).
func XattrFitsInInode(dir string) (bool, error) {
	f, err := os.CreateTemp(dir, ".ezfs-probe-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), XattrFile, make([]byte, probeLen), 0); err != nil {
		return false, &os.PathError{Op: "setxattr", Path: f.Name(), Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return st.Blocks == 0, nil
}
