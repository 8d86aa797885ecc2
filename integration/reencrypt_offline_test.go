package integration

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reencrypt run walks an unmounted volume in the foreground; SIGINT cancels it with exit
// 130 and a later run carries on.
func TestReencryptRunOffline(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	fillZone(t, z, 2000)
	before := zoneSums(t, z)
	v.unmount(t)
	off := []string{"--backing", v.backing, "--passphrase-file", v.pw}
	run(t, 0, append([]string{"key", "roll", "k"}, off...)...)

	cmd := exec.Command(bin, "reencrypt", "run", v.backing, "z", "--passphrase-file", v.pw, "--rate", "500", "--batch", "50")
	cmd.Env = append(os.Environ(), "EZFS_TEST_FAST_KDF=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGUSR1)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "cancelled") || !strings.Contains(stderr.String(), "checkpoint:") {
		t.Fatalf("run interrupted: exit %d\n%s", code, stderr.String())
	}
	var st walkJSON
	json.Unmarshal([]byte(run(t, 0, append([]string{"reencrypt", "status", "z", "--json"}, off...)...)), &st)
	if st.State != "cancelled" || st.Seen == 0 || st.Seen >= 2000 {
		t.Fatalf("status after SIGINT: %+v", st)
	}

	out := run(t, 0, "reencrypt", "run", v.backing, filepath.Join(v.backing, "z"), "--passphrase-file", v.pw, "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State != "completed" || st.Seen != 2000 || st.Reencrypted != 2000 || st.Failed != 0 {
		t.Errorf("run --json: %v %s", err, out)
	}
	onlyVersion(t, filepath.Join(v.backing, "z"), 2)
	_, stderr2, code := ezfs("reencrypt", "run", v.backing, "nozone", "--passphrase-file", v.pw)
	if code != 1 || !strings.Contains(stderr2, "not an encryption zone") {
		t.Errorf("run on a non-zone: exit %d, %s", code, stderr2)
	}
	v.mount(t)
	if after := zoneSums(t, z); !maps.Equal(before, after) {
		t.Error("contents changed by the offline walk")
	}
	_, stderr2, code = ezfs("reencrypt", "run", v.backing, "z", "--passphrase-file", v.pw)
	if code != 1 || !strings.Contains(stderr2, "mounted") {
		t.Errorf("run on a mounted volume: exit %d, %s", code, stderr2)
	}
}

// key backup saves the key store (mounted or not); key restore puts it back only offline,
// only for the same volume, and asks before losing versions made since.
func TestKeyBackupRestore(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	os.WriteFile(filepath.Join(z, "f"), []byte(marker), 0o644)
	bk := filepath.Join(t.TempDir(), "keys.backup")
	run(t, 0, "key", "backup", "--out", bk, "--mount", v.mnt)
	if fi, err := os.Stat(bk); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	_, stderr, code := ezfs("key", "restore", bk, "--backing", v.backing)
	if code != 1 || !strings.Contains(stderr, "only on an unmounted volume") {
		t.Errorf("restore while mounted: exit %d, %s", code, stderr)
	}
	run(t, 0, "key", "roll", "k", "--mount", v.mnt)
	v.unmount(t)

	_, stderr, code = ezfs("key", "restore", bk, "--backing", v.backing)
	if code != 1 || !strings.Contains(stderr, "k@2") || !strings.Contains(stderr, "--yes") {
		t.Errorf("restore losing k@2: exit %d, %s", code, stderr)
	}
	other := newVolume(t)
	_, stderr, code = ezfs("key", "restore", bk, "--backing", other.backing, "--yes")
	if code != 1 || !strings.Contains(stderr, "is a backup of volume") {
		t.Errorf("restore onto another volume: exit %d, %s", code, stderr)
	}
	offBk := filepath.Join(t.TempDir(), "offline.backup")
	run(t, 0, "key", "backup", "--out", offBk, "--backing", v.backing)
	run(t, 0, "key", "restore", bk, "--backing", v.backing, "--yes")
	var md struct {
		CurrentVersion int `json:"current_version"`
	}
	json.Unmarshal([]byte(run(t, 0, "key", "describe", "k", "--backing", v.backing, "--passphrase-file", v.pw, "--json")), &md)
	if md.CurrentVersion != 1 {
		t.Errorf("after restore: current version %d, want 1", md.CurrentVersion)
	}
	run(t, 0, "key", "restore", offBk, "--backing", v.backing)
	v.mount(t)
	if b, err := os.ReadFile(filepath.Join(z, "f")); err != nil || string(b) != marker {
		t.Errorf("file after restores: %q %v", b, err)
	}
}
