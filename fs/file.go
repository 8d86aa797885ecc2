package fs

import (
	"context"
	"errors"
	"io"
	"syscall"
	"unsafe"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone/chunk"
	"github.com/ezfs/ezfs/zone/content"
)

// zoneFile is an open handle of an encrypted file. All handles of one inode share
// the inode's openFile.
type zoneFile struct {
	n      *node
	of     *openFile
	direct bool // opened with O_DIRECT: its reads bypass the backing page cache too
}

var (
	_ gofs.FileReader    = (*zoneFile)(nil)
	_ gofs.FileWriter    = (*zoneFile)(nil)
	_ gofs.FileReleaser  = (*zoneFile)(nil)
	_ gofs.FileGetattrer = (*zoneFile)(nil)
	_ gofs.FileSetattrer = (*zoneFile)(nil)
	_ gofs.FileFlusher   = (*zoneFile)(nil)
	_ gofs.FileFsyncer   = (*zoneFile)(nil)
	_ gofs.FileAllocater = (*zoneFile)(nil)
	_ gofs.FileLseeker   = (*zoneFile)(nil)
)

// Read decrypts the chunks under [off, off+len(buf)). A chunk that fails
// authentication gives EIO and one warning naming the file and chunk. The
// reply is written from the buffer the chunks were read and opened in
// (plainReply); buf is not used.
func (f *zoneFile) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.n.root.activity()
	p, err := f.of.content.ReadPlain(off, len(buf), f.direct)
	if err != nil && !errors.Is(err, io.EOF) {
		p.Release()
		f.n.root.warnRead(f.n, off, err)
		return nil, syscall.EIO
	}
	if len(p.Bytes) == 0 { // go-fuse writes an empty reply without calling Done
		p.Release()
		return fuse.ReadResultData(nil), 0
	}
	return plainReply{p}, 0
}

// plainReply is a READ reply of plaintext in a pooled buffer. go-fuse
// writes a result that has a Slices method straight from its slices and
// calls Done after the write, which releases the buffer. (Of a result
// without one it calls Done before the write when splicing is off, as
// it is here: too early to release anything.)
type plainReply struct{ p *content.Plain }

func (r plainReply) Slices() ([][]byte, fuse.Status) { return [][]byte{r.p.Bytes}, fuse.OK }

func (r plainReply) Size() int { return len(r.p.Bytes) }

func (r plainReply) Done() { releaseReply(r.p) }

// Bytes copies the plaintext into buf, for a server that wants one slice
// (and may call Done before writing it).
func (r plainReply) Bytes(buf []byte) ([]byte, fuse.Status) {
	if cap(buf) < len(r.p.Bytes) {
		buf = make([]byte, len(r.p.Bytes))
	}
	return buf[:copy(buf[:cap(buf)], r.p.Bytes)], fuse.OK
}

// releaseReply releases a written reply's plaintext. Tests make it
// overwrite the plaintext first, which a reader would see if go-fuse
// released a reply before writing it.
var releaseReply = (*content.Plain).Release

// writeBehindMin is the request size from which a write is sealed and stored
// in the background (content.File.WriteBehind): the next request of a large
// sequential writer then travels while this one is sealed. Smaller writes
// are done before the reply.
const writeBehindMin = 128 << 10

// Write encrypts data into the chunks it touches.
func (f *zoneFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	f.n.root.activity()
	if f.of.readOnly {
		return 0, syscall.EACCES
	}
	write := f.of.content.WriteAt
	if len(data) >= writeBehindMin {
		write = f.of.content.WriteBehind
	}
	n, err := write(data, off)
	return uint32(n), f.report(off, err)
}

// report turns an error of a write into an errno; a chunk that failed
// authentication while a partial chunk was patched is logged like a read's.
// With writes stored in the background (writeBehindMin), such an error
// comes back from the next write, Flush or Fsync.
func (f *zoneFile) report(off int64, err error) syscall.Errno {
	if errors.Is(err, chunk.ErrAuth) {
		f.n.root.warnRead(f.n, off, err)
	}
	return toErrno(err)
}

