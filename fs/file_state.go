package fs

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
	"github.com/ezfs/ezfs/zone/content"
)

// openFile is the state shared by all open handles of one encrypted inode: the
// backing file, the unwrapped DEK and the content view. It exists while at least
// one handle is open, so the DEK is unwrapped once per open inode (issue 3 "Speed").
type openFile struct {
	refs     int
	backing  *os.File
	dek      *keys.Secret
	cipher   *chunk.Cipher
	content  *content.File
	readOnly bool // the backing file could only be opened for reading
}

// openState returns the open state of n, nil when no handle is open.
func (n *node) openState() *openFile {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.open
}

// acquire returns n's open state, opening the backing file and unwrapping the DEK
// when this is the first handle. Each acquire is paired with one release.
func (n *node) acquire(ctx context.Context) (*openFile, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.open != nil {
		n.open.refs++
		return n.open, nil
	}
	if n.enc.err != nil {
		n.root.warnFile(n, "refusing encrypted file", n.enc.err)
		return nil, unix.EIO
	}
	f, readOnly, err := n.root.openBacking(n.rel())
	if err != nil {
		return nil, err
	}
	meta, err := n.enc.current(int(f.Fd()))
	if err != nil {
		f.Close()
		n.root.warnFile(n, "refusing encrypted file", err)
		return nil, unix.EIO
	}
	of, err := n.root.newOpenFile(ctx, f, meta, nil)
	if err != nil {
		f.Close()
		n.root.warnFile(n, "cannot unlock file key", err)
		return nil, unix.EIO
	}
	of.readOnly = readOnly
	n.open = of
	return of, nil
}

// errMetaChanged refuses a file whose xattr names another file than at lookup.
var errMetaChanged = errors.New("format, file id, suite, chunk size or key changed since lookup")

// current re-reads the ezfs xattr of the open backing file fd. A re-encryption walk
// may have re-wrapped the EDEK under a newer key version since lookup, and key prune
// may have removed the old one, so the EDEK read at lookup can be stale (package
// zone/reencrypt). Only the EDEK's version and wrapped bytes may differ: anything
// else means another file, and the open fails closed.
func (e *encState) current(fd int) (*zone.FileMeta, error) {
	b, err := xattrOf(func(buf []byte) (int, error) { return unix.Fgetxattr(fd, zone.XattrFile, buf) })
	if err != nil || b == nil {
		return nil, fmt.Errorf("re-read %s: %w", zone.XattrFile, cmp.Or(err, errNoMeta))
	}
	m, err := zone.ParseFileMeta(b)
	if err != nil {
		return nil, fmt.Errorf("re-read %s: %w", zone.XattrFile, err)
	}
	if !bytes.Equal(m.Binding(), e.meta.Binding()) || m.EDEK.Key.Name != e.meta.EDEK.Key.Name {
		return nil, fmt.Errorf("re-read %s: %w", zone.XattrFile, errMetaChanged)
	}
	return m, nil
}

// install makes a freshly created backing file (and its DEK) the open state of n.
func (n *node) install(ctx context.Context, f *os.File, dek *keys.Secret) (*openFile, error) {
	of, err := n.root.newOpenFile(ctx, f, n.enc.meta, dek)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.open != nil { // an existing inode: keep its state, drop ours
		of.close()
		n.open.refs++
		return n.open, nil
	}
	n.open = of
	return of, nil
}

// release drops one reference; the last one closes the backing file and wipes the key.
func (n *node) release() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.open == nil {
		panic("fs: release without acquire")
	}
	if n.open.refs--; n.open.refs == 0 {
		// Writes made after the last close(2) (a shared mapping's) have no Flush
		// left to report a background write's error to.
		if err := n.open.content.Flush(); err != nil {
			n.root.warnFile(n, "write failed after the file was closed", err)
		}
		n.open.close()
		n.open = nil
	}
}

// openBacking opens a backing file for reading and writing (a zone write reads the
// chunks it patches), or only for reading when that is all the daemon may do.
func (r *Root) openBacking(rel string) (f *os.File, readOnly bool, err error) {
	const flags = unix.O_NOFOLLOW | unix.O_CLOEXEC
	err = r.withAt(rel, func(dirfd int, name string) error {
		fd, err := unix.Openat(dirfd, name, unix.O_RDWR|flags, 0)
		if err == unix.EACCES || err == unix.EROFS {
			readOnly = true
			fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|flags, 0)
		}
		if err == nil {
			f = os.NewFile(uintptr(fd), rel)
		}
		return err
	})
	return f, readOnly, err
}

// newOpenFile builds the content view of backing file f; dek is unwrapped from the
// file's EDEK when nil.
func (r *Root) newOpenFile(ctx context.Context, f *os.File, meta *zone.FileMeta, dek *keys.Secret) (*openFile, error) {
	var err error
	if dek == nil {
		if dek, err = r.opts.Keys.DecryptEDEK(ctx, meta.EDEK, meta.Binding()); err != nil {
			return nil, fmt.Errorf("unwrap EDEK with %s: %w", meta.EDEK.Key, err)
		}
	}
	id, err := meta.ContentID(dek.Bytes())
	if err != nil {
		dek.Wipe()
		return nil, err
	}
	c, err := chunk.New(meta.Suite, dek.Bytes(), id, chunk.Layout{ChunkSize: meta.ChunkSize})
	if err != nil {
		dek.Wipe()
		return nil, err
	}
	cf, err := content.Open(f, c)
	if err != nil {
		c.Wipe()
		dek.Wipe()
		return nil, err
	}
	return &openFile{refs: 1, backing: f, dek: dek, cipher: c, content: cf}, nil
}

// close releases the backing file and wipes the keys.
func (of *openFile) close() {
	of.content.Close()
	of.backing.Close()
	of.cipher.Wipe()
	of.dek.Wipe()
}

// getattr fills attributes from the open backing file, size from the content view.
func (of *openFile) getattr(n *node, a *fuse.Attr) error {
	of.content.Wait() // size and times as they are once a background write landed
	st, err := fstatx(int(of.backing.Fd()))
	if err != nil {
		return err
	}
	n.fillAttr(a, st)
	if size, err := of.content.Size(); err == nil {
		a.Size = uint64(size)
	}
	return nil
}
