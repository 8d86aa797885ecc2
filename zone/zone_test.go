package zone

import (
	"bytes"
	"context"
	"encoding/hex"
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

func (k *fakeKeyring) GenerateEDEK(_ context.Context, name string, w keys.Wrap, binding []byte) (*keys.Secret, keys.EDEK, error) {
	if name != "logs" {
		return nil, keys.EDEK{}, keys.ErrKeyNotFound
	}
	k.binding = bytes.Clone(binding)
	dek := bytes.Repeat([]byte{7}, 32)
	e := keys.EDEK{Key: keys.Ref{Name: name, Version: 3}, Wrap: w, Wrapped: append(bytes.Clone(binding), dek...)}
	if w == keys.WrapKW { // the real length, so that the xattr round-trips
		e.Wrapped = append(dek, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	return keys.NewSecret(bytes.Clone(dek)), e, nil
}

func (k *fakeKeyring) DecryptEDEK(_ context.Context, e keys.EDEK, binding []byte) (*keys.Secret, error) {
	if e.Wrap == keys.WrapKW {
		if !bytes.Equal(binding, k.binding) {
			return nil, keys.ErrAuth
		}
		return keys.NewSecret(bytes.Clone(e.Wrapped[:32])), nil
	}
	if !bytes.HasPrefix(e.Wrapped, binding) {
		return nil, keys.ErrAuth
	}
	return keys.NewSecret(bytes.Clone(e.Wrapped[len(binding):])), nil
}

func TestNewFileMeta(t *testing.T) {
	for suite, format := range map[chunk.Suite]uint8{chunk.XChaCha20Poly1305: FileFormat1, chunk.AES256GCM: FileFormat2} {
		t.Run(suite.String(), func(t *testing.T) { testNewFileMeta(t, suite, format) })
	}
}

func testNewFileMeta(t *testing.T, suite chunk.Suite, format uint8) {
	ctx := context.Background()
	kr := &fakeKeyring{}
	m, dek, err := NewFileMeta(ctx, kr, "logs", suite, 16384)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != format || m.EDEK.Wrap != m.wrap() || !bytes.Equal(kr.binding, m.Binding()) || m.EDEK.Key.String() != "logs@3" {
		t.Fatalf("format %d, wrap %d; keyring got binding %x, meta has %x, key %v", m.Format, m.EDEK.Wrap, kr.binding, m.Binding(), m.EDEK.Key)
	}
	parsed, err := ParseFileMeta(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Format != format || parsed.EDEK.Wrap != m.EDEK.Wrap || parsed.ChunkSize != 16384 {
		t.Fatalf("parsed %+v from %+v", parsed, m)
	}
	got, err := parsed.DEK(ctx, kr)
	if err != nil || !bytes.Equal(got.Bytes(), dek.Bytes()) {
		t.Fatalf("DEK after round trip: %v", err)
	}
	id, err := parsed.ContentID(got.Bytes())
	if err != nil || id == ([IDLen]byte{}) {
		t.Fatalf("content id %x, %v", id, err)
	}
	other, odek, _ := NewFileMeta(ctx, kr, "logs", suite, 16384)
	odek.Bytes()[0] ^= 1 // the fake keyring's DEKs are all equal; real ones are random
	if oid, _ := other.ContentID(odek.Bytes()); oid == id {
		t.Fatal("two files got the same content id")
	}
}

// A relabelled header fails to unwrap in both formats. An EDEK moved from another file fails
// to unwrap in format 1 (the file id is bound); in format 2 it unwraps to the other file's
// DEK, under which this file's chunks fail (zone/chunk and integration tamper tests).
func TestFileMetaBindingDetectsMove(t *testing.T) {
	ctx := context.Background()
	kr := &fakeKeyring{}
	a, _, _ := NewFileMeta(ctx, kr, "logs", chunk.XChaCha20Poly1305, 4096)
	b, _, _ := NewFileMeta(ctx, kr, "logs", chunk.XChaCha20Poly1305, 4096)
	b.EDEK = a.EDEK // an EDEK taken from another file
	if _, err := b.DEK(ctx, kr); !errors.Is(err, keys.ErrAuth) {
		t.Fatalf("moved EDEK: got %v, want keys.ErrAuth", err)
	}
	for _, suite := range []chunk.Suite{chunk.XChaCha20Poly1305, chunk.AES256GCM} {
		m, _, _ := NewFileMeta(ctx, kr, "logs", suite, 4096)
		m.ChunkSize = 8192 // a relabelled header
		if _, err := m.DEK(ctx, kr); !errors.Is(err, keys.ErrAuth) {
			t.Fatalf("%s: changed chunk size: got %v, want keys.ErrAuth", suite, err)
		}
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
	_, err = ParseFileMeta([]byte{3})
	const want2 = "malformed user.ezfs.file: format version: unsupported format version 3 (this ezfs reads 1 and 2)"
	if err == nil || err.Error() != want2 {
		t.Fatalf("got %q, want %q", err, want2)
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

// The worked example of FORMAT.md "File metadata, format 2": the file id of DEK 40 41 … 5f.
func TestContentIDVector(t *testing.T) {
	m := vecMeta2
	id, err := m.ContentID(seqBytes(0x40, 32))
	if err != nil || hex.EncodeToString(id[:]) != "e5030cf4fbeb9046df55621edd57b203" {
		t.Fatalf("content id %x, %v", id, err)
	}
	v1 := vecMeta
	if id, _ := v1.ContentID(seqBytes(0x40, 32)); id != v1.FileID {
		t.Fatalf("format 1 content id %x, want the stored file id", id)
	}
}
