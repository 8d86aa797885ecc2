package fs

import (
	"os"

	gofs "github.com/hanwen/go-fuse/v2/fs"
)

// plainFile is an open handle of a file outside zones: go-fuse's loopback file,
// served by the daemon unless kernel passthrough was asked for (DECISIONS.md "Speed").
type plainFile struct {
	*gofs.LoopbackFile
	passthrough bool
}

var _ gofs.FilePassthroughFder = (*plainFile)(nil)

// newPlainFile wraps an open backing file; it is closed on Release.
func (r *Root) newPlainFile(fd int, name string) *plainFile {
	return &plainFile{LoopbackFile: gofs.NewLoopbackFileFromOS(os.NewFile(uintptr(fd), name)), passthrough: r.opts.Passthrough}
}

// PassthroughFd offers the backing descriptor to the kernel only when passthrough is on.
func (f *plainFile) PassthroughFd() (int, bool) {
	if !f.passthrough {
		return -1, false
	}
	return f.LoopbackFile.PassthroughFd()
}
