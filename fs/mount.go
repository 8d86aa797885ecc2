package fs

import (
	"fmt"
	"os"
	"strconv"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// MaxWrite is the largest READ/WRITE request ezfs asks the kernel for (issue 3
// "Speed"): per-request costs are paid once per MiB, and a large request is
// sealed in the background while the next one arrives (zone/content.WriteBehind).
const MaxWrite = 1 << 20

// attrTimeout is how long the kernel may cache entries and attributes (the peers' 1 s).
const attrTimeout = time.Second

// MountOptions are the mount-wide settings of [Mount].
type MountOptions struct {
	AllowOther bool
	ReadOnly   bool
	// Extra are more -o options passed to the kernel unchanged.
	Extra []string
	// Debug logs every FUSE request (go-fuse's debug output).
	Debug bool
}

// Mount serves r at mountpoint and returns once the kernel has the mount. The file
// system type is fuse.ezfs with the backing directory as source; permission checks are
// the kernel's (default_permissions). As root it mounts directly, otherwise through
// fusermount3. New entries get exactly the mode asked for whatever the process
// umask is (exactMode), so the process keeps its own umask for its own files.
func Mount(mountpoint string, r *Root, o MountOptions) (*fuse.Server, error) {
	timeout := attrTimeout
	opts := &gofs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:  o.AllowOther,
			Name:        "ezfs",
			FsName:      r.opts.Backing,
			MaxWrite:    MaxWrite,
			Options:     mountFlags(o),
			DirectMount: os.Geteuid() == 0,
			// go-fuse tries to splice every READ reply. A zone's reply is
			// plaintext in memory, which cannot be spliced: each try cost three
			// system calls for nothing. A MaxWrite reply of a file outside
			// zones does not fit Linux's default largest pipe (fs.pipe-max-size,
			// 1 MiB) with its header and go-fuse's spare page: each try failed
			// and logged a line, once for every MiB read. Without splicing a
			// reply is one pread and one writev.
			DisableSplice: true,
			Debug:         o.Debug,
		},
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NullPermissions: true,
	}
	srv, err := gofs.Mount(mountpoint, r.node, opts)
	if err != nil {
		return nil, fmt.Errorf("mount %s on %s: %w", r.opts.Backing, mountpoint, err)
	}
	if err := raiseReadAhead(mountpoint); err != nil {
		r.log.Debug("cannot raise the mount's read-ahead", "err", err)
	}
	return srv, nil
}

// ReadAhead is the mount's read-ahead: four MaxWrite requests, so that a
// sequential reader keeps several READs in flight and both cores decrypt
// (scripts/bench-coldread.sh, cold sequential zone reads: about 0.85x of the
// non-zone directory with 1 MiB, 0.89x with 4 MiB; FUSE's default of
// 128 KiB gave about 0.65x, paying the per-request costs eight times per MiB).
const ReadAhead = 4 * MaxWrite

// raiseReadAhead sets the mount's read-ahead to ReadAhead. Only root may
// write the mount's bdi setting; others keep the default.
func raiseReadAhead(mountpoint string) error {
	var st unix.Stat_t
	if err := unix.Stat(mountpoint, &st); err != nil {
		return err
	}
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	return os.WriteFile(p, []byte(strconv.Itoa(ReadAhead>>10)), 0)
}

// mountFlags turns o into kernel mount options.
func mountFlags(o MountOptions) []string {
	flags := []string{"default_permissions"}
	if o.ReadOnly {
		flags = append(flags, "ro")
	}
	return append(flags, o.Extra...)
}
