package local_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/keys/local"
)

func TestMain(m *testing.M) {
	os.Setenv("EZFS_TEST_FAST_KDF", "1") // tests only; the envelope records the parameters
	os.Exit(m.Run())
}

func newMainKey(t *testing.T, secret []byte, kind local.Kind) ([]byte, *local.MainKey) {
	t.Helper()
	env, mk, err := local.NewEnvelope(secret, kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mk.Wipe)
	return env, mk
}

func TestMainKeyConformance(t *testing.T) {
	keystest.TestMainKey(t, func(t *testing.T) keys.MainKey {
		_, mk := newMainKey(t, []byte("pass"), local.Passphrase)
		return mk
	})
}

var keyFile = bytes.Repeat([]byte("k"), local.MinKeyFileLen)

func TestUnlock(t *testing.T) {
	for _, c := range []struct {
		name          string
		kind          local.Kind
		secret, wrong []byte
	}{
		{"passphrase", local.Passphrase, []byte("correct horse"), []byte("correct horsE")},
		{"keyfile", local.KeyFile, keyFile, append(bytes.Clone(keyFile[1:]), 'j')},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, mk := newMainKey(t, c.secret, c.kind)
			got, err := local.Unlock(env, c.secret)
			if err != nil || !bytes.Equal(local.MainKeyBytes(got), local.MainKeyBytes(mk)) {
				t.Fatalf("Unlock = %v", err)
			}
			for _, bad := range [][]byte{c.wrong, nil, []byte("x")} {
				if _, err := local.Unlock(env, bad); !errors.Is(err, keys.ErrWrongSecret) {
					t.Errorf("Unlock(wrong) error = %v, want ErrWrongSecret", err)
				}
			}
			if k, err := local.EnvelopeKind(env); err != nil || k != c.kind {
				t.Errorf("EnvelopeKind = %v, %v", k, err)
			}
		})
	}
}

func TestNewEnvelopeRejects(t *testing.T) {
	if _, _, err := local.NewEnvelope(keyFile[:31], local.KeyFile); !errors.Is(err, local.ErrKeyFileTooShort) {
		t.Errorf("short key file: %v", err)
	}
	if _, _, err := local.NewEnvelope(nil, local.Passphrase); !errors.Is(err, local.ErrEmptyPassphrase) {
		t.Errorf("empty passphrase: %v", err)
	}
	if _, _, err := local.NewEnvelope([]byte("x"), 9); err == nil {
		t.Error("unknown kind accepted")
	}
}

// TestFastKDFOnlyWhenAsked checks that the defaults are used without the test setting.
func TestFastKDFOnlyWhenAsked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs argon2id with the default 256 MiB")
	}
	t.Setenv("EZFS_TEST_FAST_KDF", "")
	env, _ := newMainKey(t, []byte("pass"), local.Passphrase)
	e, err := local.DecodeEnvelope(env)
	if err != nil || e.KDF != local.DefaultKDF {
		t.Fatalf("KDF = %+v, %v; want defaults %+v", e.KDF, err, local.DefaultKDF)
	}
}

func TestReEnvelope(t *testing.T) {
	_, mk := newMainKey(t, []byte("old"), local.Passphrase)
	env, err := mk.Envelope(keyFile, local.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := local.Unlock(env, keyFile)
	if err != nil || !bytes.Equal(local.MainKeyBytes(got), local.MainKeyBytes(mk)) {
		t.Fatalf("Unlock of new envelope: %v", err)
	}
}
