package reencrypt

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

// metaBuf is large enough for any FileMeta (28 + 64 + 255 bytes).
const metaBuf = 512

// errChanged says a file's xattr changed between the walk's read and its write.
var errChanged = errors.New("xattr changed during the walk")

// readMeta returns the XattrFile value of path without following a symlink. ENODATA (no
// value) and ENOTSUP/EPERM (a symlink or special file) come back as errors for the caller
// to classify.
func readMeta(path string) ([]byte, error) {
	buf := make([]byte, metaBuf)
	for {
		n, err := unix.Lgetxattr(path, zone.XattrFile, buf)
		if err == nil {
			return buf[:n], nil
		}
		if err != unix.ERANGE {
			return nil, err
		}
		if n, err = unix.Lgetxattr(path, zone.XattrFile, nil); err != nil {
			return nil, err
		}
		buf = make([]byte, n)
	}
}

// replaceMeta sets path's XattrFile from old to new with one setxattr(XATTR_REPLACE), on the
// same open file as the check that the value is still old, so a concurrent rename over path
// or rewrite of the value cannot be clobbered (errChanged). The file's data are untouched.
func replaceMeta(path string, old, new []byte) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err == unix.ELOOP {
		return errChanged // replaced by a symlink
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	buf := make([]byte, metaBuf)
	n, err := unix.Fgetxattr(fd, zone.XattrFile, buf)
	if err == unix.ENODATA || err == unix.ERANGE || (err == nil && !bytes.Equal(buf[:n], old)) {
		return errChanged
	}
	if err != nil {
		return err
	}
	return unix.Fsetxattr(fd, zone.XattrFile, new, unix.XATTR_REPLACE)
}

// gone reports whether err means the file no longer exists (deleted during the walk).
func gone(err error) bool { return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) }

// noMeta reports whether err means the entry carries no ezfs xattr (not a zone file yet, a
// symlink or a special file).
func noMeta(err error) bool {
	return errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM)
}
