package keys_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
)

const volID = "0123456789abcdef0123456789abcdef"

var ctx = context.Background()

// env is a store and main key; keyring opens a fresh (cold-cache) keyring over them.
type env struct {
	store keys.Store
	main  keys.MainKey
}

func newEnv() *env { return &env{keystest.NewMemStore(), keystest.NewMainKey()} }

func (e *env) keyring(t *testing.T) *keys.Keyring {
	t.Helper()
	k := keys.NewKeyring(e.store, e.main, volID)
	t.Cleanup(k.Close)
	return k
}

func mustCreate(t *testing.T, k *keys.Keyring, name string) {
	t.Helper()
	if _, err := k.CreateKey(ctx, name); err != nil {
		t.Fatal(err)
	}
}

func mustRoll(t *testing.T, k *keys.Keyring, name string) keys.Metadata {
	t.Helper()
	m, err := k.RollKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func generate(t *testing.T, k *keys.Keyring, name string, binding []byte) (*keys.Secret, keys.EDEK) {
	t.Helper()
	dek, e, err := k.GenerateEDEK(ctx, name, keys.WrapAEAD, binding)
	if err != nil {
		t.Fatal(err)
	}
	return dek, e
}

func wantDEK(t *testing.T, k *keys.Keyring, e keys.EDEK, binding []byte, want *keys.Secret) {
	t.Helper()
	got, err := k.DecryptEDEK(ctx, e, binding)
	if err != nil {
		t.Fatalf("DecryptEDEK(%s): %v", e.Key, err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("DecryptEDEK(%s) returned another DEK", e.Key)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func TestCreateKey(t *testing.T) {
	k := newEnv().keyring(t)
	m, err := k.CreateKey(ctx, "logs")
	if err != nil || m.Name != "logs" || m.CurrentVersion != 1 || len(m.Versions) != 1 {
		t.Fatalf("CreateKey = %+v, %v", m, err)
	}
	_, err = k.CreateKey(ctx, "logs")
	wantErr(t, err, keys.ErrKeyExists)
	if _, err := k.CreateKey(ctx, "bad/name"); err == nil {
		t.Error("CreateKey accepted an invalid name")
	}
}

func TestMissingKey(t *testing.T) {
	k := newEnv().keyring(t)
	_, err := k.RollKey(ctx, "none")
	wantErr(t, err, keys.ErrKeyNotFound)
	_, err = k.Metadata(ctx, "none")
	wantErr(t, err, keys.ErrKeyNotFound)
	wantErr(t, k.DeleteKey(ctx, "none"), keys.ErrKeyNotFound)
	_, _, err = k.GenerateEDEK(ctx, "none", keys.WrapAEAD, nil)
	wantErr(t, err, keys.ErrKeyNotFound)
	_, err = k.PruneKey(ctx, "none", 1)
	wantErr(t, err, keys.ErrKeyNotFound)
}

func TestRollThenDecryptBothVersions(t *testing.T) {
	e := newEnv()
	k := e.keyring(t)
	mustCreate(t, k, "logs")
	bind := []byte("file-1")
	dek1, e1 := generate(t, k, "logs", bind)
	if m := mustRoll(t, k, "logs"); m.CurrentVersion != 2 || len(m.Versions) != 2 {
		t.Fatalf("after roll: %+v", m)
	}
	dek2, e2 := generate(t, k, "logs", bind)
	if e1.Key.String() != "logs@1" || e2.Key.String() != "logs@2" {
		t.Fatalf("EDEK versions %s, %s", e1.Key, e2.Key)
	}
	wantDEK(t, k, e1, bind, dek1)
	wantDEK(t, k, e2, bind, dek2)
	cold := e.keyring(t) // unwraps both versions from the store
	wantDEK(t, cold, e1, bind, dek1)
	wantDEK(t, cold, e2, bind, dek2)
}

func TestEDEKMovedOrRelabelled(t *testing.T) {
	for _, w := range []keys.Wrap{keys.WrapAEAD, keys.WrapKW} {
		t.Run(fmt.Sprint("wrap ", w), func(t *testing.T) { testEDEKMovedOrRelabelled(t, w) })
	}
}

func testEDEKMovedOrRelabelled(t *testing.T, w keys.Wrap) {
	k := newEnv().keyring(t)
	mustCreate(t, k, "logs")
	mustRoll(t, k, "logs")
	mustCreate(t, k, "other")
	dek, e, err := k.GenerateEDEK(ctx, "logs", w, []byte("file-A"))
	if err != nil || e.Wrap != w || len(e.Wrapped) != w.Len() {
		t.Fatalf("GenerateEDEK = %+v, %v", e, err)
	}
	wantDEK(t, k, e, []byte("file-A"), dek)
	_, err = k.DecryptEDEK(ctx, e, []byte("file-B"))
	wantErr(t, err, keys.ErrAuth)

	relabelled := keys.EDEK{Key: keys.Ref{Name: "logs", Version: 1}, Wrap: w, Wrapped: e.Wrapped}
	_, err = k.DecryptEDEK(ctx, relabelled, []byte("file-A"))
	wantErr(t, err, keys.ErrAuth)

	renamed := keys.EDEK{Key: keys.Ref{Name: "other", Version: 1}, Wrap: w, Wrapped: e.Wrapped}
	_, err = k.DecryptEDEK(ctx, renamed, []byte("file-A"))
	wantErr(t, err, keys.ErrAuth)

	flipped := keys.EDEK{Key: e.Key, Wrap: w, Wrapped: bytes.Clone(e.Wrapped)}
	flipped.Wrapped[30] ^= 1
	_, err = k.DecryptEDEK(ctx, flipped, []byte("file-A"))
	wantErr(t, err, keys.ErrAuth)

	_, err = k.DecryptEDEK(ctx, keys.EDEK{Key: e.Key, Wrap: w, Wrapped: e.Wrapped[:10]}, []byte("file-A"))
	wantErr(t, err, keys.ErrAuth)

	_, err = k.DecryptEDEK(ctx, keys.EDEK{Key: keys.Ref{Name: "logs", Version: 9}, Wrap: w, Wrapped: e.Wrapped}, nil)
	wantErr(t, err, keys.ErrVersionNotFound)

	other := keys.WrapAEAD + keys.WrapKW - w // read as the other wrap
	_, err = k.DecryptEDEK(ctx, keys.EDEK{Key: e.Key, Wrap: other, Wrapped: e.Wrapped}, []byte("file-A"))
	wantErr(t, err, keys.ErrAuth)
}

func TestOtherVolumeRejected(t *testing.T) {
	e := newEnv()
	k := e.keyring(t)
	mustCreate(t, k, "logs")
	_, edek := generate(t, k, "logs", nil)
	other := keys.NewKeyring(e.store, e.main, "ffffffffffffffffffffffffffffffff")
	defer other.Close()
	_, err := other.DecryptEDEK(ctx, edek, nil)
	wantErr(t, err, keys.ErrAuth) // the zone key itself is bound to the volume
}

// TestRollCrash injects a failure after the new version is wrapped and
// written in the transaction but before the commit.
func TestRollCrash(t *testing.T) {
	e := newEnv()
	fs := &keystest.FailingStore{Store: e.store}
	k := keys.NewKeyring(fs, e.main, volID)
	defer k.Close()
	mustCreate(t, k, "logs")
	dek1, e1 := generate(t, k, "logs", nil)

	fs.Fail = true
	_, err := k.RollKey(ctx, "logs")
	wantErr(t, err, keystest.ErrInjected)
	fs.Fail = false

	for _, kr := range []*keys.Keyring{k, e.keyring(t)} { // same process and "after restart"
		m, err := kr.Metadata(ctx, "logs")
		if err != nil || m.CurrentVersion != 1 || len(m.Versions) != 1 {
			t.Fatalf("after failed roll: %+v, %v", m, err)
		}
		wantDEK(t, kr, e1, nil, dek1)
		if _, e := generate(t, kr, "logs", nil); e.Key.Version != 1 {
			t.Fatalf("new EDEK uses %s after a failed roll", e.Key)
		}
	}
	if m := mustRoll(t, k, "logs"); m.CurrentVersion != 2 {
		t.Fatalf("retried roll: %+v", m)
	}
	dek2, e2 := generate(t, k, "logs", nil)
	cold := e.keyring(t)
	wantDEK(t, cold, e1, nil, dek1)
	wantDEK(t, cold, e2, nil, dek2)
}

func TestReencryptEDEKs(t *testing.T) {
	e := newEnv()
	k := e.keyring(t)
	mustCreate(t, k, "logs")
	var items []keys.Rewrap
	var deks []*keys.Secret
	for i := range 4 {
		if i == 2 {
			mustRoll(t, k, "logs")
		}
		bind := []byte{byte(i)}
		dek, edek, err := k.GenerateEDEK(ctx, "logs", keys.Wrap(i%2), bind) // both wraps
		if err != nil {
			t.Fatal(err)
		}
		items, deks = append(items, keys.Rewrap{EDEK: edek, Binding: bind}), append(deks, dek)
	}
	mustRoll(t, k, "logs")
	out, err := k.ReencryptEDEKs(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.PruneKey(ctx, "logs", 3); err != nil {
		t.Fatal(err)
	}
	cold := e.keyring(t)
	for i, edek := range out {
		if edek.Key.Version != 3 || edek.Wrap != items[i].EDEK.Wrap {
			t.Fatalf("item %d re-encrypted to %s, wrap %d", i, edek.Key, edek.Wrap)
		}
		wantDEK(t, cold, edek, items[i].Binding, deks[i])
	}
	_, err = cold.DecryptEDEK(ctx, items[0].EDEK, items[0].Binding)
	wantErr(t, err, keys.ErrVersionNotFound)
}

func TestReencryptReportsBadItem(t *testing.T) {
	k := newEnv().keyring(t)
	mustCreate(t, k, "logs")
	_, a := generate(t, k, "logs", []byte("a"))
	_, b := generate(t, k, "logs", []byte("b"))
	_, err := k.ReencryptEDEKs(ctx, []keys.Rewrap{{a, []byte("a")}, {b, []byte("moved")}})
	var re *keys.RewrapError
	if !errors.As(err, &re) || re.Index != 1 || !errors.Is(err, keys.ErrAuth) {
		t.Fatalf("error = %v, want RewrapError{Index: 1} wrapping ErrAuth", err)
	}
}

func TestPruneAndDelete(t *testing.T) {
	k := newEnv().keyring(t)
	mustCreate(t, k, "logs")
	mustRoll(t, k, "logs")
	if _, err := k.PruneKey(ctx, "logs", 3); err == nil {
		t.Fatal("PruneKey removed the current version")
	}
	m, err := k.PruneKey(ctx, "logs", 2)
	if err != nil || len(m.Versions) != 1 || m.Versions[0].Version != 2 {
		t.Fatalf("PruneKey = %+v, %v", m, err)
	}
	if m := mustRoll(t, k, "logs"); m.CurrentVersion != 3 {
		t.Fatalf("roll after prune: %+v", m)
	}
	_, e := generate(t, k, "logs", nil)
	if err := k.DeleteKey(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	_, err = k.DecryptEDEK(ctx, e, nil)
	wantErr(t, err, keys.ErrKeyNotFound)
	list, err := k.ListKeys(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListKeys after delete = %+v, %v", list, err)
	}
	mustCreate(t, k, "logs") // the name is free again, starting at version 1
}

func TestListKeys(t *testing.T) {
	k := newEnv().keyring(t)
	for _, n := range []string{"b", "a", "c.d_e-f"} {
		mustCreate(t, k, n)
	}
	list, err := k.ListKeys(ctx)
	if err != nil || len(list) != 3 || list[0].Name != "a" || list[2].Name != "c.d_e-f" {
		t.Fatalf("ListKeys = %+v, %v", list, err)
	}
}

func TestRotateMainKey(t *testing.T) {
	e := newEnv()
	k := e.keyring(t)
	mustCreate(t, k, "logs")
	dek1, e1 := generate(t, k, "logs", nil)
	mustRoll(t, k, "logs")
	newMain := keystest.NewMainKey()

	failing := &keystest.FailingStore{Store: e.store, Fail: true}
	kf := keys.NewKeyring(failing, e.main, volID)
	defer kf.Close()
	wantErr(t, kf.RotateMainKey(ctx, newMain, nil), keystest.ErrInjected)

	putCalled := false
	err := k.RotateMainKey(ctx, newMain, func(tx keys.Tx) error {
		putCalled = true
		return tx.Set("mainkey", []byte("new envelope"))
	})
	if err != nil || !putCalled {
		t.Fatalf("RotateMainKey: %v (put called %v)", err, putCalled)
	}
	mustRoll(t, k, "logs") // wraps under the new main key
	cold := keys.NewKeyring(e.store, newMain, volID)
	defer cold.Close()
	wantDEK(t, cold, e1, nil, dek1)
	_, e3 := generate(t, cold, "logs", nil)
	if e3.Key.Version != 3 {
		t.Fatalf("EDEK after rotate uses %s", e3.Key)
	}
	old := e.keyring(t)
	_, err = old.DecryptEDEK(ctx, e1, nil)
	wantErr(t, err, keys.ErrAuth)
}

func TestClose(t *testing.T) {
	k := newEnv().keyring(t)
	mustCreate(t, k, "logs")
	_, e := generate(t, k, "logs", nil)
	k.Close()
	_, err := k.DecryptEDEK(ctx, e, nil)
	wantErr(t, err, keys.ErrClosed)
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv()
	k := e.keyring(t)
	mustCreate(t, k, "logs")
	cold := e.keyring(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			bind := []byte{byte(i)}
			for range 20 {
				dek, edek, err := cold.GenerateEDEK(ctx, "logs", keys.WrapAEAD, bind)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := cold.DecryptEDEK(ctx, edek, bind)
				if err != nil || !bytes.Equal(got.Bytes(), dek.Bytes()) {
					t.Error("round trip failed:", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if _, err := cold.RollKey(ctx, "logs"); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
}
