package integration

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRemount(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	os.WriteFile(filepath.Join(z, "f"), []byte(marker), 0o600)
	os.Mkdir(v.mnt+"2", 0o755)
	_, stderr, code := ezfs("mount", v.backing, v.mnt+"2", "--passphrase-file", v.pw)
	if code != 1 || !strings.Contains(stderr, "already mounted") {
		t.Errorf("second mount: exit %d, %s", code, stderr)
	}
	v.unmount(t)

	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("nope\n"), 0o600)
	_, stderr, code = ezfs("mount", v.backing, v.mnt, "--passphrase-file", wrong)
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "wrong passphrase") {
		t.Errorf("wrong passphrase: exit %d, stderr %q", code, stderr)
	}
	if mounted(v.mnt) {
		t.Fatal("mounted with a wrong passphrase")
	}
	v.mount(t)
	if b, err := os.ReadFile(filepath.Join(z, "f")); err != nil || string(b) != marker {
		t.Errorf("after remount: %q %v", b, err)
	}
}

func TestMountHelper(t *testing.T) {
	v := newVolume(t)
	needTool(t, "mount")
	helper := "/sbin/mount.fuse.ezfs"
	if _, err := os.Lstat(helper); err == nil {
		t.Skipf("%s exists already; not replacing it", helper)
	}
	if err := os.Symlink(bin, helper); err != nil {
		t.Skipf("cannot install %s: %v", helper, err)
	}
	t.Cleanup(func() { os.Remove(helper) })
	out, err := exec.Command("mount", "-t", "fuse.ezfs", v.backing, v.mnt,
		"-o", "passphrase_file="+v.pw+",noatime,nodev,_netdev").CombinedOutput()
	if err != nil {
		t.Fatalf("mount -t fuse.ezfs: %v\n%s", err, out)
	}
	t.Cleanup(func() { v.unmount(t) })
	mounts, _ := os.ReadFile("/proc/mounts")
	if !strings.Contains(string(mounts), v.backing+" "+v.mnt+" fuse.ezfs ") {
		t.Errorf("not in /proc/mounts as fuse.ezfs")
	}
	sh(t, "echo hi > "+v.mnt+"/x && umount "+v.mnt)
}

func TestForeground(t *testing.T) {
	v := newVolume(t)
	cmd := exec.Command(bin, "mount", "--foreground", v.backing, v.mnt, "--passphrase-file", v.pw)
	r, w, _ := os.Pipe()
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); exec.Command("umount", "-l", v.mnt).Run() })
	buf := make([]byte, 4096)
	n, _ := r.Read(buf) // the "mounted" log line
	if !strings.Contains(string(buf[:n]), "mounted") || !mounted(v.mnt) {
		t.Fatalf("foreground mount not ready: %s", buf[:n])
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("foreground exit after SIGINT: %v", err)
	}
	if mounted(v.mnt) {
		t.Error("still mounted after SIGINT")
	}
}

func TestZoneRules(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	full := filepath.Join(v.mnt, "full")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "f"), nil, 0o644)
	os.Mkdir(filepath.Join(z, "sub"), 0o755)
	os.MkdirAll(filepath.Join(v.mnt, "outer", "inner"), 0o755)
	run(t, 0, "zone", "create", filepath.Join(v.mnt, "outer", "inner"), "--key", "k")
	empty := filepath.Join(v.mnt, "empty")
	os.Mkdir(empty, 0o755)
	for _, c := range []struct{ dir, key, want string }{
		{full, "k", "not empty"},
		{filepath.Join(z, "sub"), "k", "nested"},
		{filepath.Join(v.mnt, "outer"), "k", "nested"},
		{empty, "missing", "no key named missing"},
		{t.TempDir(), "k", "not inside an ezfs mount"},
	} {
		_, stderr, code := ezfs("zone", "create", c.dir, "--key", c.key)
		if code != 1 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "hint") && c.want != "nested" {
			t.Errorf("zone create %s --key %s: exit %d, %s", c.dir, c.key, code, stderr)
		}
	}
	if err := os.Rename(filepath.Join(v.mnt, "outer"), filepath.Join(z, "outer")); err == nil {
		t.Error("moved a directory holding a zone into a zone")
	}
	if err := os.Rename(z, filepath.Join(empty, "z")); err != nil {
		t.Errorf("move zone root: %v", err)
	}
	out := run(t, 0, "zone", "list", v.mnt, "--json")
	if !strings.Contains(out, `"path":"`+filepath.Join(empty, "z")+`"`) {
		t.Errorf("zone list after move: %s", out)
	}
}

