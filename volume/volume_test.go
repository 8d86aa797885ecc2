package volume_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/volume"
	"github.com/ezfs/ezfs/zone/chunk"
)

func TestMain(m *testing.M) {
	os.Setenv("EZFS_TEST_FAST_KDF", "1") // tests only; the envelope records the parameters
	os.Exit(m.Run())
}

var ctx = context.Background()

func pass(p string) func() (volume.Secret, error) {
	return func() (volume.Secret, error) { return volume.Secret{Passphrase: []byte(p)}, nil }
}

func initVolume(t *testing.T, o volume.InitOptions) (string, *volume.Config) {
	t.Helper()
	dir := t.TempDir()
	if o.Secret.Passphrase == nil && o.Secret.KeyFile == nil {
		o.Secret.Passphrase = []byte("pw")
	}
	c, err := volume.Init(ctx, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, c
}

func openVolume(t *testing.T, dir string, o volume.OpenOptions) *volume.Volume {
	t.Helper()
	if o.Secret == nil {
		o.Secret = pass("pw")
	}
	v, err := volume.Open(ctx, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestInitOpen(t *testing.T) {
	dir, c := initVolume(t, volume.InitOptions{Cipher: chunk.XChaCha20Poly1305, ChunkSize: 65536})
	if c.Cipher != chunk.XChaCha20Poly1305 || c.ChunkSize != 65536 || len(c.VolumeID) != 32 || c.Keystore != "" {
		t.Fatalf("config %+v", c)
	}
	wantMode(t, filepath.Join(dir, volume.Dir), 0o700|fs.ModeDir)
	wantMode(t, filepath.Join(dir, volume.Dir, volume.ConfigFile), 0o600)
	wantMode(t, filepath.Join(dir, volume.Dir, volume.KeystoreDir), 0o700|fs.ModeDir)

	v := openVolume(t, dir, volume.OpenOptions{})
	if v.Config != *c {
		t.Fatalf("opened config %+v, want %+v", v.Config, *c)
	}
	if _, err := v.Keyring.CreateKey(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	_, e, err := v.Keyring.GenerateEDEK(ctx, "logs", keys.WrapAEAD, []byte("f"))
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	v2 := openVolume(t, dir, volume.OpenOptions{})
	if _, err := v2.Keyring.DecryptEDEK(ctx, e, []byte("f")); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode() != want {
		t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode(), err, want)
	}
}

func TestInitDefaultsAndNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "existing"), []byte("x"), 0o644)
	c, err := volume.Init(ctx, dir, volume.InitOptions{Secret: volume.Secret{Passphrase: []byte("pw")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cipher != chunk.DefaultSuite() || c.ChunkSize != chunk.DefaultChunkSize || c.MainKey.Provider != "passphrase" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestInitRefuses(t *testing.T) {
	dir, _ := initVolume(t, volume.InitOptions{})
	sec := volume.Secret{Passphrase: []byte("pw")}
	if _, err := volume.Init(ctx, dir, volume.InitOptions{Secret: sec}); !errors.Is(err, volume.ErrExists) {
		t.Errorf("second Init error = %v, want ErrExists", err)
	}
	if _, err := volume.Init(ctx, filepath.Join(dir, "missing"), volume.InitOptions{Secret: sec}); err == nil {
		t.Error("Init of a missing directory succeeded")
	}
	for name, o := range map[string]volume.InitOptions{
		"no-secret":   {},
		"two-secrets": {Secret: volume.Secret{Passphrase: []byte("a"), KeyFile: make([]byte, 32)}},
		"chunk-size":  {ChunkSize: 1000, Secret: sec},
		"cipher":      {Cipher: 9, Secret: sec},
		"keyfile":     {Secret: volume.Secret{KeyFile: make([]byte, 31)}},
	} {
		if _, err := volume.Init(ctx, t.TempDir(), o); err == nil {
			t.Errorf("%s: Init succeeded", name)
		}
	}
}

func TestExternalKeystore(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "ks")
	dir, c := initVolume(t, volume.InitOptions{Keystore: ks})
	if c.Keystore != ks {
		t.Fatalf("keystore %q", c.Keystore)
	}
	if _, err := os.Stat(filepath.Join(dir, volume.Dir, volume.KeystoreDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("default key store created as well")
	}
	v := openVolume(t, dir, volume.OpenOptions{})
	v.Close()
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(ks, moved); err != nil {
		t.Fatal(err)
	}
	openVolume(t, dir, volume.OpenOptions{Keystore: moved}).Close()
	// Another volume's store is recognised as such.
	other, _ := initVolume(t, volume.InitOptions{})
	_, err := volume.Open(ctx, other, volume.OpenOptions{Keystore: moved, Secret: pass("pw")})
	if !errors.Is(err, volume.ErrWrongKeystore) {
		t.Errorf("other volume's store: %v", err)
	}
}

func TestNotVolume(t *testing.T) {
	dir := t.TempDir()
	_, err := volume.Open(ctx, dir, volume.OpenOptions{Secret: pass("pw")})
	if !errors.Is(err, volume.ErrNotVolume) {
		t.Fatalf("error = %v, want ErrNotVolume", err)
	}
	if want := dir + " is not an ezfs volume (no .ezfs/config.json)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

// snapshot returns name → size and hash of every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWrongPassphraseWritesNothing(t *testing.T) {
	dir, _ := initVolume(t, volume.InitOptions{})
	v := openVolume(t, dir, volume.OpenOptions{})
	v.Keyring.CreateKey(ctx, "logs")
	v.Close()
	before := snapshot(t, dir)
	_, err := volume.Open(ctx, dir, volume.OpenOptions{Secret: pass("wrong")})
	if !errors.Is(err, keys.ErrWrongSecret) {
		t.Fatalf("error = %v, want ErrWrongSecret", err)
	}
	t.Log(err)
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("files changed by a wrong passphrase:\nbefore %v\nafter  %v", before, after)
	}
	_, err = volume.Open(ctx, dir, volume.OpenOptions{Secret: func() (volume.Secret, error) {
		return volume.Secret{KeyFile: make([]byte, 32)}, nil
	}})
	if !errors.Is(err, volume.ErrSecretKind) {
		t.Errorf("key file for a passphrase volume: %v", err)
	}
}

func TestKeyFileVolume(t *testing.T) {
	kf := []byte("0123456789abcdef0123456789abcdef-key-file")
	dir, c := initVolume(t, volume.InitOptions{Secret: volume.Secret{KeyFile: kf}})
	if c.MainKey.Provider != "keyfile" {
		t.Fatalf("provider %q", c.MainKey.Provider)
	}
	openVolume(t, dir, volume.OpenOptions{Secret: func() (volume.Secret, error) {
		return volume.Secret{KeyFile: append([]byte{}, kf...)}, nil
	}})
}

func TestLocked(t *testing.T) {
	dir, _ := initVolume(t, volume.InitOptions{})
	openVolume(t, dir, volume.OpenOptions{})
	asked := false
	_, err := volume.Open(ctx, dir, volume.OpenOptions{Secret: func() (volume.Secret, error) {
		asked = true
		return volume.Secret{Passphrase: []byte("pw")}, nil
	}})
	if !errors.Is(err, local.ErrLocked) || asked {
		t.Fatalf("error = %v (secret asked: %v), want ErrLocked before asking", err, asked)
	}
}

// TestOpenAfterCrash opens a copy of a volume taken while it was open (as a
// crash leaves it): the read-only peek cannot replay the log, so Open
// recovers the store by opening it for writing.
func TestOpenAfterCrash(t *testing.T) {
	dir, _ := initVolume(t, volume.InitOptions{})
	v := openVolume(t, dir, volume.OpenOptions{})
	if _, err := v.Keyring.CreateKey(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(t.TempDir(), "crashed")
	if out, err := exec.Command("cp", "-a", dir, crashed).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	os.Remove(filepath.Join(crashed, volume.Dir, volume.KeystoreDir, "LOCK"))
	v.Close()
	if _, err := volume.Open(ctx, crashed, volume.OpenOptions{Secret: pass("wrong")}); !errors.Is(err, keys.ErrWrongSecret) {
		t.Fatalf("wrong secret after crash: %v", err)
	}
	v2 := openVolume(t, crashed, volume.OpenOptions{})
	if m, err := v2.Keyring.Metadata(ctx, "logs"); err != nil || m.CurrentVersion != 1 {
		t.Fatalf("after crash: %+v, %v", m, err)
	}
}

func TestMissingKeystore(t *testing.T) {
	dir, _ := initVolume(t, volume.InitOptions{})
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := volume.Open(ctx, dir, volume.OpenOptions{Keystore: missing, Secret: pass("pw")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %v, want not exist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Open created the missing key store")
	}
}
