package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// volume is a backing directory, a mount point and the passphrase file of one test.
type volume struct {
	backing, mnt, pw string
}

// needRoot skips tests that must mount directly.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration tests mount for real and need root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
}

// newVolume initialises a volume with a fast KDF and key "k".
func newVolume(t *testing.T) *volume {
	needRoot(t)
	d := t.TempDir()
	v := &volume{backing: filepath.Join(d, "backing"), mnt: filepath.Join(d, "mnt"), pw: filepath.Join(d, "pw")}
	os.Mkdir(v.backing, 0o755)
	os.Mkdir(v.mnt, 0o755)
	os.WriteFile(v.pw, []byte("correct horse\n"), 0o600)
	run(t, 0, "init", v.backing, "--passphrase-file", v.pw)
	run(t, 0, "key", "create", "k", "--backing", v.backing, "--passphrase-file", v.pw)
	return v
}

// mount mounts v (the command returns when the mount is ready) and unmounts it in
// cleanup, lazily if need be.
func (v *volume) mount(t *testing.T, extra ...string) {
	t.Helper()
	run(t, 0, append([]string{"mount", v.backing, v.mnt, "--passphrase-file", v.pw}, extra...)...)
	t.Cleanup(func() { v.unmount(t) })
}

// unmount unmounts v if it is mounted, and checks the daemon is gone.
func (v *volume) unmount(t *testing.T) {
	t.Helper()
	if !mounted(v.mnt) {
		return
	}
	if _, stderr, code := ezfs("unmount", v.mnt); code != 0 {
		t.Errorf("ezfs unmount: %s", stderr)
		exec.Command("umount", "-l", v.mnt).Run()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(ezfsPIDs()) > 0 && time.Now().Before(deadline) && mounted(v.mnt) {
		time.Sleep(20 * time.Millisecond)
	}
	if mounted(v.mnt) {
		t.Errorf("%s still mounted", v.mnt)
	}
}

// mounted reports whether dir is a mount point in /proc/mounts.
func mounted(dir string) bool {
	b, _ := os.ReadFile("/proc/mounts")
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

// ezfs runs the binary and returns stdout, stderr and the exit status.
func ezfs(args ...string) (string, string, int) {
	return ezfsEnv(append(os.Environ(), "EZFS_TEST_FAST_KDF=1"), args...)
}

// ezfsEnv runs the binary with environment env and returns stdout, stderr and the exit
// status (-1 if it could not run).
func ezfsEnv(env []string, args ...string) (string, string, int) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return out.String(), errb.String(), code
}

// run runs ezfs and fails the test unless it exits with want; it returns stdout.
func run(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, _ := checkExit(t, want, args, ezfs)
	return out
}

// checkExit runs args with runner and fails the test unless it exits with want; it returns
// stdout and stderr.
func checkExit(t testing.TB, want int, args []string, runner func(...string) (string, string, int)) (string, string) {
	t.Helper()
	out, errOut, code := runner(args...)
	if code != want {
		t.Fatalf("ezfs %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

// sh runs a shell command and fails the test if it fails; it returns the output.
func sh(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// needTool skips the (sub)test when a program is missing.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (apt-get install %s)", name, map[string]string{"setfattr": "attr", "getfattr": "attr"}[name])
	}
}

// zone makes dir (under the mount) a zone with key k and returns its path.
func (v *volume) zone(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(v.mnt, name)
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, 0, "zone", "create", p, "--key", "k")
	return p
}