// Release drops this handle; the last one closes the inode's backing file.
func (f *zoneFile) Release(ctx context.Context) syscall.Errno {
	f.n.release()
	return 0
}

// Flush, at every close(2) of the file, waits for a write still being stored
// in the background and reports its error.
func (f *zoneFile) Flush(ctx context.Context) syscall.Errno {
	return f.report(-1, f.of.content.Flush())
}

// Fsync syncs the backing file (content.File.Sync orders torn-append writes).
func (f *zoneFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	f.n.root.activity()
	return f.report(-1, f.of.content.Sync())
}

// Getattr reports the backing attributes with the plaintext size.
func (f *zoneFile) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return toErrno(f.of.getattr(f.n, &out.Attr))
}

// Setattr applies mode, owner, size and times through the open backing file.
func (f *zoneFile) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.of.content.Wait()
	if err := fdSetattr(int(f.of.backing.Fd()), in, f.of.content.Truncate); err != nil {
		return toErrno(err)
	}
	return f.Getattr(ctx, out)
}

// Allocate supports mode 0 by growing the file (holes read as zeros; nothing beyond
// the old last chunk is written); other modes are not supported on zone files.
func (f *zoneFile) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if mode != 0 {
		return syscall.EOPNOTSUPP
	}
	cur, err := f.of.content.Size()
	if err != nil {
		return toErrno(err)
	}
	if end := int64(off + size); end > cur {
		return toErrno(f.of.content.Truncate(end))
	}
	return 0
}

// Lseek answers SEEK_DATA and SEEK_HOLE treating the whole file as data.
func (f *zoneFile) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	size, err := f.of.content.Size()
	if err != nil {
		return 0, toErrno(err)
	}
	if int64(off) >= size {
		return 0, syscall.ENXIO
	}
	if whence == unix.SEEK_HOLE {
		return uint64(size), 0
	}
	return off, 0
}

// fdSetattr applies a SETATTR through a descriptor; truncate changes the size.
func fdSetattr(fd int, in *fuse.SetAttrIn, truncate func(int64) error) error {
	if mode, ok := in.GetMode(); ok {
		if err := unix.Fchmod(fd, mode&07777); err != nil {
			return err
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		u, g := -1, -1
		if uok {
			u = int(uid)
		}
		if gok {
			g = int(gid)
		}
		if err := unix.Fchown(fd, u, g); err != nil {
			return err
		}
	}
	if size, ok := in.GetSize(); ok {
		if err := truncate(int64(size)); err != nil {
			return err
		}
	}
	if ts, ok := setattrTimes(in); ok {
		return futimens(fd, &ts)
	}
	return nil
}

// futimens is utimensat(fd, NULL, ts, 0), which x/sys/unix does not wrap.
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// warnRead logs an integrity failure once per failed request: inode, chunk, zone, path.
func (r *Root) warnRead(n *node, off int64, err error) {
	var ae *chunk.AuthError
	if !errors.As(err, &ae) {
		r.log.Warn("zone file I/O failed", "ino", n.StableAttr().Ino, "path", n.rel(), "err", err)
		return
	}
	r.log.Warn("chunk authentication failed", "ino", n.StableAttr().Ino, "chunk", ae.Index,
		"zone", n.zoneName(), "path", n.rel(), "err", err)
}

// warnFile logs a file that cannot be decrypted at all.
func (r *Root) warnFile(n *node, msg string, err error) {
	r.log.Warn(msg, "ino", n.StableAttr().Ino, "zone", n.zoneName(), "path", n.rel(), "err", err)
}

// zoneName names the zone of file n for logs: the zone root's backing path.
func (n *node) zoneName() string {
	_, parent := n.Parent()
	if parent == nil {
		return ""
	}
	z, err := parent.Operations().(*node).zoneOf()
	if err != nil || z.none {
		return ""
	}
	return z.dir.rel()
}
