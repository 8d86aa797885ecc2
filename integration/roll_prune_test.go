package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Prune is refused while a file may use an old version and allowed after a completed walk;
// the files stay readable and a pruned version is gone.
func TestRollPrune(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	fillZone(t, z, 300)
	if b, err := os.ReadFile(filepath.Join(z, "d01", "f0150")); err != nil || !strings.Contains(string(b), marker) {
		t.Fatalf("file before the roll: %q %v", b, err)
	}
	run(t, 0, "reencrypt", "start", z, "--wait") // a walk before the roll does not count
	run(t, 0, "key", "roll", "k", "--mount", v.mnt)

	_, stderr, code := ezfs("key", "prune", "k", "--below", "2", "--mount", v.mnt, "--yes")
	if code != 1 || !strings.Contains(stderr, "cannot prune key k below version 2") || !strings.Contains(stderr, "hint: ezfs reencrypt start "+z+" --wait") {
		t.Fatalf("prune before the walk: exit %d, %s", code, stderr)
	}
	run(t, 0, "reencrypt", "start", z, "--wait")
	_, stderr, code = ezfs("key", "prune", "k", "--below", "2", "--mount", v.mnt)
	if code != 1 || !strings.Contains(stderr, "--yes") {
		t.Errorf("prune without --yes and no terminal: exit %d, %s", code, stderr)
	}
	_, stderr, code = ezfs("key", "prune", "k", "--below", "3", "--mount", v.mnt, "--yes")
	if code != 1 || !strings.Contains(stderr, "current version is 2") {
		t.Errorf("prune of the current version: exit %d, %s", code, stderr)
	}
	out := run(t, 0, "key", "prune", "k", "--below", "2", "--mount", v.mnt, "--yes", "--json")
	var md struct {
		CurrentVersion int `json:"current_version"`
		Versions       []struct {
			Version int `json:"version"`
		} `json:"versions"`
	}
	if json.Unmarshal([]byte(out), &md); md.CurrentVersion != 2 || len(md.Versions) != 1 || md.Versions[0].Version != 2 {
		t.Errorf("key after prune: %s", out)
	}
	// Same mount: the inode read before the roll is still cached with its old EDEK;
	// an open re-reads the xattr the walk re-wrapped.
	if b, err := os.ReadFile(filepath.Join(z, "d01", "f0150")); err != nil || !strings.Contains(string(b), marker) {
		t.Errorf("file after prune: %q %v", b, err)
	}
	out = run(t, 0, "key", "prune", "k", "--below", "2", "--mount", v.mnt, "--yes")
	if !strings.Contains(out, "nothing to prune") {
		t.Errorf("second prune: %q", out)
	}
}

// A new zone with no walk blocks prune too, offline as well.
func TestRollPruneOffline(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	v.zone(t, "a")
	z := v.zone(t, "b")
	os.WriteFile(filepath.Join(z, "f"), []byte(marker), 0o644)
	v.unmount(t)
	off := []string{"--backing", v.backing, "--passphrase-file", v.pw}
	run(t, 0, append([]string{"key", "roll", "k"}, off...)...)
	_, stderr, code := ezfs(append([]string{"key", "prune", "k", "--below", "2", "--yes"}, off...)...)
	if code != 1 || !strings.Contains(stderr, "zone "+v.backing+"/a, "+v.backing+"/b ") || !strings.Contains(stderr, "ezfs reencrypt run "+v.backing+" a") {
		t.Fatalf("offline prune before walks: exit %d, %s", code, stderr)
	}
	for _, zn := range []string{"a", "b"} {
		run(t, 0, "reencrypt", "run", v.backing, zn, "--passphrase-file", v.pw)
	}
	run(t, 0, append([]string{"key", "prune", "k", "--below", "2", "--yes"}, off...)...)
	v.mount(t)
	if b, err := os.ReadFile(filepath.Join(z, "f")); err != nil || string(b) != marker {
		t.Errorf("file after offline prune: %q %v", b, err)
	}
}

// ezfs keeps the key store private: every key-store file, written by init and the offline
// commands or by the daemon (a key roll, walk checkpoints, the memtable flushed at
// unmount), is 0600, although entries made through the mount get exactly the caller's mode.
func TestKeyStoreModes(t *testing.T) {
	v := newVolume(t)
	ks := filepath.Join(v.backing, ".ezfs", "keystore")
	before, _ := os.ReadDir(ks)
	v.mount(t)
	z := v.zone(t, "z")
	fillZone(t, z, 50)
	run(t, 0, "key", "roll", "k", "--mount", v.mnt)
	run(t, 0, "reencrypt", "start", z, "--wait")
	sh(t, "umask 0 && touch "+filepath.Join(z, "wide")+" && mkdir "+filepath.Join(v.mnt, "wide"))
	for p, want := range map[string]os.FileMode{filepath.Join(z, "wide"): 0o666, filepath.Join(v.mnt, "wide"): 0o777 | os.ModeDir} {
		if st, err := os.Stat(p); err != nil || st.Mode() != want {
			t.Errorf("%s through the mount: %v %v, want %v", p, st.Mode(), err, want)
		}
	}
	v.unmount(t)
	entries, err := os.ReadDir(ks)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]bool{}
	for _, e := range before {
		old[e.Name()] = true
	}
	written := 0
	for _, e := range entries {
		if !old[e.Name()] {
			written++
		}
		if info, err := e.Info(); err == nil && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Join(ks, e.Name()), info.Mode().Perm())
		}
	}
	if written == 0 {
		t.Errorf("the daemon wrote no new key-store file (%d entries)", len(entries))
	}
}
