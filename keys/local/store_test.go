package local_test

import (
	"errors"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/keys/local"
)

func openStore(t *testing.T, dir string) *local.Store {
	t.Helper()
	s, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreConformance(t *testing.T) {
	keystest.TestStore(t, func(t *testing.T) keys.Store { return openStore(t, t.TempDir()) })
}

func TestStoreDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx keys.Tx) error { return tx.Set("key/a", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	err = s.View(func(tx keys.Tx) error {
		v, err := tx.Get("key/a")
		if err == nil && string(v) != "v" {
			t.Errorf("after reopen: %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreLocked(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir)
	if s, err := local.Open(dir); !errors.Is(err, local.ErrLocked) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
}
