package keystest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ezfs/ezfs/keys"
)

// TestStore runs the keys.Store conformance tests; open returns a fresh,
// empty store for each subtest (and arranges its cleanup).
func TestStore(t *testing.T, open func(t *testing.T) keys.Store) {
	cases := []struct {
		name string
		f    func(t *testing.T, s keys.Store)
	}{
		{"get-missing", storeGetMissing},
		{"set-get-overwrite", storeSetGet},
		{"delete", storeDelete},
		{"keys-prefix", storeKeysPrefix},
		{"update-rollback", storeRollback},
		{"view-read-only", storeViewReadOnly},
		{"buffers-not-shared", storeBuffers},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.f(t, open(t)) })
	}
}

func set(t *testing.T, s keys.Store, kv ...string) {
	t.Helper()
	err := s.Update(func(tx keys.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Set(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// get returns the value of k, or nil and the error.
func get(t *testing.T, s keys.Store, k string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(func(tx keys.Tx) (err error) {
		v, err = tx.Get(k)
		return err
	})
	return v, err
}

func wantValue(t *testing.T, s keys.Store, k, want string) {
	t.Helper()
	v, err := get(t, s, k)
	if err != nil || string(v) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", k, v, err, want)
	}
}

func wantMissing(t *testing.T, s keys.Store, k string) {
	t.Helper()
	if v, err := get(t, s, k); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", k, v, err)
	}
}

func storeGetMissing(t *testing.T, s keys.Store) { wantMissing(t, s, "nope") }

func storeSetGet(t *testing.T, s keys.Store) {
	set(t, s, "a", "1", "empty", "")
	wantValue(t, s, "a", "1")
	wantValue(t, s, "empty", "")
	set(t, s, "a", "2")
	wantValue(t, s, "a", "2")
	err := s.Update(func(tx keys.Tx) error { // reads its own writes
		if err := tx.Set("b", []byte("x")); err != nil {
			return err
		}
		v, err := tx.Get("b")
		if err == nil && string(v) != "x" {
			t.Errorf("Get in same Update = %q, want x", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func storeDelete(t *testing.T, s keys.Store) {
	set(t, s, "a", "1", "b", "2")
	if err := s.Update(func(tx keys.Tx) error { return tx.Delete("a") }); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, s, "a")
	wantValue(t, s, "b", "2")
	if err := s.Update(func(tx keys.Tx) error { return tx.Delete("never") }); err != nil {
		t.Fatalf("Delete of missing key: %v", err)
	}
}

func storeKeysPrefix(t *testing.T, s keys.Store) {
	set(t, s, "key/b", "", "key/a", "", "keyz", "", "zone/1", "", "k", "")
	for prefix, want := range map[string][]string{
		"key/": {"key/a", "key/b"},
		"":     {"k", "key/a", "key/b", "keyz", "zone/1"},
		"none": nil,
	} {
		var got []string
		err := s.View(func(tx keys.Tx) (err error) {
			got, err = tx.Keys(prefix)
			return err
		})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Keys(%q) = %q, %v; want %q", prefix, got, err, want)
		}
	}
}

func storeRollback(t *testing.T, s keys.Store) {
	set(t, s, "a", "1", "c", "3")
	boom := errors.New("boom")
	err := s.Update(func(tx keys.Tx) error {
		tx.Set("a", []byte("changed"))
		tx.Set("b", []byte("new"))
		tx.Delete("c")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want the function's error", err)
	}
	wantValue(t, s, "a", "1")
	wantMissing(t, s, "b")
	wantValue(t, s, "c", "3")
}

func storeViewReadOnly(t *testing.T, s keys.Store) {
	if err := s.View(func(tx keys.Tx) error { return tx.Set("a", []byte("1")) }); err == nil {
		t.Error("Set in View succeeded")
	}
	wantMissing(t, s, "a")
}

func storeBuffers(t *testing.T, s keys.Store) {
	v := []byte("value")
	if err := s.Update(func(tx keys.Tx) error { return tx.Set("a", v) }); err != nil {
		t.Fatal(err)
	}
	copy(v, "XXXXX")
	got, _ := get(t, s, "a")
	copy(got, "YYYYY")
	wantValue(t, s, "a", "value")
}

// TestMainKey runs the keys.MainKey conformance tests on keys from newKey.
func TestMainKey(t *testing.T, newKey func(t *testing.T) keys.MainKey) {
	ctx := context.Background()
	kc := keys.KeyContext{VolumeID: "0123456789abcdef0123456789abcdef", Key: keys.Ref{Name: "logs", Version: 3}}
	secret := bytes.Repeat([]byte{0x5a}, keys.KeyLen)
	t.Run("round-trip", func(t *testing.T) {
		m := newKey(t)
		w1, w2 := wrap(t, m, secret, kc), wrap(t, m, secret, kc)
		if bytes.Equal(w1, w2) || bytes.Contains(w1, secret) {
			t.Error("wrapping is not randomised or leaks the key")
		}
		got, err := m.UnwrapKey(ctx, w1, kc)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("UnwrapKey = %x, %v; want %x", got, err, secret)
		}
	})
	t.Run("wrong-context", func(t *testing.T) {
		m := newKey(t)
		w := wrap(t, m, secret, kc)
		for _, other := range otherContexts(kc) {
			wantAuth(t, m, w, other)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		m := newKey(t)
		w := wrap(t, m, secret, kc)
		for _, bad := range tampered(w) {
			wantAuth(t, m, bad, kc)
		}
	})
}

func wrap(t *testing.T, m keys.MainKey, key []byte, kc keys.KeyContext) []byte {
	t.Helper()
	w, err := m.WrapKey(context.Background(), key, kc)
	if err != nil {
		t.Fatalf("WrapKey: %v", err)
	}
	return w
}

func wantAuth(t *testing.T, m keys.MainKey, w []byte, kc keys.KeyContext) {
	t.Helper()
	if _, err := m.UnwrapKey(context.Background(), w, kc); !errors.Is(err, keys.ErrAuth) {
		t.Errorf("UnwrapKey(%x, %+v) error = %v, want ErrAuth", w, kc, err)
	}
}

func otherContexts(kc keys.KeyContext) []keys.KeyContext {
	vol, name, ver := kc, kc, kc
	vol.VolumeID = "ffffffffffffffffffffffffffffffff"
	name.Key.Name = "logs2"
	ver.Key.Version++
	return []keys.KeyContext{vol, name, ver}
}

// tampered returns copies of w with one bit flipped at the start, middle
// and end, and w cut short.
func tampered(w []byte) [][]byte {
	var out [][]byte
	for _, i := range []int{0, len(w) / 2, len(w) - 1} {
		b := slices.Clone(w)
		b[i] ^= 0x01
		out = append(out, b)
	}
	return append(out, w[:len(w)-1], w[:1], nil)
}
