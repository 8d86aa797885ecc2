package zone_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ezfs/ezfs/zone"
)

// TestXattrFitsInInode: tmpfs and ext4 with 512-byte inodes keep a file
// xattr with the inode; ext4 with 256-byte inodes needs a block for it.
func TestXattrFitsInInode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount file systems")
	}
	for _, tc := range []struct {
		name  string
		mount func(t *testing.T, dir string) error
		want  bool
	}{
		{"tmpfs", func(t *testing.T, dir string) error { return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m") }, true},
		{"ext4-256", func(t *testing.T, dir string) error { return mountExt4(t, dir, "256") }, false},
		{"ext4-512", func(t *testing.T, dir string) error { return mountExt4(t, dir, "512") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.mount(t, dir); err != nil {
				t.Skipf("mount: %v", err)
			}
			defer syscall.Unmount(dir, syscall.MNT_DETACH)
			fits, err := zone.XattrFitsInInode(dir)
			if err != nil || fits != tc.want {
				t.Fatalf("fits=%v err=%v, want %v", fits, err, tc.want)
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
