package fs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	ezfs "github.com/ezfs/ezfs/fs"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
)

// A registered zone whose marker is gone is refused, never served raw, and nothing
// new is created in it (DECISIONS.md "Format and crypto").
func TestLostZoneRefused(t *testing.T) {
	e := mountWith(t, func(e *env, o *ezfs.Options) {
		os.MkdirAll(filepath.Join(e.backing, "lost", "sub"), 0o755)
		os.WriteFile(filepath.Join(e.backing, "lost", "old"), []byte("ciphertext"), 0o644)
		o.Zones = []zone.Record{{ID: zoneID, Key: "k", Path: "z"}, {ID: [16]byte{2}, Key: "k", Path: "lost"}}
		e.warns.Store(2) // one at mount, one at the first refusal
	})
	lost := filepath.Join(e.mnt, "lost")
	if _, err := os.Stat(lost); err != nil {
		t.Fatalf("the lost zone's root stays visible: %v", err)
	}
	for name, op := range map[string]func() error{
		"create":      func() error { return os.WriteFile(filepath.Join(lost, "new"), []byte("plain"), 0o644) },
		"mkdir":       func() error { return os.Mkdir(filepath.Join(lost, "d"), 0o755) },
		"symlink":     func() error { return os.Symlink("x", filepath.Join(lost, "l")) },
		"read":        func() error { _, err := os.ReadFile(filepath.Join(lost, "old")); return err },
		"stat-subdir": func() error { _, err := os.Stat(filepath.Join(lost, "sub")); return err },
		"readdir":     func() error { _, err := os.ReadDir(lost); return err },
		"move-root":   func() error { return os.Rename(lost, filepath.Join(e.mnt, "plain", "lost")) },
		"move-in":     func() error { return os.Rename(filepath.Join(e.mnt, "plain"), filepath.Join(lost, "p")) },
	} {
		if err := op(); !errors.Is(err, syscall.EIO) {
			t.Errorf("%s in lost zone: want EIO, got %v", name, err)
		}
	}
	for _, name := range []string{"new", "d", "l", "p"} {
		if _, err := os.Lstat(filepath.Join(e.backing, "lost", name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("backing lost/%s exists: %v", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(e.mnt, "z", "f"), []byte("x"), 0o600); err != nil {
		t.Errorf("intact zone: %v", err)
	}
	if e.warns.Load() != 0 {
		t.Errorf("%d expected warnings missing", e.warns.Load())
	}
}

// BeginMove hears about every rename and hard link that puts an entry (a file or a
// directory) in a zone: begin before the entry is in place, end after with its new
// path, end("") when the syscall failed; a move outside zones or of a zone root is
// not reported.
func TestBeginMoveHook(t *testing.T) {
	var (
		mu      sync.Mutex
		events  []string
		watched string // backing path that must not exist yet when a move begins
	)
	e := mountWith(t, func(e *env, o *ezfs.Options) {
		o.BeginMove = func(id [16]byte) func(string) {
			mu.Lock()
			defer mu.Unlock()
			ev := "begin"
			if id != zoneID {
				ev = fmt.Sprintf("begin %x", id)
			}
			if _, err := os.Lstat(filepath.Join(e.backing, watched)); watched != "" && err == nil {
				ev += " after the move"
			}
			events = append(events, ev)
			return func(rel string) {
				mu.Lock()
				defer mu.Unlock()
				if _, err := os.Lstat(filepath.Join(e.backing, rel)); rel != "" && err != nil {
					rel += " (missing)"
				}
				events = append(events, "end "+rel)
			}
		}
	})
	p := func(rel string) string { return filepath.Join(e.mnt, rel) }
	for _, d := range []string{"z/d", "z/a", "z/full"} {
		os.Mkdir(p(d), 0o755)
	}
	for _, f := range []string{"z/f", "z/k", "z/full/x", "plain/a"} {
		os.WriteFile(p(f), []byte("x"), 0o600)
	}
	steps := []struct {
		name, watch string
		do          func() error
		want        []string
	}{
		{"rename-file", "z/g", func() error { return os.Rename(p("z/f"), p("z/g")) }, []string{"begin", "end z/g"}},
		{"link-file", "z/h", func() error { return os.Link(p("z/g"), p("z/h")) }, []string{"begin", "end z/h"}},
		{"rename-dir", "z/e", func() error { return os.Rename(p("z/d"), p("z/e")) }, []string{"begin", "end z/e"}},
		{"rename-into-subdir", "z/e/g", func() error { return os.Rename(p("z/g"), p("z/e/g")) }, []string{"begin", "end z/e/g"}},
		{"rename-outside", "", func() error { return os.Rename(p("plain/a"), p("plain/b")) }, nil},
		{"exchange", "", func() error {
			return unix.Renameat2(unix.AT_FDCWD, p("z/k"), unix.AT_FDCWD, p("z/e/g"), unix.RENAME_EXCHANGE)
		}, []string{"begin", "begin", "end z/e/g", "end z/k"}},
		{"failed", "", func() error {
			// onto a non-empty directory (os.Rename refuses directories itself)
			if err := unix.Rename(p("z/a"), p("z/full")); err != unix.ENOTEMPTY && err != unix.EEXIST {
				return fmt.Errorf("want ENOTEMPTY or EEXIST, got %v", err)
			}
			return nil
		}, []string{"begin", "end "}},
		{"zone-root", "", func() error { return os.Rename(p("z"), p("plain/z2")) }, nil},
		{"in-moved-zone", "plain/z2/e2", func() error { return os.Rename(p("plain/z2/e"), p("plain/z2/e2")) }, []string{"begin", "end plain/z2/e2"}},
	}
	for _, s := range steps {
		mu.Lock()
		events, watched = nil, s.watch
		mu.Unlock()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		mu.Lock()
		if !slices.Equal(events, s.want) {
			t.Errorf("%s: hook calls %q, want %q", s.name, events, s.want)
		}
		mu.Unlock()
	}
}

// Activity hears about foreground operations.
func TestActivityHook(t *testing.T) {
	var n atomic.Int64
	e := mountWith(t, func(e *env, o *ezfs.Options) { o.Activity = func() { n.Add(1) } })
	p := filepath.Join(e.mnt, "z", "f")
	ops := []struct {
		name string
		do   func() error
	}{
		{"create+write", func() error { return os.WriteFile(p, []byte("data"), 0o600) }},
		{"open+read", func() error { _, err := os.ReadFile(p); return err }},
		{"readdir", func() error { _, err := os.ReadDir(filepath.Join(e.mnt, "plain")); return err }},
		{"lookup", func() error { _, err := os.Stat(filepath.Join(e.mnt, "plain", "nothing")); return ignoreNotExist(err) }},
		{"chmod", func() error { return os.Chmod(p, 0o640) }},
		{"plain-write", func() error { return os.WriteFile(filepath.Join(e.mnt, "plain", "f"), []byte("x"), 0o600) }},
		{"unlink", func() error { return os.Remove(p) }},
	}
	for _, op := range ops {
		before := n.Load()
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if n.Load() == before {
			t.Errorf("%s: Activity not called", op.name)
		}
	}
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// A re-encryption walk re-wraps a file's EDEK in place and key prune removes the old
// version: an inode the kernel still caches must open with the new EDEK. An xattr
// that names another file must be refused: at open in format 1 (the file id
// differs), on read in format 2 (the other file's DEK fails every chunk).
func TestReopenAfterRewrap(t *testing.T) {
	for _, suite := range []chunk.Suite{chunk.AES256GCM, chunk.XChaCha20Poly1305} {
		t.Run(suite.String(), func(t *testing.T) { testReopenAfterRewrap(t, suite) })
	}
}

func testReopenAfterRewrap(t *testing.T, suite chunk.Suite) {
	e := mountWith(t, func(_ *env, o *ezfs.Options) { o.Suite = suite })
	ctx := t.Context()
	data := bytes.Repeat([]byte("rewrapped "), 1000)
	p, b := filepath.Join(e.mnt, "z", "f"), filepath.Join(e.backing, "z", "f")
	mustWriteFile(t, p, data)
	mustWriteFile(t, filepath.Join(e.mnt, "z", "other"), data)
	mustRead(t, p, data) // looked up and cached, no handle open
	if _, err := e.kr.RollKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	meta := readMeta(t, b)
	edeks, err := e.kr.ReencryptEDEKs(ctx, []keys.Rewrap{{EDEK: meta.EDEK, Binding: meta.Binding()}})
	if err != nil {
		t.Fatal(err)
	}
	meta.EDEK = edeks[0]
	if err := unix.Setxattr(b, zone.XattrFile, meta.Encode(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kr.PruneKey(ctx, "k", 2); err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, data)

	other := filepath.Join(e.mnt, "z", "other")
	if err := unix.Setxattr(filepath.Join(e.backing, "z", "other"), zone.XattrFile, meta.Encode(), 0); err != nil {
		t.Fatal(err)
	}
	const allowed = 8 // a refused open warns once; failed reads once per READ the kernel retries
	e.warns.Store(allowed)
	// The kernel sends RELEASE after close returns: until the write's handle is gone, a
	// new open shares its state, made from the file's own xattr, and reads fine.
	err = readUncached(other)
	for deadline := time.Now().Add(5 * time.Second); err == nil && time.Now().Before(deadline); err = readUncached(other) {
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("read with another file's xattr: %v, want EIO", err)
	}
	if e.warns.Load() == allowed {
		t.Errorf("no warning for the refused file")
	}
}

// readUncached reads file p through the mount after dropping the kernel's cached pages
// of it, so that the read reaches the daemon (zone files keep their cache across opens).
func readUncached(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return err
	}
	_, err = io.ReadAll(f)
	return err
}

func readMeta(t *testing.T, backing string) *zone.FileMeta {
	t.Helper()
	buf := make([]byte, 512)
	sz, err := unix.Getxattr(backing, zone.XattrFile, buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := zone.ParseFileMeta(buf[:sz])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// New entries get exactly the mode the caller asked for (after the caller's umask,
// which the kernel applies), whatever the daemon's own umask strips; a directory in
// a setgid directory keeps the setgid bit it inherits.
func TestCreateModes(t *testing.T) {
	e := mount(t)
	old := unix.Umask(0o077) // the daemon's umask (cmd/ezfs keeps its key store private)
	t.Cleanup(func() { unix.Umask(old) })
	want := map[string]uint32{"f": 0o666, "d": 0o777, "p": 0o666, "g": 0o2775, "g/sub": 0o2777,
		"f027": 0o640, "d027": 0o750, "f000": 0, "t": 0o1777}
	for _, dir := range []string{"z", "plain"} {
		script := "cd " + filepath.Join(e.mnt, dir) + ` && umask 000 && touch f && mkdir d && mkfifo p &&
			mkdir -m 2775 g && mkdir g/sub && mkdir -m 1777 t &&
			umask 027 && touch f027 && mkdir d027 && umask 777 && touch f000`
		if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", dir, err, out)
		}
		for name, m := range want {
			for _, root := range []string{e.mnt, e.backing} {
				var st unix.Stat_t
				if err := unix.Lstat(filepath.Join(root, dir, name), &st); err != nil || st.Mode&0o7777 != m {
					t.Errorf("%s: mode %o, want %o (%v)", filepath.Join(root, dir, name), st.Mode&0o7777, m, err)
				}
			}
		}
	}
}

// MakeZone checks emptiness and sets the marker as one step: a file created
// concurrently through the mount is either there first (ErrNotEmpty) or encrypted.
func TestMakeZoneRace(t *testing.T) {
	e := mount(t)
	for i := range 40 {
		rel := filepath.Join("plain", "d"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		if err := os.Mkdir(filepath.Join(e.mnt, rel), 0o755); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { os.WriteFile(filepath.Join(e.mnt, rel, "f"), []byte("data"), 0o644) })
		err := e.root.MakeZone(rel, zone.Marker{ID: [16]byte{3, byte(i)}, Key: "k"})
		wg.Wait()
		if err != nil {
			if !errors.Is(err, zone.ErrNotEmpty) {
				t.Fatalf("MakeZone %s: %v", rel, err)
			}
			continue
		}
		if _, err := unix.Getxattr(filepath.Join(e.backing, rel, "f"), zone.XattrFile, nil); err != nil {
			t.Fatalf("file in new zone %s has no ezfs xattr: %v", rel, err)
		}
	}
	if err := e.root.MakeZone("plain", zone.Marker{ID: [16]byte{4}, Key: "k"}); !errors.Is(err, zone.ErrNotEmpty) {
		t.Fatalf("MakeZone of a non-empty directory: %v", err)
	}
}

// The remembered absence of security.capability must not hide one set later:
// a write after setcap still drops the capability, as on ext4.
func TestCapabilityAnswer(t *testing.T) {
	e := mount(t)
	for _, dir := range []string{"z", "plain"} {
		p := filepath.Join(e.mnt, dir, "bin")
		if err := os.WriteFile(p, []byte("one"), 0o755); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if _, err := unix.Getxattr(p, "security.capability", buf); err != unix.ENODATA {
			t.Fatalf("%s: getxattr before setcap: %v", dir, err)
		}
		// VFS_CAP_REVISION_2 with CAP_NET_RAW (13) permitted, effective flag set.
		capV2 := []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		if err := unix.Setxattr(p, "security.capability", capV2, 0); err != nil {
			t.Fatalf("%s: setcap: %v", dir, err)
		}
		if sz, err := unix.Getxattr(p, "security.capability", buf); err != nil || sz != len(capV2) {
			t.Fatalf("%s: getxattr after setcap: %d %v", dir, sz, err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("two"), 0)
		f.Close()
		if _, err := unix.Getxattr(filepath.Join(e.backing, dir, "bin"), "security.capability", buf); err != unix.ENODATA {
			t.Errorf("%s: a write did not drop the capability: %v", dir, err)
		}
	}
}

// Zone files keep the kernel's page cache across opens; changes through another
// path of the mount and changes to the backing file from outside are still seen.
func TestZonePageCache(t *testing.T) {
	e := mount(t)
	p, b := filepath.Join(e.mnt, "z", "f"), filepath.Join(e.backing, "z", "f")
	a, bb := bytes.Repeat([]byte("A"), 8192), bytes.Repeat([]byte("B"), 8192)
	mustWriteFile(t, p, a)
	mustRead(t, p, a)
	oldCipher, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	mustWriteFile(t, p, bb)
	mustRead(t, p, bb)
	if err := os.Link(p, filepath.Join(e.mnt, "z", "g")); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(e.mnt, "z", "g"), 100); err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, bb[:100])
	mustWriteFile(t, p, bb)
	mustRead(t, p, bb)
	// From outside: roll the backing file back to its first ciphertext (a rollback
	// ezfs does not detect, FORMAT.md), then wait out the attribute timeout.
	if err := os.WriteFile(b, oldCipher, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	mustRead(t, p, a)
}

func mustWriteFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %s: %v, got %d bytes %.8q, want %d bytes %.8q", p, err, len(got), got, len(want), want)
	}
}

// Mount raises the mount's read-ahead to MaxWrite (root only).
func TestReadAhead(t *testing.T) {
	e := mount(t)
	var st unix.Stat_t
	if err := unix.Stat(e.mnt, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(ezfs.ReadAhead>>10) {
		t.Fatalf("read_ahead_kb = %q, %v", b, err)
	}
}

// TestListingPrefetch: listing a zone directory reads its files' xattrs ahead
// of the lookups exactly when they spill out of the backing inode (here: the
// XChaCha20-Poly1305 suite's format-1 xattr on ext4 with 256-byte inodes, not
// the AES-256-GCM suite's format 2 with a short key name); listing a plain
// directory never does.
func TestListingPrefetch(t *testing.T) {
	for _, suite := range []chunk.Suite{chunk.XChaCha20Poly1305, chunk.AES256GCM} {
		t.Run(suite.String(), func(t *testing.T) { testListingPrefetch(t, suite) })
	}
}

func testListingPrefetch(t *testing.T, suite chunk.Suite) {
	e := mountWith(t, func(_ *env, o *ezfs.Options) { o.Suite = suite })
	fits, err := zone.XattrFitsInInode(e.backing, zone.MetaLen(suite, "k"))
	if err != nil {
		t.Fatal(err)
	}
	want := int64(5)
	if fits {
		want = 0
	}
	for _, d := range []string{"z", "plain"} {
		for i := range 5 {
			mustWriteFile(t, filepath.Join(e.mnt, d, fmt.Sprint("f", i)), []byte("x"))
		}
		if err := os.Mkdir(filepath.Join(e.mnt, d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"plain", "z"} {
		if _, err := os.ReadDir(filepath.Join(e.mnt, d)); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ezfs.Prefetched(e.root) < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let a wrong extra read show
	if got := ezfs.Prefetched(e.root); got != want {
		t.Fatalf("prefetched %d xattrs, want %d (the xattr fits in the inode: %v)", got, want, fits)
	}
}

// TestWriteThenTimes: times set right after a large write (stored in the
// background) are the ones that stay, by descriptor and by path, as cp -p and
// tar set them.
func TestWriteThenTimes(t *testing.T) {
	e := mount(t)
	want := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	data := bytes.Repeat([]byte("w"), 1<<20)
	for i := range 20 {
		p := filepath.Join(e.mnt, "z", fmt.Sprint("t", i))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		tv := []unix.Timeval{unix.NsecToTimeval(want.UnixNano()), unix.NsecToTimeval(want.UnixNano())}
		if i%2 == 0 {
			err = unix.Futimes(int(f.Fd()), tv)
		} else {
			err = os.Chtimes(p, want, want)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(e.backing, "z", fmt.Sprint("t", i)), &st); err != nil {
			t.Fatal(err)
		}
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(want) {
			t.Fatalf("file %d: backing mtime %v, want %v", i, got, want)
		}
	}
}

// A zone READ's reply is written from the buffer its chunks were opened in,
// so that buffer must outlive the write: with every release overwriting the
// plaintext, concurrent direct readers (each read reaches the daemon) still
// read what was written.
func TestReplyBufferOutlivesWrite(t *testing.T) {
	t.Cleanup(ezfs.ScribbleReplies())
	e := mount(t)
	files := make([][]byte, 4)
	for i := range files {
		files[i] = make([]byte, 2<<20+1234)
		rand.NewChaCha8([32]byte{byte(i)}).Read(files[i])
		mustWriteFile(t, filepath.Join(e.mnt, "z", fmt.Sprint(i)), files[i])
	}
	var wg sync.WaitGroup
	for i, want := range files {
		wg.Go(func() {
			f, err := os.OpenFile(filepath.Join(e.mnt, "z", fmt.Sprint(i)), os.O_RDONLY|unix.O_DIRECT, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			buf := make([]byte, 256<<10+4096)
			p := buf[4096-int(uintptr(unsafe.Pointer(&buf[0]))%4096):][:256<<10] // aligned for O_DIRECT
			for round := range 8 {
				for off := 0; off < len(want); off += len(p) {
					n, err := f.ReadAt(p, int64(off))
					if (err != nil && err != io.EOF) || !bytes.Equal(p[:n], want[off:min(off+len(p), len(want))]) {
						t.Errorf("file %d round %d: read at %d: %d bytes, %v, or not what was written", i, round, off, n, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
