package keys_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
)

// countingKey counts unwraps, as a KMS server counts Decrypt calls.
type countingKey struct {
	keys.MainKey
	unwraps atomic.Int32
}

func (c *countingKey) UnwrapKey(ctx context.Context, w []byte, kc keys.KeyContext) ([]byte, error) {
	c.unwraps.Add(1)
	return c.MainKey.UnwrapKey(ctx, w, kc)
}

func TestPreloadOneUnwrapPerVersion(t *testing.T) {
	e := newEnv()
	w := e.keyring(t)
	mustCreate(t, w, "logs")
	mustRoll(t, w, "logs")
	mustCreate(t, w, "db")
	ck := &countingKey{MainKey: e.main}
	k := keys.NewKeyring(e.store, ck, volID)
	defer k.Close()
	if err := k.Preload(ctx); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		generate(t, k, "logs", nil)
		generate(t, k, "db", nil)
	}
	if n := ck.unwraps.Load(); n != 3 || k.Cached() != 3 {
		t.Fatalf("unwraps = %d, cached = %d; want 3 and 3", n, k.Cached())
	}
}

func TestCacheTTL(t *testing.T) {
	e := newEnv()
	mustCreate(t, e.keyring(t), "logs")
	ck := &countingKey{MainKey: e.main}
	k := keys.NewKeyring(e.store, ck, volID)
	defer k.Close()
	k.SetCacheTTL(50 * time.Millisecond)
	generate(t, k, "logs", nil)
	generate(t, k, "logs", nil)
	if n := ck.unwraps.Load(); n != 1 {
		t.Fatalf("unwraps within the TTL = %d, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.Cached() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if k.Cached() != 0 {
		t.Fatal("version still cached after its TTL")
	}
	generate(t, k, "logs", nil)
	if n := ck.unwraps.Load(); n != 2 {
		t.Fatalf("unwraps after the TTL = %d, want 2", n)
	}
}

func TestCacheMaxUses(t *testing.T) {
	e := newEnv()
	mustCreate(t, e.keyring(t), "logs")
	ck := &countingKey{MainKey: e.main}
	k := keys.NewKeyring(e.store, ck, volID)
	defer k.Close()
	k.SetCacheMaxUses(3)
	_, edek := generate(t, k, "logs", nil) // unwraps
	for range 5 {                          // 3 uses of the cached copy, then it unwraps again
		generate(t, k, "logs", nil)
	}
	if n := ck.unwraps.Load(); n != 2 {
		t.Fatalf("unwraps after 6 uses with at most 3 cached uses per unwrap = %d, want 2", n)
	}
	if _, err := k.DecryptEDEK(ctx, edek, nil); err != nil { // within the second copy's uses
		t.Fatal(err)
	}
	if n := ck.unwraps.Load(); n != 2 {
		t.Fatalf("unwraps = %d, want still 2", n)
	}
}

func TestRewrapMainKey(t *testing.T) {
	e := newEnv()
	k := e.keyring(t)
	mustCreate(t, k, "logs")
	dek, ed := generate(t, k, "logs", nil)
	mustRoll(t, k, "logs")
	newMain := keystest.NewMainKey()
	rewrap := func(ctx context.Context, w []byte, kc keys.KeyContext) ([]byte, error) {
		b, err := e.main.UnwrapKey(ctx, w, kc)
		if err != nil {
			return nil, err
		}
		return newMain.WrapKey(ctx, b, kc)
	}
	if err := k.RewrapMainKey(ctx, rewrap, newMain, func(tx keys.Tx) error { return tx.Set("mainkey", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	mustRoll(t, k, "logs")
	cold := keys.NewKeyring(e.store, newMain, volID)
	defer cold.Close()
	if err := cold.Preload(ctx); err != nil {
		t.Fatalf("preload under the new main key: %v", err)
	}
	wantDEK(t, cold, ed, nil, dek)
	old := keys.NewKeyring(e.store, e.main, volID)
	defer old.Close()
	wantErr(t, old.Preload(ctx), keys.ErrAuth)
}