// TestPassthrough: with --passthrough the kernel reads and writes files outside
// zones itself (no READ or WRITE for them reaches the daemon, whose --debug log
// lists every request), while zone files still go through ezfs, encrypted.
func TestPassthrough(t *testing.T) {
	v := newVolume(t)
	logFile := filepath.Join(t.TempDir(), "daemon.log")
	v.mount(t, "--passthrough", "--debug", "--log-file", logFile)
	z := v.zone(t, "z")
	data := bytes.Repeat([]byte("passthrough "), 50000)
	served := func(p string) (reads, writes int) {
		before, _ := os.ReadFile(logFile)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		exec.Command("sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches").Run()
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %s: %v", p, err)
		}
		after, _ := os.ReadFile(logFile)
		log := string(after[len(before):])
		return strings.Count(log, ": READ n"), strings.Count(log, ": WRITE n")
	}
	if r, w := served(filepath.Join(v.mnt, "plain.txt")); r != 0 || w != 0 {
		t.Errorf("file outside zones: %d READ and %d WRITE requests reached the daemon, want none", r, w)
	}
	if got, _ := os.ReadFile(filepath.Join(v.backing, "plain.txt")); !bytes.Equal(got, data) {
		t.Error("backing file of the plain file differs from what was written")
	}
	if r, w := served(filepath.Join(z, "secret.txt")); r == 0 || w == 0 {
		t.Errorf("zone file: %d READ and %d WRITE requests, want them served by the daemon", r, w)
	}
	if got, _ := os.ReadFile(filepath.Join(v.backing, "z", "secret.txt")); bytes.Contains(got, []byte("passthrough")) {
		t.Error("zone file stored in plaintext")
	}
}

