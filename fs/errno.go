package fs

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
)

// toErrno turns any error into the errno the kernel sees. It is the only place in
// ezfs where that happens (STYLE.md "Errors").
func toErrno(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, zone.ErrCrossZone):
		return syscall.EXDEV
	case errors.Is(err, chunk.ErrAuth), errors.Is(err, keys.ErrAuth):
		return syscall.EIO
	case errors.Is(err, keys.ErrKeyNotFound), errors.Is(err, keys.ErrVersionNotFound):
		return syscall.EIO
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	}
	return syscall.EIO
}
