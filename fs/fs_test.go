package fs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	ezfs "github.com/ezfs/ezfs/fs"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
)

// failOnWarn fails the test on any Warn it did not expect (STYLE.md "Logging").
type failOnWarn struct {
	slog.Handler
	t      *testing.T
	expect *atomic.Int32
}

func (h failOnWarn) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		if h.expect.Add(-1) < 0 {
			h.expect.Add(1)
			h.t.Errorf("unexpected warning: %s", r.Message)
		}
	}
	return h.Handler.Handle(ctx, r)
}

type env struct {
	backing, mnt string
	warns        atomic.Int32
	root         *ezfs.Root
	kr           *keys.Keyring
}

// zoneID is the id of the test zone "z".
var zoneID = [16]byte{1}

// mount mounts a fresh backing directory with zone "z" (key "k") and dir "plain".
func mount(t *testing.T) *env { return mountWith(t, nil) }

// mountWith is mount with a chance to change the options (and the backing
// directory, before the mount) first.
func mountWith(t *testing.T, setup func(e *env, o *ezfs.Options)) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for DirectMount")
	}
	e := &env{backing: t.TempDir(), mnt: t.TempDir()}
	kr := keys.NewKeyring(keystest.NewMemStore(), keystest.NewMainKey(), "vol")
	if _, err := kr.CreateKey(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{".ezfs", "z", "plain"} {
		os.Mkdir(filepath.Join(e.backing, d), 0o755)
	}
	m := zone.Marker{ID: zoneID, Key: "k"}
	if err := unix.Setxattr(filepath.Join(e.backing, "z"), zone.XattrZone, m.Encode(), 0); err != nil {
		t.Fatal(err)
	}
	log := slog.New(failOnWarn{Handler: slog.NewTextHandler(os.Stderr, nil), t: t, expect: &e.warns})
	o := ezfs.Options{Backing: e.backing, Keys: kr, Suite: chunk.AES256GCM, ChunkSize: 4096, Log: log, HiddenName: ".ezfs"}
	if setup != nil {
		setup(e, &o)
	}
	r, err := ezfs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.root, e.kr = r, kr
	srv, err := ezfs.Mount(e.mnt, r, ezfs.MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
			exec.Command("umount", "-l", e.mnt).Run()
		}
		r.Close()
	})
	return e
}

func TestZoneRoundTrip(t *testing.T) {
	e := mount(t)
	data := bytes.Repeat([]byte("secret-marker-"), 1000)
	p := filepath.Join(e.mnt, "z", "f")
	if err := os.WriteFile(p, data, 0o640); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v, equal=%v", err, bytes.Equal(got, data))
	}
	st, err := os.Stat(p)
	if err != nil || st.Size() != int64(len(data)) || st.Mode().Perm() != 0o640 {
		t.Fatalf("stat: %v %v", st, err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.backing, "z", "f"))
	if bytes.Contains(raw, []byte("secret-marker")) || len(raw) <= len(data) {
		t.Fatalf("backing holds plaintext or is too short (%d)", len(raw))
	}
}

func TestHiddenAndXattrs(t *testing.T) {
	e := mount(t)
	if _, err := os.Stat(filepath.Join(e.mnt, ".ezfs")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat .ezfs: %v", err)
	}
	names, _ := os.ReadDir(e.mnt)
	for _, n := range names {
		if n.Name() == ".ezfs" {
			t.Fatal(".ezfs listed")
		}
	}
	p := filepath.Join(e.mnt, "z", "f")
	os.WriteFile(p, []byte("x"), 0o600)
	buf := make([]byte, 4096)
	sz, _ := unix.Listxattr(p, buf)
	if strings.Contains(string(buf[:sz]), "ezfs") {
		t.Fatalf("listxattr shows ezfs: %q", buf[:sz])
	}
	if _, err := unix.Getxattr(p, zone.XattrFile, buf); err != unix.ENODATA {
		t.Fatalf("getxattr ezfs: %v", err)
	}
	if err := unix.Setxattr(p, zone.XattrFile, []byte("x"), 0); err != unix.EPERM {
		t.Fatalf("setxattr ezfs: %v", err)
	}
	if err := unix.Setxattr(p, "user.mine", []byte("v"), 0); err != nil {
		t.Fatalf("setxattr user: %v", err)
	}
	if sz, err := unix.Getxattr(p, "user.mine", buf); err != nil || string(buf[:sz]) != "v" {
		t.Fatalf("getxattr user: %v", err)
	}
}

func TestCrossZone(t *testing.T) {
	e := mount(t)
	os.WriteFile(filepath.Join(e.mnt, "z", "f"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(e.mnt, "plain", "g"), []byte("y"), 0o600)
	for _, c := range [][2]string{{"z/f", "plain/f"}, {"plain/g", "z/g"}} {
		err := os.Rename(filepath.Join(e.mnt, c[0]), filepath.Join(e.mnt, c[1]))
		if !errors.Is(err, syscall.EXDEV) {
			t.Errorf("rename %s -> %s: %v", c[0], c[1], err)
		}
		err = os.Link(filepath.Join(e.mnt, c[0]), filepath.Join(e.mnt, c[1]))
		if !errors.Is(err, syscall.EXDEV) {
			t.Errorf("link %s -> %s: %v", c[0], c[1], err)
		}
	}
	if err := os.Rename(filepath.Join(e.mnt, "z"), filepath.Join(e.mnt, "plain", "z2")); err != nil {
		t.Errorf("move zone root: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(e.mnt, "plain", "z2", "f")); err != nil || string(got) != "x" {
		t.Errorf("read after zone move: %q %v", got, err)
	}
}

func TestTamper(t *testing.T) {
	e := mount(t)
	p := filepath.Join(e.mnt, "z", "f")
	data := bytes.Repeat([]byte{'a'}, 3*4096)
	os.WriteFile(p, data, 0o600)
	b := filepath.Join(e.backing, "z", "f")
	f, _ := os.OpenFile(b, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, 4136+100) // inside chunk 1
	f.Close()
	e.warns.Store(10)
	fd, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	buf := make([]byte, 4096)
	if _, err := fd.ReadAt(buf, 0); err != nil {
		t.Errorf("chunk 0: %v", err)
	}
	if _, err := fd.ReadAt(buf, 4096); !errors.Is(err, syscall.EIO) {
		t.Errorf("chunk 1: %v", err)
	}
	if _, err := fd.ReadAt(buf, 8192); err != nil {
		t.Errorf("chunk 2: %v", err)
	}
}

// fsync and fdatasync of a directory sync its backing directory (as on ext4).
func TestFsyncDir(t *testing.T) {
	e := mount(t)
	for _, dir := range []string{"", "z", "plain"} {
		d, err := os.Open(filepath.Join(e.mnt, dir))
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Fsync(int(d.Fd())); err != nil {
			t.Errorf("fsync of %q: %v", dir, err)
		}
		if err := unix.Fdatasync(int(d.Fd())); err != nil {
			t.Errorf("fdatasync of %q: %v", dir, err)
		}
		d.Close()
	}
}
