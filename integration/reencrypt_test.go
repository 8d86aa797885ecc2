package integration

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Roll, then create: the new file gets the new version at once, the old file keeps its
// version and stays readable (issue 4 "Roll").
func TestRollThenCreate(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	z := v.zone(t, "z")
	old := filepath.Join(z, "old")
	os.WriteFile(old, []byte(marker), 0o644)
	run(t, 0, "key", "roll", "k", "--mount", v.mnt)
	fresh := filepath.Join(z, "new")
	os.WriteFile(fresh, []byte("new"), 0o644)
	for p, want := range map[string]int{old: 1, fresh: 2} {
		var info struct {
			Key        string `json:"key"`
			KeyVersion int    `json:"key_version"`
		}
		json.Unmarshal([]byte(run(t, 0, "file", "info", p, "--json")), &info)
		if info.Key != "k" || info.KeyVersion != want {
			t.Errorf("%s: %+v, want k@%d", p, info, want)
		}
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != marker {
		t.Errorf("old file after roll: %q %v", b, err)
	}
}

// A walk moves every file to the target version without changing a byte; status and zone
// list report it; a second start while it runs is refused.
func TestReencryptWalk(t *testing.T) {
	v, z := rolledZone(t, 3000)
	before := zoneSums(t, z)

	out := run(t, 0, "reencrypt", "start", z, "--rate", "3000")
	if !strings.Contains(out, "submitted") {
		t.Errorf("start: %q", out)
	}
	_, stderr, code := ezfs("reencrypt", "start", z)
	if code != 1 || !strings.Contains(stderr, "already being re-encrypted") {
		t.Errorf("second start while running: exit %d, %s", code, stderr)
	}
	st := waitWalk(t, z, "completed", func(s walkJSON) bool { return s.State == "completed" })
	if st.Zone != z || st.Key != "k" || st.TargetVersion != 2 || st.Reencrypted != 3000 || st.Failed != 0 || st.Seen != 3000 ||
		st.Started == nil || st.Completed == nil || st.Failures == nil || st.Rate <= 0 || st.Checkpoint == "" {
		t.Errorf("status after walk: %+v", st)
	}
	onlyVersion(t, filepath.Join(v.backing, "z"), 2)
	if after := zoneSums(t, z); !maps.Equal(before, after) {
		t.Error("contents changed by the walk")
	}

	var fields map[string]any
	json.Unmarshal([]byte(run(t, 0, "reencrypt", "status", z, "--json")), &fields)
	for _, f := range []string{"zone", "state", "key", "target_version", "submitted", "started", "completed", "reencrypted",
		"skipped", "failed", "failures", "seen", "rate", "checkpoint"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("status --json lacks %q: %v", f, fields)
		}
	}
	var all []walkJSON
	if err := json.Unmarshal([]byte(run(t, 0, "reencrypt", "status", "--mount", v.mnt, "--json")), &all); err != nil || len(all) != 1 {
		t.Errorf("status of all zones: %v %+v", err, all)
	}
	var zones []struct {
		Versions map[string]int `json:"versions"`
		LastWalk *string        `json:"last_walk"`
	}
	json.Unmarshal([]byte(run(t, 0, "zone", "list", v.mnt, "--json")), &zones)
	if len(zones) != 1 || zones[0].Versions["2"] != 3000 || len(zones[0].Versions) != 1 || zones[0].LastWalk == nil {
		t.Errorf("zone list after walk: %+v", zones)
	}

	// Again with --wait: nothing to do, exit 0, a summary.
	out = run(t, 0, "reencrypt", "start", z, "--wait")
	if !strings.Contains(out, "completed: 3000 files seen, 0 re-encrypted, 3000 skipped, 0 failed") {
		t.Errorf("start --wait summary: %q", out)
	}
}

// Cancel stops a walk with its counts and checkpoint; start carries on and completes.
func TestReencryptCancelRestart(t *testing.T) {
	v, z := rolledZone(t, 2000)
	run(t, 0, "reencrypt", "start", z, "--rate", "400", "--batch", "100")
	waitWalk(t, z, "progress", func(s walkJSON) bool { return s.Seen >= 200 })
	run(t, 0, "reencrypt", "cancel", z)
	st := walkOf(t, z)
	if st.State != "cancelled" || st.Seen == 0 || st.Reencrypted == 0 || st.Seen >= 2000 || st.Checkpoint == "" {
		t.Fatalf("after cancel: %+v", st)
	}
	_, stderr, code := ezfs("reencrypt", "cancel", z)
	if code != 1 || !strings.Contains(stderr, "not running") {
		t.Errorf("cancel of a cancelled walk: exit %d, %s", code, stderr)
	}
	out := run(t, 0, "reencrypt", "start", z, "--wait", "--json")
	var end walkJSON
	if err := json.Unmarshal([]byte(out), &end); err != nil || end.State != "completed" || end.Seen != 2000 || end.Reencrypted != 2000 {
		t.Errorf("restarted walk: %v %+v", err, end)
	}
	onlyVersion(t, filepath.Join(v.backing, "z"), 2)
}

// kill -9 of the daemon mid-walk: the next mount resumes the walk by itself from its
// checkpoint, and every file ends on the target, readable.
func TestReencryptKillResume(t *testing.T) {
	v, z := rolledZone(t, 3000)
	before := zoneSums(t, z)
	run(t, 0, "reencrypt", "start", z, "--rate", "500", "--batch", "100")
	waitWalk(t, z, "progress", func(s walkJSON) bool { return s.Seen >= 300 })
	v.kill9(t)
	if mounted(v.mnt) {
		t.Fatal("still mounted after kill -9 and umount -l")
	}
	v.mount(t)
	st := walkOf(t, z)
	if st.State != "processing" && st.State != "submitted" && st.State != "completed" || st.Seen < 100 {
		t.Errorf("after remount: %+v (want the walk resumed from its checkpoint)", st)
	}
	st = waitWalk(t, z, "completed", func(s walkJSON) bool { return s.State == "completed" })
	if st.Seen != 3000 || st.Failed != 0 {
		t.Errorf("resumed walk: %+v", st)
	}
	onlyVersion(t, filepath.Join(v.backing, "z"), 2)
	if after := zoneSums(t, z); !maps.Equal(before, after) {
		t.Error("contents changed across the kill and resume")
	}
}

// --wait exits 1 for a walk that someone cancels.
func TestReencryptWaitCancelled(t *testing.T) {
	_, z := rolledZone(t, 1000)
	done := make(chan struct{})
	var code int
	var stderr string
	go func() {
		_, stderr, code = ezfs("reencrypt", "start", z, "--wait", "--rate", "200")
		close(done)
	}()
	waitWalk(t, z, "progress", func(s walkJSON) bool { return s.State == "processing" && s.Seen > 0 })
	run(t, 0, "reencrypt", "cancel", z)
	<-done
	if code != 1 || !strings.Contains(stderr, "cancelled") {
		t.Errorf("--wait on a cancelled walk: exit %d, %s", code, stderr)
	}
}