// TestFullDisk: on a backing file system that fills up, a large copy into a zone
// fails with ENOSPC (the write that does not fit, not a later one lost in the
// background), what was written before it reads back intact, and once space is
// freed writing works again.
func TestFullDisk(t *testing.T) {
	needRoot(t)
	d := t.TempDir()
	v := &volume{backing: filepath.Join(d, "backing"), mnt: filepath.Join(d, "mnt"), pw: filepath.Join(d, "pw")}
	os.Mkdir(v.backing, 0o755)
	os.Mkdir(v.mnt, 0o755)
	if err := unix.Mount("tmpfs", v.backing, "tmpfs", 0, "size=16m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(v.backing, unix.MNT_DETACH) })
	os.WriteFile(v.pw, []byte("correct horse\n"), 0o600)
	run(t, 0, "init", v.backing, "--passphrase-file", v.pw)
	run(t, 0, "key", "create", "k", "--backing", v.backing, "--passphrase-file", v.pw)
	v.mount(t)
	z := v.zone(t, "z")
	src := filepath.Join(d, "src")
	data := make([]byte, 32<<20)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tool := range [][]string{{"dd", "if=" + src, "of=" + filepath.Join(z, "f"), "bs=1M"}, {"cp", src, filepath.Join(z, "g")}} {
		out, err := exec.Command(tool[0], tool[1:]...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "No space left on device") {
			t.Errorf("%s of 32 MiB onto 16 MiB: %v, %s; want it to fail with ENOSPC", tool[0], err, out)
		}
	}
	got, err := os.ReadFile(filepath.Join(z, "f"))
	if err != nil {
		t.Fatalf("read back what dd wrote: %v", err)
	}
	if len(got) == 0 || !bytes.Equal(got, data[:len(got)]) {
		t.Errorf("after ENOSPC: %d bytes read back, not the start of what was written", len(got))
	}
	os.Remove(filepath.Join(z, "f"))
	os.Remove(filepath.Join(z, "g"))
	if err := os.WriteFile(filepath.Join(z, "h"), data[:4<<20], 0o600); err != nil {
		t.Errorf("write after freeing space: %v", err)
	}
}

// Deleting the backing directory under a live mount (a cleanup script gone
// wrong) gives errors, not hangs: a file opened before reads on, new files
// cannot be made, and the mount still unmounts with its daemon gone.
func TestBackingRemoved(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	data := make([]byte, 3<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(z, "f"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	open, err := os.Open(filepath.Join(z, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	pid := v.daemonPID(t)
	// The daemon's key store may add a file while RemoveAll empties its directory
	// ("directory not empty"): remove again, as rm -rf run twice would.
	err = os.RemoveAll(v.backing)
	for i := 0; err != nil && i < 10; i++ {
		time.Sleep(50 * time.Millisecond)
		err = os.RemoveAll(v.backing)
	}
	if err != nil {
		t.Fatal(err)
	}

	got := make([]byte, len(data))
	if _, err := open.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read of a file opened before the removal: %v", err)
	}
	if ents, err := os.ReadDir(v.mnt); len(ents) != 0 {
		t.Errorf("ls of the mount after the removal: %d entries, %v", len(ents), err)
	}
	if err := os.WriteFile(filepath.Join(v.mnt, "new"), data, 0o600); !os.IsNotExist(err) {
		t.Errorf("create in the removed backing directory: %v, want ENOENT", err)
	}
	open.Close()
	if _, stderr, code := ezfs("unmount", v.mnt); code != 0 {
		t.Fatalf("ezfs unmount: exit %d, %s", code, stderr)
	}
	for deadline := time.Now().Add(10 * time.Second); slices.Contains(ezfsPIDs(), pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the daemon is still running 10 s after the unmount")
		}
	}
}

// Reading logs nothing: go-fuse used to log a line for every MiB read (a
// failed splice of each 1 MiB reply), which would fill the disk of a busy
// mount with its log.
func TestReadsDoNotLog(t *testing.T) {
	v := newVolume(t)
	logFile := filepath.Join(t.TempDir(), "daemon.log")
	v.mount(t, "--log-file", logFile)
	z := v.zone(t, "z")
	data := make([]byte, 8<<20)
	rand.Read(data)
	for _, dir := range []string{v.mnt, z} {
		if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0)
	before, _ := os.ReadFile(logFile)
	for _, dir := range []string{v.mnt, z} {
		sh(t, "dd if="+filepath.Join(dir, "f")+" of=/dev/null bs=1M iflag=direct 2>&1 && cat "+filepath.Join(dir, "f")+" >/dev/null")
	}
	if after, _ := os.ReadFile(logFile); len(after) != len(before) {
		t.Errorf("reading 16 MiB logged:\n%s", after[len(before):])
	}
}

// A zone file read with O_DIRECT (dd iflag=direct, a database with its own
// cache) is read from the disk: its ciphertext does not stay in the backing
// page cache, as a buffered read's does.
func TestDirectReadsBypassBackingCache(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	data := make([]byte, 4<<20+100)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(z, "f"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	backing, err := os.Open(filepath.Join(v.backing, "z", "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer backing.Close()
	cached := func() uint64 {
		var cs unix.Cachestat_t
		if err := unix.Cachestat(uint(backing.Fd()), &unix.CachestatRange{}, &cs, 0); err != nil {
			t.Skipf("cachestat: %v", err)
		}
		return cs.Cache
	}
	sync := func() { unix.Sync(); os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0) }
	sync()
	var st unix.Statx_t
	if unix.Statx(int(backing.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st) != nil || st.Dio_offset_align == 0 || cached() != 0 {
		t.Skip("no direct I/O or no cold backing file here")
	}
	for _, bs := range []string{"4k", "1M"} {
		out := filepath.Join(t.TempDir(), "out")
		sh(t, "dd if="+filepath.Join(z, "f")+" of="+out+" bs="+bs+" iflag=direct 2>&1")
		if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
			t.Fatalf("dd bs=%s iflag=direct read %d bytes, not what was written", bs, len(got))
		}
		if n := cached(); n != 0 {
			t.Errorf("dd bs=%s iflag=direct left %d pages of the backing file cached", bs, n)
		}
	}
	sync()
	sh(t, "cat "+filepath.Join(z, "f")+" >/dev/null")
	if cached() == 0 {
		t.Error("a buffered read left no backing pages cached: the check above cannot fail")
	}
}
