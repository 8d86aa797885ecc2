package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKMSVolume: init, mount and use a zone of a KMS volume with no passphrase; one Decrypt
// per zone-key version at mount, none per file; KMS down while mounted keeps serving.
func TestKMSVolume(t *testing.T) {
	k := newKMSEnv(t)
	v := k.volume(t, "awskms:"+k.key)
	k.srv.ResetCalls()
	k.mount(t, v)
	if n, d := k.srv.TotalCalls(), k.srv.Calls("Decrypt"); n != 1 || d != 1 {
		t.Errorf("mount made %d KMS calls (%d Decrypt), want one Decrypt", n, d)
	}
	z := v.zone(t, "secure")
	want := writeFiles(t, z, 100)
	readFiles(t, want)
	if n := k.srv.TotalCalls(); n != 1 {
		t.Errorf("100 creates made %d more KMS calls", n-1)
	}

	k.srv.Down()
	more := writeFiles(t, filepath.Join(z), 10) // new files while KMS is down
	readFiles(t, want)
	readFiles(t, more)
	_, stderr := k.run(t, 1, "key", "roll", "k", "--mount", v.mnt)
	if !strings.Contains(stderr, "cannot reach KMS") || strings.Count(stderr, "ezfs: error:") != 1 {
		t.Errorf("key roll with KMS down: %s", stderr)
	}
	if err := k.srv.Up(); err != nil {
		t.Fatal(err)
	}
	k.unmount(t, v)
	k.mount(t, v)
	readFiles(t, want)
	b, _ := os.ReadFile(filepath.Join(v.backing, ".ezfs", "config.json"))
	if !strings.Contains(string(b), `"provider": "awskms"`) {
		t.Errorf("config.json: %s", b)
	}
}

// TestKMSDownAtMount: no KMS, no mount; one clear line, exit 1, nothing left behind.
func TestKMSDownAtMount(t *testing.T) {
	k := newKMSEnv(t)
	v := k.volume(t, "awskms:alias/ezfs")
	k.srv.Down()
	_, stderr := k.run(t, 1, "mount", v.backing, v.mnt)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if !strings.HasPrefix(lines[0], "ezfs: error: cannot unlock the zone keys of") || !strings.Contains(lines[0], "cannot reach KMS at http://127.0.0.1") {
		t.Errorf("stderr: %s", stderr)
	}
	if mounted(v.mnt) {
		k.unmount(t, v)
		t.Fatal("mounted without KMS")
	}
}

// TestKMSErrors: each KMS failure names the key and the remedy, at mount and in
// `mainkey check`; throttling is retried.
func TestKMSErrors(t *testing.T) {
	k := newKMSEnv(t)
	v := k.volume(t, "awskms:"+k.key)
	mountErr := func(t *testing.T, want ...string) {
		t.Helper()
		_, stderr := k.run(t, 1, "mount", v.backing, v.mnt)
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("mount: stderr lacks %q:\n%s", w, stderr)
			}
		}
	}
	t.Run("disabled", func(t *testing.T) {
		k.srv.DisableKey(k.key)
		defer k.srv.EnableKey(k.key)
		mountErr(t, "kms:Decrypt on "+k.key, "key is disabled", "ezfs: hint: aws kms enable-key --key-id "+k.key)
		out, _ := k.run(t, 1, "mainkey", "check", "--backing", v.backing)
		if !strings.Contains(out, "FAILED kms:DescribeKey") {
			t.Errorf("check: %s", out)
		}
	})
	t.Run("pending-deletion", func(t *testing.T) {
		k.srv.ScheduleDeletion(k.key)
		defer func() { k.srv.CancelDeletion(k.key); k.srv.EnableKey(k.key) }()
		mountErr(t, "key is pending deletion", "aws kms cancel-key-deletion --key-id "+k.key)
	})
	t.Run("access-denied", func(t *testing.T) {
		k.srv.Deny("kms:Decrypt")
		defer k.srv.Allow("kms:Decrypt")
		mountErr(t, "access denied: allow kms:Decrypt", "ezfs: hint: ezfs mainkey policy")
		out, stderr := k.run(t, 1, "mainkey", "check", "--backing", v.backing)
		if !strings.Contains(out, "FAILED kms:Decrypt") || strings.Contains(out, "FAILED kms:Encrypt") ||
			!strings.Contains(stderr, "kms:Decrypt failed") {
			t.Errorf("check:\n%s\n%s", out, stderr)
		}
	})
	t.Run("not-found", func(t *testing.T) {
		d := t.TempDir()
		_, stderr := k.run(t, 1, "init", d, "--main-key", "awskms:alias/nope")
		if !strings.Contains(stderr, "alias/nope") || !strings.Contains(stderr, "key not found") {
			t.Errorf("init under a missing alias: %s", stderr)
		}
	})
	t.Run("throttled-retried", func(t *testing.T) {
		k.srv.Throttle(1)
		k.mount(t, v)
		k.unmount(t, v)
	})
	t.Run("check-ok", func(t *testing.T) {
		out, _ := k.run(t, 0, "mainkey", "check", "--backing", v.backing)
		if !strings.Contains(out, "state:    Enabled") || !strings.Contains(out, "ok:") {
			t.Errorf("check: %s", out)
		}
	})
}

