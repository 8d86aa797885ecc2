package local_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// A store whose directory is removed while open (the backing directory of a
// mounted volume deleted under it) closes at once with ErrRemoved; badger
// alone would retry for ever to flush its last write into the removed
// directory.
func TestStoreCloseAfterRemoval(t *testing.T) {
	for _, replace := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "keystore")
		s, err := local.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(tx keys.Tx) error { return tx.Set("key/a", []byte("v")) }); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if replace {
			os.Mkdir(dir, 0o700)
		}
		done := make(chan error, 1)
		go func() { done <- s.Close() }()
		select {
		case err := <-done:
			if !errors.Is(err, local.ErrRemoved) {
				t.Errorf("replaced=%v: Close = %v, want ErrRemoved", replace, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("replaced=%v: Close still running after 30 s", replace)
		}
	}
}
