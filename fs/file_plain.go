package fs

import (
	"context"
	"os"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// plainFile is an open handle of a file outside zones: go-fuse's loopback file,
// served by the daemon unless kernel passthrough was asked for (DECISIONS.md "Speed").
type plainFile struct {
	*gofs.LoopbackFile
	root        *Root
	passthrough bool
}

var (
	_ gofs.FilePassthroughFder = (*plainFile)(nil)
	_ gofs.FileReader          = (*plainFile)(nil)
	_ gofs.FileWriter          = (*plainFile)(nil)
)

// newPlainFile wraps an open backing file; it is closed on Release.
func (r *Root) newPlainFile(fd int, name string) *plainFile {
	return &plainFile{LoopbackFile: gofs.NewLoopbackFileFromOS(os.NewFile(uintptr(fd), name)), root: r, passthrough: r.opts.Passthrough}
}

// Read is the loopback read, noted as foreground I/O (Options.Activity).
func (f *plainFile) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.root.activity()
	return f.LoopbackFile.Read(ctx, buf, off)
}

// Write is the loopback write, noted as foreground I/O (Options.Activity).
func (f *plainFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	f.root.activity()
	return f.LoopbackFile.Write(ctx, data, off)
}

// PassthroughFd offers the backing descriptor to the kernel only when passthrough is on.
func (f *plainFile) PassthroughFd() (int, bool) {
	if !f.passthrough {
		return -1, false
	}
	return f.LoopbackFile.PassthroughFd()
}
