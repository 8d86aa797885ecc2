package volume_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/keys/awskms/kmstest"
	"github.com/ezfs/ezfs/volume"
)

// kmsFixture is a KMS test server with two keys; the AWS chain sees nothing of this machine.
type kmsFixture struct {
	srv        *kmstest.Server
	key, other string // key ARNs; key also has alias/ezfs
	opts       awskms.Options
}

func newKMS(t *testing.T) *kmsFixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_KMS", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
	srv := kmstest.Start(t)
	f := &kmsFixture{srv: srv, key: srv.CreateKey("ezfs"), other: srv.CreateKey("other")}
	if err := srv.CreateAlias("alias/ezfs", f.key); err != nil {
		t.Fatal(err)
	}
	f.opts = awskms.Options{Region: kmstest.Region, Endpoint: srv.URL(), MaxAttempts: 3, MaxBackoff: 5 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	return f
}

// noSecret fails the test if Open asks for a secret.
func noSecret(t *testing.T) func() (volume.Secret, error) {
	return func() (volume.Secret, error) {
		t.Error("Open asked a KMS volume for a secret")
		return volume.Secret{}, errors.New("no secret")
	}
}

func (f *kmsFixture) initVolume(t *testing.T, spec string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := volume.Init(ctx, dir, volume.InitOptions{KMSKey: spec, KMS: f.opts}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (f *kmsFixture) open(t *testing.T, dir string) *volume.Volume {
	t.Helper()
	return openVolume(t, dir, volume.OpenOptions{Secret: noSecret(t), KMS: f.opts})
}

func TestKMSInitOpen(t *testing.T) {
	f := newKMS(t)
	for _, spec := range []string{"awskms:" + f.key, "awskms:alias/ezfs", "awskms:" + kmstest.AliasARN("alias/ezfs")} {
		t.Run(spec, func(t *testing.T) {
			dir := f.initVolume(t, spec)
			c, err := volume.ReadConfig(dir)
			if err != nil || c.MainKey.Spec() != spec {
				t.Fatalf("config main key %+v, %v", c.MainKey, err)
			}
			v := f.open(t, dir)
			f.srv.ResetCalls()
			if _, err := v.Keyring.CreateKey(ctx, "logs"); err != nil {
				t.Fatal(err)
			}
			if n := f.srv.Calls("Encrypt"); n != 1 {
				t.Errorf("CreateKey made %d Encrypt calls, want 1", n)
			}
			_, e, err := v.Keyring.GenerateEDEK(ctx, "logs", keys.WrapAEAD, []byte("f"))
			if err != nil {
				t.Fatal(err)
			}
			v.Close()
			v = f.open(t, dir)
			f.srv.ResetCalls()
			for range 1000 {
				if _, _, err := v.Keyring.GenerateEDEK(ctx, "logs", keys.WrapAEAD, []byte("g")); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := v.Keyring.DecryptEDEK(ctx, e, []byte("f")); err != nil {
				t.Fatal(err)
			}
			if n := f.srv.TotalCalls(); n != 1 || f.srv.Calls("Decrypt") != 1 {
				t.Errorf("1000 creates and a read made %d KMS calls, want one Decrypt", n)
			}
		})
	}
}

func TestKMSInitChecksAccess(t *testing.T) {
	f := newKMS(t)
	f.srv.DisableKey(f.key)
	dir := t.TempDir()
	_, err := volume.Init(ctx, dir, volume.InitOptions{KMSKey: "awskms:" + f.key, KMS: f.opts})
	if !errors.Is(err, awskms.ErrKeyDisabled) {
		t.Fatalf("Init under a disabled key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, volume.Dir, volume.ConfigFile)); err == nil {
		t.Error("config.json written for a failed init")
	}
	for name, o := range map[string]volume.InitOptions{
		"bad-spec":   {KMSKey: "awskms:key/123", KMS: f.opts},
		"kms+secret": {KMSKey: "awskms:alias/ezfs", Secret: volume.Secret{Passphrase: []byte("pw")}, KMS: f.opts},
	} {
		if _, err := volume.Init(ctx, t.TempDir(), o); err == nil {
			t.Errorf("%s: Init succeeded", name)
		}
	}
}

// edeks makes one EDEK per zone-key version of "logs" (rolled to 2).
func edeks(t *testing.T, v *volume.Volume) map[*keys.EDEK][]byte {
	t.Helper()
	out := map[*keys.EDEK][]byte{}
	for i := range 2 {
		if i == 0 {
			v.Keyring.CreateKey(ctx, "logs")
		} else {
			v.Keyring.RollKey(ctx, "logs")
		}
		dek, e, err := v.Keyring.GenerateEDEK(ctx, "logs", keys.WrapAEAD, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		out[&e] = append([]byte{}, dek.Bytes()...)
	}
	return out
}

func wantEDEKs(t *testing.T, v *volume.Volume, want map[*keys.EDEK][]byte) {
	t.Helper()
	for e, dek := range want {
		got, err := v.Keyring.DecryptEDEK(ctx, *e, []byte{byte(e.Key.Version - 1)})
		if err != nil || string(got.Bytes()) != string(dek) {
			t.Fatalf("EDEK %s after rotation: %v", e.Key, err)
		}
	}
}

func TestRotatePassphraseKMSPassphrase(t *testing.T) {
	f := newKMS(t)
	dir, _ := initVolume(t, volume.InitOptions{})
	v := openVolume(t, dir, volume.OpenOptions{KMS: f.opts})
	want := edeks(t, v)
	if err := v.RotateMainKey(ctx, volume.NewMainKey{KMS: "awskms:alias/ezfs"}, f.opts); err != nil {
		t.Fatal(err)
	}
	v.Close()
	c, _ := volume.ReadConfig(dir)
	if c.MainKey.Spec() != "awskms:alias/ezfs" {
		t.Fatalf("config after rotation: %+v", c.MainKey)
	}
	v = f.open(t, dir)
	wantEDEKs(t, v, want)
	if err := v.RotateMainKey(ctx, volume.NewMainKey{Secret: volume.Secret{Passphrase: []byte("new")}}, f.opts); err != nil {
		t.Fatal(err)
	}
	v.Close()
	f.srv.Down() // the passphrase volume needs no KMS
	_, err := volume.Open(ctx, dir, volume.OpenOptions{Secret: pass("pw")})
	if !errors.Is(err, keys.ErrWrongSecret) {
		t.Fatalf("old passphrase after rotation: %v", err)
	}
	v = openVolume(t, dir, volume.OpenOptions{Secret: pass("new")})
	wantEDEKs(t, v, want)
}

func TestRotatePassphraseToPassphrase(t *testing.T) {
	dir, _ := initVolume(t, volume.InitOptions{})
	v := openVolume(t, dir, volume.OpenOptions{})
	want := edeks(t, v)
	kf := []byte("0123456789abcdef0123456789abcdef-key-file")
	if err := v.RotateMainKey(ctx, volume.NewMainKey{Secret: volume.Secret{KeyFile: kf}}, awskms.Options{}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if _, err := volume.Open(ctx, dir, volume.OpenOptions{Secret: pass("pw")}); !errors.Is(err, volume.ErrSecretKind) {
		t.Fatalf("passphrase after rotating to a key file: %v", err)
	}
	v = openVolume(t, dir, volume.OpenOptions{Secret: func() (volume.Secret, error) {
		return volume.Secret{KeyFile: append([]byte{}, kf...)}, nil
	}})
	wantEDEKs(t, v, want)
}

func TestRotateKMSToKMSUsesReEncrypt(t *testing.T) {
	f := newKMS(t)
	dir := f.initVolume(t, "awskms:"+f.key)
	v := f.open(t, dir)
	want := edeks(t, v)
	f.srv.ResetCalls()
	if err := v.RotateMainKey(ctx, volume.NewMainKey{KMS: "awskms:" + f.other}, f.opts); err != nil {
		t.Fatal(err)
	}
	if n, e := f.srv.Calls("ReEncrypt"), f.srv.Calls("Encrypt"); n != 2 || e != 0 {
		t.Errorf("KMS-to-KMS rotation: %d ReEncrypt, %d Encrypt; want 2 and 0", n, e)
	}
	v.Close()
	f.srv.DisableKey(f.key) // the old key is no longer needed
	v = f.open(t, dir)
	wantEDEKs(t, v, want)
}

func TestRewrapAfterKMSRotation(t *testing.T) {
	f := newKMS(t)
	dir := f.initVolume(t, "awskms:alias/ezfs")
	v := f.open(t, dir)
	want := edeks(t, v)
	if err := f.srv.RotateKey(f.key); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetCalls()
	n, err := v.RewrapMainKey(ctx)
	if err != nil || n != 2 || f.srv.Calls("ReEncrypt") != 2 {
		t.Fatalf("rewrap: %d versions, %d ReEncrypt, %v", n, f.srv.Calls("ReEncrypt"), err)
	}
	v.Close()
	v = f.open(t, dir)
	wantEDEKs(t, v, want)

	p, _ := initVolume(t, volume.InitOptions{})
	pv := openVolume(t, p, volume.OpenOptions{})
	if _, err := pv.RewrapMainKey(ctx); !errors.Is(err, volume.ErrNotKMS) {
		t.Errorf("rewrap of a passphrase volume: %v", err)
	}
}

// TestRotateConfigRepair: a crash after the key-store commit leaves config.json naming
// the old provider; the key store wins and Open repairs the config.
func TestRotateConfigRepair(t *testing.T) {
	f := newKMS(t)
	dir, _ := initVolume(t, volume.InitOptions{})
	old, _ := os.ReadFile(filepath.Join(dir, volume.Dir, volume.ConfigFile))
	v := openVolume(t, dir, volume.OpenOptions{})
	want := edeks(t, v)
	if err := v.RotateMainKey(ctx, volume.NewMainKey{KMS: "awskms:alias/ezfs"}, f.opts); err != nil {
		t.Fatal(err)
	}
	v.Close()
	os.WriteFile(filepath.Join(dir, volume.Dir, volume.ConfigFile), old, 0o600)
	v = f.open(t, dir)
	wantEDEKs(t, v, want)
	if c, _ := volume.ReadConfig(dir); c.MainKey.Provider != volume.ProviderAWSKMS {
		t.Errorf("config not repaired: %+v", c.MainKey)
	}
}

func TestRotateFailureChangesNothing(t *testing.T) {
	f := newKMS(t)
	dir, _ := initVolume(t, volume.InitOptions{})
	v := openVolume(t, dir, volume.OpenOptions{})
	want := edeks(t, v)
	f.srv.Deny("kms:Encrypt")
	err := v.RotateMainKey(ctx, volume.NewMainKey{KMS: "awskms:alias/ezfs"}, f.opts)
	if !errors.Is(err, awskms.ErrAccessDenied) {
		t.Fatalf("rotation with Encrypt denied: %v", err)
	}
	v.Close()
	v = openVolume(t, dir, volume.OpenOptions{})
	wantEDEKs(t, v, want)
	if v.MainKey().Provider != volume.ProviderPassphrase {
		t.Errorf("provider after a failed rotation: %+v", v.MainKey())
	}
}
