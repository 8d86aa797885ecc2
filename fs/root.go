package fs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
)

// Keyring is what the node tree needs from the volume's keyring: a fresh DEK for each
// new zone file, and the DEK of an existing one. *keys.Keyring implements it.
type Keyring interface {
	GenerateEDEK(ctx context.Context, name string, w keys.Wrap, binding []byte) (*keys.Secret, keys.EDEK, error)
	DecryptEDEK(ctx context.Context, e keys.EDEK, binding []byte) (*keys.Secret, error)
}

var _ Keyring = (*keys.Keyring)(nil)

// Options configures a node tree. Flags become this struct before they reach fs
// (STYLE.md "Layout").
type Options struct {
	// Backing is the backing directory (the volume root).
	Backing string
	// Keys unwraps and generates file keys.
	Keys Keyring
	// Suite and ChunkSize are used for new zone files (the volume's config).
	Suite     chunk.Suite
	ChunkSize int
	// Log receives lifecycle lines and integrity warnings; nil discards them.
	Log *slog.Logger
	// Passthrough lets the kernel serve files outside zones straight from the
	// backing file (FUSE passthrough, root only). Off by default: DECISIONS.md "Speed".
	Passthrough bool
	// HiddenName is the entry at the backing root that the mount hides (volume.Dir).
	HiddenName string
	// ZoneMoved, when set, is called after a zone root was renamed, with the zone id
	// and its new backing-relative path (to update the zone registry).
	ZoneMoved func(id [16]byte, rel string)
	// BeginMove, when set, is called before a rename or hard link puts an entry (a
	// file, a directory or anything else) inside a zone, with that zone's id; the
	// returned end is called once afterwards with the entry's new backing-relative
	// path, or "" if the syscall failed. RENAME_EXCHANGE reports both entries; moving
	// a zone root needs no report. The re-encryption walker uses it so that no file
	// escapes a walk (zone/reencrypt Manager.BeginMove). Both run on the FUSE
	// request's goroutine: they must not block or call back into the mount.
	BeginMove func(zoneID [16]byte) (end func(rel string))
	// Activity, when set, is called at the start of each operation that serves
	// foreground I/O (reads, writes, lookups, creates, listings, ...), so that
	// background work can yield (zone/reencrypt Activity.Note). It must be cheap.
	Activity func()
	// Zones are the zones of the volume's registry. One whose backing directory
	// has lost its marker is reported by New and refused from then on: lookups and
	// creates in it fail with EIO (DECISIONS.md "Format and crypto").
	Zones []zone.Record
}

// Root is the shared state of one mounted node tree.
type Root struct {
	opts Options
	log  *slog.Logger
	fd   int // O_PATH descriptor of the backing root
	dev  uint64
	node *node
	lost map[string]*lostZone // registered zones without marker, by backing path

	// zoneMu is held shared by every operation that adds an entry to a directory
	// and exclusively by MakeZone, so a directory cannot gain an entry between
	// MakeZone's emptiness check and its marker.
	zoneMu sync.RWMutex

	stopProfile func()
	activity    func() // Options.Activity, or a no-op

	prefetched atomic.Int64 // xattrs read ahead of a listing (prefetch.go)

	spillMu sync.Mutex
	spill   map[string]bool // by zone key name: its files' xattrs leave the inode (prefetch.go)
}

// New opens the backing directory and returns the root of the node tree. Close
// releases the backing descriptor after the mount is gone.
func New(o Options) (*Root, error) {
	fd, err := unix.Open(o.Backing, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open backing directory %s: %w", o.Backing, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat backing directory %s: %w", o.Backing, err)
	}
	r := &Root{opts: o, log: o.Log, fd: fd, dev: st.Dev, stopProfile: startProfile(), spill: map[string]bool{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.activity = o.Activity; r.activity == nil {
		r.activity = func() {}
	}
	r.node = &node{root: r}
	r.node.dirZone.Store(noZone)
	r.lost = r.findLost(o.Zones)
	return r, nil
}

// Node is the go-fuse node to pass to gofs.Mount.
func (r *Root) Node() gofs.InodeEmbedder { return r.node }

// Close releases the backing root descriptor.
func (r *Root) Close() error {
	r.stopProfile()
	return unix.Close(r.fd)
}

// stableAttr maps a backing stat to go-fuse's inode identity: the backing inode
// number (mixed with the device if the tree crosses file systems) and a generation
// from the birth time, so a reused inode number is a new node.
func (r *Root) stableAttr(st *unix.Statx_t) gofs.StableAttr {
	dev := unix.Mkdev(st.Dev_major, st.Dev_minor)
	swapped := (dev << 32) | (dev >> 32)
	rootSwapped := (r.dev << 32) | (r.dev >> 32)
	gen := uint64(st.Btime.Sec)*1e9 + uint64(st.Btime.Nsec)
	if gen == 0 {
		gen = 1
	}
	return gofs.StableAttr{Mode: uint32(st.Mode) & syscall.S_IFMT, Ino: (swapped ^ rootSwapped) ^ st.Ino, Gen: gen}
}
