package zone_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
)

// TestXattrFitsInInode: tmpfs and ext4 with 512-byte inodes keep a file
// xattr with the inode; ext4 with 256-byte inodes keeps a format-2 xattr
// with a 16-byte key name there, and needs a block for a longer name or a
// format-1 xattr.
func TestXattrFitsInInode(t *testing.T) {
	aes16 := zone.MetaLen(chunk.AES256GCM, strings.Repeat("k", 16))
	aes17 := zone.MetaLen(chunk.AES256GCM, strings.Repeat("k", 17))
	xchacha := zone.MetaLen(chunk.XChaCha20Poly1305, "k")
	if aes16 != 60 || aes17 != 61 || xchacha != 101 {
		t.Fatalf("MetaLen = %d, %d, %d; want 60, 61, 101", aes16, aes17, xchacha)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount file systems")
	}
	for _, tc := range []struct {
		name  string
		mount func(t *testing.T, dir string) error
		want  [3]bool // aes16, aes17, xchacha
	}{
		{"tmpfs", func(t *testing.T, dir string) error { return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m") }, [3]bool{true, true, true}},
		{"ext4-256", func(t *testing.T, dir string) error { return mountExt4(t, dir, "256") }, [3]bool{true, false, false}},
		{"ext4-512", func(t *testing.T, dir string) error { return mountExt4(t, dir, "512") }, [3]bool{true, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.mount(t, dir); err != nil {
				t.Skipf("mount: %v", err)
			}
			defer syscall.Unmount(dir, syscall.MNT_DETACH)
			for i, n := range []int{aes16, aes17, xchacha} {
				fits, err := zone.XattrFitsInInode(dir, n)
				if err != nil || fits != tc.want[i] {
					t.Fatalf("%d bytes: fits=%v err=%v, want %v", n, fits, err, tc.want[i])
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) > 1 { // ext4 has lost+found
				t.Fatalf("the probe left entries behind: %v", ents)
			}
		})
	}
}

// mountExt4 mounts a fresh 16 MiB ext4 image with the given inode size on dir.
func mountExt4(t *testing.T, dir, inodeSize string) error {
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		return err
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		return err
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-I", inodeSize, img).CombinedOutput(); err != nil {
		return &exec.Error{Name: "mkfs.ext4: " + string(out), Err: err}
	}
	return exec.Command("mount", "-o", "loop", img, dir).Run()
}
