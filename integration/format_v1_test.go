package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFormatV1Samples mounts the frozen sample volumes of format 1 (testdata/v1-*, made
// once and never regenerated: every later release must still read them). Git keeps no
// xattrs, so each sample carries them in xattrs.dump and the test restores them with
// setfattr; SHA256SUMS holds the plaintext digests taken when the sample was written.
func TestFormatV1Samples(t *testing.T) {
	needRoot(t)
	needTool(t, "setfattr")
	samples, _ := filepath.Glob("testdata/v1-*")
	if len(samples) == 0 {
		t.Fatal("no sample volumes in testdata")
	}
	for _, sample := range samples {
		t.Run(filepath.Base(sample), func(t *testing.T) {
			abs, _ := filepath.Abs(sample)
			v := &volume{backing: filepath.Join(t.TempDir(), "backing"), mnt: filepath.Join(t.TempDir(), "mnt"), pw: filepath.Join(abs, "pw")}
			sh(t, "cp -a "+abs+"/backing "+v.backing+" && mkdir "+v.mnt)
			sh(t, "cd "+v.backing+" && setfattr --restore="+abs+"/xattrs.dump")
			v.mount(t)
			cmd := exec.Command("sha256sum", "--quiet", "-c", filepath.Join(abs, "SHA256SUMS"))
			cmd.Dir = v.mnt
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sha256sum -c: %v\n%s", err, out)
			}
			if l, err := os.Readlink(filepath.Join(v.mnt, "secure/link")); err != nil || l != "one.txt" {
				t.Errorf("secure/link -> %q, %v; want one.txt", l, err)
			}
			for file, want := range map[string]float64{"one.txt": 1, "v2.txt": 2} {
				var info map[string]any
				out := run(t, 0, "file", "info", filepath.Join(v.mnt, "secure", file), "--json")
				if err := json.Unmarshal([]byte(out), &info); err != nil || info["key_version"] != want || info["format"] != 1.0 {
					t.Errorf("file info %s: %s (%v); want key_version %v, format 1", file, out, err, want)
				}
			}
		})
	}
}
