package integration

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const sealed = 4096 + 40 // one sealed chunk of the default layout

// tamperVolume writes zone files a and b of three chunks each, unmounts, runs tamper
// on the backing zone directory, and mounts again.
func tamperVolume(t *testing.T, tamper func(dir string)) string {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	for _, n := range []string{"a", "b"} {
		os.WriteFile(filepath.Join(z, n), bytes.Repeat([]byte(n), 3*4096), 0o644)
	}
	v.unmount(t)
	tamper(filepath.Join(v.backing, "z"))
	v.mount(t)
	return z
}

// readChunk reads chunk i of file p.
func readChunk(p string, i int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadAt(make([]byte, 4096), i*4096)
	return err
}

func TestTamperFlip(t *testing.T) {
	z := tamperVolume(t, func(dir string) {
		f, _ := os.OpenFile(filepath.Join(dir, "a"), os.O_RDWR, 0)
		defer f.Close()
		b := make([]byte, 1)
		f.ReadAt(b, sealed+100)
		f.WriteAt([]byte{b[0] ^ 1}, sealed+100)
	})
	p := filepath.Join(z, "a")
	for i, want := range []error{nil, syscall.EIO, nil} {
		if err := readChunk(p, int64(i)); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("chunk %d: %v, want %v", i, err, want)
		}
	}
}

func TestTamperMoveXattr(t *testing.T) {
	z := tamperVolume(t, func(dir string) {
		buf := make([]byte, 1024)
		n, err := unix.Getxattr(filepath.Join(dir, "a"), "user.ezfs.file", buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Setxattr(filepath.Join(dir, "b"), "user.ezfs.file", buf[:n], 0); err != nil {
			t.Fatal(err)
		}
	})
	if err := readChunk(filepath.Join(z, "b"), 0); !errors.Is(err, syscall.EIO) {
		t.Errorf("file with another file's xattr: %v, want EIO", err)
	}
	if err := readChunk(filepath.Join(z, "a"), 0); err != nil {
		t.Errorf("the xattr's own file: %v", err)
	}
}

func TestTamperTruncate(t *testing.T) {
	z := tamperVolume(t, func(dir string) {
		os.Truncate(filepath.Join(dir, "a"), 2*sealed+1000)
	})
	p := filepath.Join(z, "a")
	if err := readChunk(p, 0); err != nil {
		t.Errorf("chunk 0: %v", err)
	}
	_, err := os.ReadFile(p)
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("read to the cut end: %v, want EIO", err)
	}
}

func TestTamperNoXattr(t *testing.T) {
	z := tamperVolume(t, func(dir string) {
		unix.Removexattr(filepath.Join(dir, "a"), "user.ezfs.file")
	})
	if _, err := os.ReadFile(filepath.Join(z, "a")); !errors.Is(err, syscall.EIO) {
		t.Errorf("zone file without xattr: %v, want EIO", err)
	}
}
