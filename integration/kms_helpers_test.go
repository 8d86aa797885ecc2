package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys/awskms/kmstest"
)

// kmsEnv is a KMS test server in this process and the environment under which ezfs (and
// the daemon it starts) reaches it: static credentials, the server's endpoint, no shared
// config, no instance metadata (DECISIONS.md "Tests and CI"), two attempts per call.
type kmsEnv struct {
	srv *kmstest.Server
	key string // key ARN; alias/ezfs points at it
	env []string
}

func newKMSEnv(t testing.TB) *kmsEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration tests mount for real and need root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	srv := kmstest.Start(t)
	k := &kmsEnv{srv: srv, key: srv.CreateKey("ezfs integration")}
	if err := srv.CreateAlias("alias/ezfs", k.key); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") {
			k.env = append(k.env, e)
		}
	}
	k.env = append(k.env, "EZFS_TEST_FAST_KDF=1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION="+kmstest.Region, "AWS_ENDPOINT_URL_KMS="+srv.URL(), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_MAX_ATTEMPTS=2")
	return k
}

// ezfs runs the binary in the KMS environment: stdout, stderr, exit status.
func (k *kmsEnv) ezfs(args ...string) (string, string, int) { return ezfsEnv(k.env, args...) }

// run runs ezfs and fails the test unless it exits with want; it returns stdout and stderr.
func (k *kmsEnv) run(t testing.TB, want int, args ...string) (string, string) {
	t.Helper()
	return checkExit(t, want, args, k.ezfs)
}

// kmsVolume initialises a volume under spec (awskms:...), with zone key "k".
func (k *kmsEnv) volume(t testing.TB, spec string) *volume {
	t.Helper()
	d := t.TempDir()
	v := &volume{backing: filepath.Join(d, "backing"), mnt: filepath.Join(d, "mnt"), pw: filepath.Join(d, "pw")}
	os.Mkdir(v.backing, 0o755)
	os.Mkdir(v.mnt, 0o755)
	k.run(t, 0, "init", v.backing, "--main-key", spec)
	k.run(t, 0, "key", "create", "k", "--backing", v.backing)
	return v
}

// mount mounts v in the KMS environment with extra flags and unmounts it in cleanup.
func (k *kmsEnv) mount(t testing.TB, v *volume, extra ...string) {
	t.Helper()
	k.run(t, 0, append([]string{"mount", v.backing, v.mnt}, extra...)...)
	t.Cleanup(func() { k.unmount(t, v) })
}

// unmount unmounts v if it is mounted and waits until it is gone (lazily if need be).
func (k *kmsEnv) unmount(t testing.TB, v *volume) {
	t.Helper()
	if !mounted(v.mnt) {
		return
	}
	if _, stderr, code := k.ezfs("unmount", v.mnt); code != 0 {
		t.Errorf("ezfs unmount: %s", stderr)
		exec.Command("umount", "-l", v.mnt).Run()
	}
	deadline := time.Now().Add(5 * time.Second)
	for mounted(v.mnt) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if mounted(v.mnt) {
		t.Errorf("%s still mounted", v.mnt)
	}
}

// writeFiles writes n small files named f0.. into dir and returns their contents.
func writeFiles(t testing.TB, dir string, n int) map[string]string {
	t.Helper()
	want := map[string]string{}
	for i := range n {
		p := filepath.Join(dir, "f"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+strconv.Itoa(i))
		want[p] = strings.Repeat(p, 1+i%50)
		if err := os.WriteFile(p, []byte(want[p]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// readFiles fails the test unless every file holds what want says.
func readFiles(t *testing.T, want map[string]string) {
	t.Helper()
	for p, w := range want {
		got, err := os.ReadFile(p)
		if err != nil || string(got) != w {
			t.Fatalf("%s: %v (read %d bytes, want %d)", p, err, len(got), len(w))
		}
	}
}
