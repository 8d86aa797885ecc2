package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const marker = "PLAINTEXT-MARKER-4f1d"

// noPlaintext fails if any backing file under the zone holds the marker string.
func noPlaintext(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(marker)) {
				t.Errorf("backing file %s holds plaintext", p)
			}
		}
		return nil
	})
}

func TestTools(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	plain := filepath.Join(v.mnt, "plain")
	os.Mkdir(plain, 0o755)
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, bytes.Repeat([]byte(marker+"\n"), 5000), 0o644)

	t.Run("cp-cmp-ls", func(t *testing.T) {
		sh(t, "cp "+src+" "+z+"/a && cmp "+src+" "+z+"/a")
		out := sh(t, "ls -l "+z+"/a")
		if !strings.Contains(out, " 110000 ") {
			t.Errorf("ls -l shows no plaintext size: %s", out)
		}
	})
	t.Run("dd", func(t *testing.T) {
		sh(t, "dd if=/dev/urandom of="+z+"/rand bs=7777 count=50 status=none && dd if="+z+"/rand of="+plain+"/rand bs=1M status=none && cmp "+z+"/rand "+plain+"/rand")
		sh(t, "dd if=/dev/zero of="+z+"/rand bs=1 count=10 seek=100000 conv=notrunc status=none && cmp -n 100000 "+z+"/rand "+plain+"/rand")
	})
	t.Run("mv-exdev-copies", func(t *testing.T) {
		sh(t, "cp "+src+" "+plain+"/m && mv "+plain+"/m "+z+"/m && cmp "+src+" "+z+"/m")
		err := os.Rename(filepath.Join(z, "a"), filepath.Join(plain, "a"))
		if !errors.Is(err, syscall.EXDEV) {
			t.Errorf("rename out of zone: %v, want EXDEV", err)
		}
		if err := os.Link(filepath.Join(z, "a"), filepath.Join(plain, "l")); !errors.Is(err, syscall.EXDEV) {
			t.Errorf("link out of zone: %v, want EXDEV", err)
		}
	})
	t.Run("tar", func(t *testing.T) {
		needTool(t, "tar")
		sh(t, "mkdir -p "+z+"/t/d && cp "+src+" "+z+"/t/d/f && echo x > "+z+"/t/g && ln -s d/f "+z+"/t/s")
		sh(t, "cd "+z+" && tar cf "+plain+"/t.tar t && mkdir "+z+"/u && tar xf "+plain+"/t.tar -C "+z+"/u && diff -r "+z+"/t "+z+"/u/t")
	})
	t.Run("xattrs", func(t *testing.T) {
		needTool(t, "setfattr")
		needTool(t, "getfattr")
		sh(t, "setfattr -n user.color -v blue "+z+"/a")
		if out := sh(t, "getfattr -d "+z+"/a"); !strings.Contains(out, "user.color=\"blue\"") || strings.Contains(out, "ezfs") {
			t.Errorf("getfattr: %s", out)
		}
		if _, err := os.Stat(filepath.Join(v.mnt, ".ezfs")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf(".ezfs visible: %v", err)
		}
	})
	t.Run("modes", func(t *testing.T) {
		p := filepath.Join(z, "mode")
		for _, m := range []uint32{0, 0o640, 0o4755, 0o2711, 0o1777} {
			sh(t, fmt.Sprintf("rm -f %s && touch %s && chmod %o %s", p, p, m, p))
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err != nil || st.Mode&0o7777 != m {
				t.Errorf("chmod %o: got %o, %v", m, st.Mode&0o7777, err)
			}
		}
	})
	t.Run("file-info", func(t *testing.T) {
		var info map[string]any
		json.Unmarshal([]byte(run(t, 0, "file", "info", "--json", filepath.Join(z, "a"))), &info)
		format := map[any]float64{"aes-256-gcm": 2, "xchacha20-poly1305": 1}[info["cipher"]] // FORMAT.md "File metadata"
		if info["encrypted"] != true || info["key"] != "k" || info["key_version"] != 1.0 || info["zone"] != z || info["format"] != format {
			t.Errorf("file info: %v", info)
		}
		out := run(t, 0, "file", "info", "--json", filepath.Join(plain, "rand"))
		if strings.TrimSpace(out) != `{"path":"`+plain+`/rand","encrypted":false}` {
			t.Errorf("file info outside zones: %s", out)
		}
	})
	noPlaintext(t, filepath.Join(v.backing, "z"))
}
