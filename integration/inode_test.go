package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

// TestXattrInInode: on ext4 with its default 256-byte inodes, a zone file's format-2
// xattr stays inside the inode for a key name of up to 16 bytes (no xattr block, so
// listing and removing zone files costs what it costs outside zones), a longer name
// spills into a block and still works, init says nothing for a volume whose short names
// fit, a re-encryption walk keeps the compact format, and the mount's log names the key
// whose files spill.
func TestXattrInInode(t *testing.T) {
	needRoot(t)
	d := t.TempDir()
	img := filepath.Join(d, "fs.img")
	v := &volume{backing: filepath.Join(d, "backing"), mnt: filepath.Join(d, "mnt"), pw: filepath.Join(d, "pw")}
	os.Mkdir(v.backing, 0o755)
	os.Mkdir(v.mnt, 0o755)
	sh(t, "truncate -s 64M "+img+" && mkfs.ext4 -q -F -I 256 -b 4096 "+img)
	if out, err := exec.Command("mount", "-o", "loop", img, v.backing).CombinedOutput(); err != nil {
		t.Skipf("loop mount: %v %s", err, out)
	}
	t.Cleanup(func() { unix.Unmount(v.backing, unix.MNT_DETACH) })
	os.WriteFile(v.pw, []byte("correct horse\n"), 0o600)
	if out := run(t, 0, "init", v.backing, "--passphrase-file", v.pw, "--cipher", "aes-256-gcm"); strings.Contains(out, "note:") {
		t.Errorf("init on 256-byte inodes warned although 16-byte key names fit:\n%s", out)
	}
	short, long := "securelakekey", "a-key-name-of-17b"
	for _, k := range []string{short, long} {
		run(t, 0, "key", "create", k, "--backing", v.backing, "--passphrase-file", v.pw)
	}
	v.mount(t)
	data := bytes.Repeat([]byte("in the inode "), 500)
	for _, k := range []string{short, long} {
		z := filepath.Join(v.mnt, k)
		os.Mkdir(z, 0o755)
		run(t, 0, "zone", "create", z, "--key", k)
		if err := os.WriteFile(filepath.Join(z, "f"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(z, "empty"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := func(k string) (*zone.FileMeta, int) {
		b := backingXattr(t, filepath.Join(v.backing, k, "f"))
		m, err := zone.ParseFileMeta(b)
		if err != nil {
			t.Fatal(err)
		}
		return m, len(b)
	}
	blocks := func(k string) int64 {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(v.backing, k, "empty"), &st); err != nil {
			t.Fatal(err)
		}
		return st.Blocks
	}
	if m, n := meta(short); m.Format != zone.FileFormat2 || n != 44+len(short) || blocks(short) != 0 {
		t.Errorf("key %s: format %d, %d bytes, empty file takes %d blocks; want format 2, %d bytes, 0 blocks", short, m.Format, n, blocks(short), 44+len(short))
	}
	if blocks(long) == 0 {
		t.Errorf("key %s: a 61-byte xattr fit in a 256-byte inode; the probe's premise is wrong", long)
	}
	run(t, 0, "key", "roll", short, "--mount", v.mnt)
	run(t, 0, "reencrypt", "start", filepath.Join(v.mnt, short), "--wait")
	if m, _ := meta(short); m.Format != zone.FileFormat2 || m.EDEK.Key.Version != 2 {
		t.Errorf("after the walk: format %d, %s; want format 2 at version 2", m.Format, m.EDEK.Key)
	}
	v.unmount(t)
	logFile := filepath.Join(d, "mount.log")
	v.mount(t, "--log-file", logFile)
	log, _ := os.ReadFile(logFile)
	var note string
	for line := range strings.SplitSeq(string(log), "\n") {
		if strings.Contains(line, "block of its own") {
			note = line
		}
	}
	if !strings.Contains(note, long) || strings.Contains(note, short) {
		t.Errorf("the mount's log should name only key %s as spilling; it says %q", long, note)
	}
	for _, k := range []string{short, long} {
		if got, err := os.ReadFile(filepath.Join(v.mnt, k, "f")); err != nil || !bytes.Equal(got, data) {
			t.Errorf("key %s: read back after remount: %v", k, err)
		}
	}
}

// backingXattr returns the ezfs xattr of backing file p.
func backingXattr(t *testing.T, p string) []byte {
	t.Helper()
	buf := make([]byte, 512)
	n, err := unix.Lgetxattr(p, zone.XattrFile, buf)
	if err != nil {
		t.Fatalf("getxattr %s: %v", p, err)
	}
	return buf[:n]
}
