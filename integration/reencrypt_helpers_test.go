package integration

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

// walkJSON is the status object of `ezfs reencrypt status --json`.
type walkJSON struct {
	Zone          string     `json:"zone"`
	State         string     `json:"state"`
	Key           string     `json:"key"`
	TargetVersion uint32     `json:"target_version"`
	Submitted     *time.Time `json:"submitted"`
	Started       *time.Time `json:"started"`
	Completed     *time.Time `json:"completed"`
	Reencrypted   uint64     `json:"reencrypted"`
	Skipped       uint64     `json:"skipped"`
	Failed        uint64     `json:"failed"`
	Failures      []struct {
		Path   string `json:"path"`
		Reason string `json:"reason"`
	} `json:"failures"`
	Seen       uint64  `json:"seen"`
	Rate       float64 `json:"rate"`
	Checkpoint string  `json:"checkpoint"`
}

// rolledZone mounts a fresh volume whose zone "z" holds n files (fillZone) and rolls its key
// k to version 2, so that a walk has every file to move. It returns the volume and the
// zone's path in the mount.
func rolledZone(t *testing.T, n int) (*volume, string) {
	t.Helper()
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	fillZone(t, z, n)
	run(t, 0, "key", "roll", "k", "--mount", v.mnt)
	return v, z
}

// fill creates n files of distinct content in dir, spread over subdirectories of 100.
func fillZone(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", i)), []byte(fmt.Sprintf("file %d %s\n", i, marker)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sums returns the sha256 of every regular file under dir (read through the mount).
func zoneSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		out[strings.TrimPrefix(p, dir)] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// versions counts the files under backing directory dir per key version, read from their
// xattrs.
func zoneVersions(t *testing.T, dir string) map[uint32]int {
	t.Helper()
	out := map[uint32]int{}
	buf := make([]byte, 1024)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		n, err := unix.Lgetxattr(p, zone.XattrFile, buf)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		m, err := zone.ParseFileMeta(buf[:n])
		if err != nil {
			return err
		}
		out[m.EDEK.Key.Version]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// onlyVersion fails unless every file under backing dir dir is on key version v.
func onlyVersion(t *testing.T, dir string, v uint32) {
	t.Helper()
	got := zoneVersions(t, dir)
	for ver := range got {
		if ver != v {
			t.Fatalf("files per key version in %s: %v, want all on %d", dir, got, v)
		}
	}
}

// status returns the walk status of zone z.
func walkOf(t *testing.T, z string) walkJSON {
	t.Helper()
	var st walkJSON
	if err := json.Unmarshal([]byte(run(t, 0, "reencrypt", "status", z, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitStatus polls zone z's walk until ok says so.
func waitWalk(t *testing.T, z string, what string, ok func(walkJSON) bool) walkJSON {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st walkJSON
		out, stderr, code := ezfs("reencrypt", "status", z, "--json")
		if code != 0 && !strings.Contains(stderr, "has no re-encryption walk") {
			t.Fatalf("reencrypt status %s: exit %d, %s", z, code, stderr)
		}
		if json.Unmarshal([]byte(out), &st) == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("walk of %s: waited for %s, status %+v", z, what, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// daemonPID returns the pid of the daemon serving v.
func (v *volume) daemonPID(t *testing.T) int {
	t.Helper()
	for _, pid := range ezfsPIDs() {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), v.backing) {
			return pid
		}
	}
	t.Fatal("no daemon for " + v.backing)
	return 0
}

// kill9 kills v's daemon with SIGKILL and detaches its dead mount.
func (v *volume) kill9(t *testing.T) {
	t.Helper()
	pid := v.daemonPID(t)
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if strings.Contains(string(stat), ") Z ") {
			break
		}
	}
	exec.Command("umount", "-l", v.mnt).Run()
}
