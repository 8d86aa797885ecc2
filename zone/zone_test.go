package zone

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone/chunk"
)

// fakeKeyring records the binding it was given and "wraps" by prefixing it.
type fakeKeyring struct{ binding []byte }

func (k *fakeKeyring) GenerateEDEK(_ context.Context, name string, binding []byte) (*keys.Secret, keys.EDEK, error) {
	if name != "logs" {
		return nil, keys.EDEK{}, keys.ErrKeyNotFound
	}
	k.binding = bytes.Clone(binding)
	dek := bytes.Repeat([]byte{7}, 32)
	e := keys.EDEK{Key: keys.Ref{Name: name, Version: 3}, Wrapped: append(bytes.Clone(binding), dek...)}
	return keys.NewSecret(bytes.Clone(dek)), e, nil
}

func (k *fakeKeyring) DecryptEDEK(_ context.Context, e keys.EDEK, binding []byte) (*keys.Secret, error) {
	if !bytes.HasPrefix(e.Wrapped, binding) {
		return nil, keys.ErrAuth
	}
	return keys.NewSecret(bytes.Clone(e.Wrapped[len(binding):])), nil
}

func TestNewFileMeta(t *testing.T) {
	ctx := context.Background()
	kr := &fakeKeyring{}
	m, dek, err := NewFileMeta(ctx, kr, "logs", chunk.XChaCha20Poly1305, 16384)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kr.binding, m.Binding()) || m.EDEK.Key.String() != "logs@3" {
		t.Fatalf("keyring got binding %x, meta has %x, key %v", kr.binding, m.Binding(), m.EDEK.Key)
	}
	parsed, err := ParseFileMeta(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsed.DEK(ctx, kr)
	if err != nil || !bytes.Equal(got.Bytes(), dek.Bytes()) {
		t.Fatalf("DEK after round trip: %v", err)
	}
	other, _, _ := NewFileMeta(ctx, kr, "logs", chunk.XChaCha20Poly1305, 16384)
	if other.FileID == m.FileID {
		t.Fatal("two files got the same id")
	}
}

func TestFileMetaBindingDetectsMove(t *testing.T) {
	ctx := context.Background()
	kr := &fakeKeyring{}
	a, _, _ := NewFileMeta(ctx, kr, "logs", chunk.AES256GCM, 4096)
	b, _, _ := NewFileMeta(ctx, kr, "logs", chunk.AES256GCM, 4096)
	b.EDEK = a.EDEK // an EDEK taken from another file
	if _, err := b.DEK(ctx, kr); !errors.Is(err, keys.ErrAuth) {
		t.Fatalf("moved EDEK: got %v, want keys.ErrAuth", err)
	}
	a.ChunkSize = 8192 // a relabelled header
	if _, err := a.DEK(ctx, kr); !errors.Is(err, keys.ErrAuth) {
		t.Fatalf("changed chunk size: got %v, want keys.ErrAuth", err)
	}
}

func TestNewFileMetaMissingKey(t *testing.T) {
	_, _, err := NewFileMeta(context.Background(), &fakeKeyring{}, "nope", chunk.AES256GCM, 4096)
	if !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("got %v, want keys.ErrKeyNotFound", err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := ParseMarker([]byte{2})
	const want = "malformed user.ezfs.zone: format version: unsupported format version 2 (this ezfs reads 1)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}

// mapTx is an in-memory keys.Tx.
type mapTx map[string][]byte

func (m mapTx) Get(k string) ([]byte, error) {
	if v, ok := m[k]; ok {
		return v, nil
	}
	return nil, keys.ErrNotFound
}
func (m mapTx) Set(k string, v []byte) error { m[k] = bytes.Clone(v); return nil }
func (m mapTx) Delete(k string) error        { delete(m, k); return nil }
func (m mapTx) Keys(prefix string) ([]string, error) {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out, nil
}

func TestRegistry(t *testing.T) {
	tx := mapTx{"key/logs": []byte("unrelated")}
	now := time.Now()
	a := Record{ID: seqID(1), Key: "logs", Path: "b/zone", Created: now}
	b := Record{ID: seqID(2), Key: "other", Path: "a/zone", Created: now}
	for _, r := range []Record{a, b} {
		if err := Register(tx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := Register(tx, a); !errors.Is(err, ErrZoneExists) {
		t.Fatalf("second register: got %v, want ErrZoneExists", err)
	}
	zones, err := Zones(tx)
	if err != nil || len(zones) != 2 || zones[0].Path != "a/zone" {
		t.Fatalf("Zones = %v, %v", zones, err)
	}
	if !zones[1].Created.Equal(now) || zones[1].Created.Location() != time.UTC {
		t.Errorf("created %v, want %v in UTC", zones[1].Created, now)
	}
	users, err := KeyInUse(tx, "logs")
	if err != nil || len(users) != 1 || users[0].ID != a.ID {
		t.Fatalf("KeyInUse(logs) = %v, %v", users, err)
	}
	a.Path = "c/renamed"
	if err := Update(tx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := Lookup(tx, a.ID); got.Path != "c/renamed" {
		t.Fatalf("after Update, path %q", got.Path)
	}
	if err := Remove(tx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(tx, a.ID); !errors.Is(err, ErrZoneNotFound) {
		t.Fatalf("after Remove: %v", err)
	}
	if users, _ := KeyInUse(tx, "logs"); len(users) != 0 {
		t.Fatalf("key still in use by %v", users)
	}
}

func TestRegisterRejects(t *testing.T) {
	for name, r := range map[string]Record{
		"zero-id":  {Key: "logs", Path: "z"},
		"bad-key":  {ID: seqID(1), Key: "a/b", Path: "z"},
		"abs-path": {ID: seqID(1), Key: "logs", Path: "/z"},
		"dotdot":   {ID: seqID(1), Key: "logs", Path: "a/../../z"},
		"unclean":  {ID: seqID(1), Key: "logs", Path: "a//z"},
		"empty":    {ID: seqID(1), Key: "logs", Path: ""},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Register(mapTx{}, r); err == nil {
				t.Fatal("registered")
			}
		})
	}
}

func TestZonesMalformed(t *testing.T) {
	tx := mapTx{RecordPrefix + "zz": []byte{1}}
	var pe *ParseError
	if _, err := Zones(tx); !errors.As(err, &pe) {
		t.Fatalf("got %v, want *ParseError", err)
	}
	tx = mapTx{recordKey(seqID(1)): []byte{1, 0}}
	if _, err := Zones(tx); !errors.As(err, &pe) || pe.Field != "key name" {
		t.Fatalf("got %v, want *ParseError on key name", err)
	}
}