// TestMainkeyRotate: passphrase → KMS (mounted) → passphrase (offline); the old secret is
// refused afterwards and every file stays readable.
func TestMainkeyRotate(t *testing.T) {
	k := newKMSEnv(t)
	v := newVolume(t)
	k.mount(t, v, "--passphrase-file", v.pw)
	z := v.zone(t, "secure")
	want := writeFiles(t, z, 20)
	k.run(t, 0, "key", "roll", "k", "--mount", v.mnt)
	for p, c := range writeFiles(t, z, 25) {
		want[p] = c
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("nope\n"), 0o600)
	_, stderr := k.run(t, 1, "mainkey", "rotate", "--to", "awskms:alias/ezfs", z, "--passphrase-file", wrong)
	if !strings.Contains(stderr, "wrong current passphrase") {
		t.Errorf("rotate with a wrong current passphrase: %s", stderr)
	}
	out, _ := k.run(t, 0, "mainkey", "rotate", "--to", "awskms:alias/ezfs", z, "--passphrase-file", v.pw)
	if !strings.Contains(out, "from passphrase to awskms:alias/ezfs: 2 zone-key versions") {
		t.Errorf("rotate: %s", out)
	}
	readFiles(t, want)
	k.unmount(t, v)
	k.mount(t, v) // no passphrase now
	readFiles(t, want)
	k.unmount(t, v)

	pw2 := filepath.Join(t.TempDir(), "pw2")
	os.WriteFile(pw2, []byte("battery staple\n"), 0o600)
	k.run(t, 0, "mainkey", "rotate", "--to", "passphrase", "--new-passphrase-file", pw2, "--backing", v.backing)
	k.srv.Down() // a passphrase volume needs no KMS
	_, stderr = k.run(t, 1, "mount", v.backing, v.mnt, "--passphrase-file", v.pw)
	if !strings.Contains(stderr, "wrong passphrase") {
		t.Errorf("mount with the old passphrase: %s", stderr)
	}
	k.mount(t, v, "--passphrase-file", pw2)
	readFiles(t, want)
}

// TestMainkeyRewrap: after KMS rotates the key, rewrap moves every version with
// ReEncrypt, mounted and offline.
func TestMainkeyRewrap(t *testing.T) {
	k := newKMSEnv(t)
	v := k.volume(t, "awskms:alias/ezfs")
	k.run(t, 0, "key", "roll", "k", "--backing", v.backing)
	k.mount(t, v)
	want := writeFiles(t, v.zone(t, "secure"), 10)
	if err := k.srv.RotateKey(k.key); err != nil {
		t.Fatal(err)
	}
	k.srv.ResetCalls()
	out, _ := k.run(t, 0, "mainkey", "rewrap", v.mnt, "--json")
	if n := k.srv.Calls("ReEncrypt"); n != 2 || !strings.Contains(out, `"versions":2`) {
		t.Errorf("rewrap: %d ReEncrypt, output %s", n, out)
	}
	k.unmount(t, v)
	k.run(t, 0, "mainkey", "rewrap", "--backing", v.backing)
	k.mount(t, v)
	readFiles(t, want)

	policy, _ := k.run(t, 0, "mainkey", "policy", "--principal", "arn:aws:iam::111122223333:role/ezfs")
	if !strings.Contains(policy, `"kms:ReEncryptTo"`) || !strings.Contains(policy, "role/ezfs") {
		t.Errorf("policy: %s", policy)
	}
}
