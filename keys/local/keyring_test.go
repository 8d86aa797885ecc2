package local_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/keys/local"
)

const volID = "0123456789abcdef0123456789abcdef"

// TestRollCrashReopen fails a roll after the new version is wrapped and
// written in the transaction but before the commit, then reopens the
// store from disk: the old state is intact and a retry works.
func TestRollCrashReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, mk := newMainKey(t, []byte("pw"), local.Passphrase)
	s, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fs := &keystest.FailingStore{Store: s}
	k := keys.NewKeyring(fs, mk, volID)
	if _, err := k.CreateKey(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	bind := []byte("file")
	dek1, e1, err := k.GenerateEDEK(ctx, "logs", keys.WrapAEAD, bind)
	if err != nil {
		t.Fatal(err)
	}
	fs.Fail = true
	if _, err := k.RollKey(ctx, "logs"); !errors.Is(err, keystest.ErrInjected) {
		t.Fatalf("RollKey error = %v", err)
	}
	k.Close()
	s.Close()

	k = keys.NewKeyring(openStore(t, dir), mk, volID)
	defer k.Close()
	if m, err := k.Metadata(ctx, "logs"); err != nil || m.CurrentVersion != 1 || len(m.Versions) != 1 {
		t.Fatalf("after crash: %+v, %v", m, err)
	}
	wantDEK(t, k, e1, bind, dek1)
	if m, err := k.RollKey(ctx, "logs"); err != nil || m.CurrentVersion != 2 {
		t.Fatalf("retry: %+v, %v", m, err)
	}
	dek2, e2, err := k.GenerateEDEK(ctx, "logs", keys.WrapAEAD, bind)
	if err != nil || e2.Key.Version != 2 {
		t.Fatalf("GenerateEDEK after retry: %s, %v", e2.Key, err)
	}
	wantDEK(t, k, e1, bind, dek1)
	wantDEK(t, k, e2, bind, dek2)
}

func wantDEK(t *testing.T, k *keys.Keyring, e keys.EDEK, binding []byte, want *keys.Secret) {
	t.Helper()
	got, err := k.DecryptEDEK(context.Background(), e, binding)
	if err != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("DecryptEDEK(%s): %v", e.Key, err)
	}
}
