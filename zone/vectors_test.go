package zone

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone/chunk"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the case table")

const vectorDir = "testdata/vectors"

// vector is one golden case: a structure, its encoding, and an optional mutation whose
// result must be rejected with expect naming the reason and field the rejected field.
type vector struct {
	name, comment string
	kind          string // marker, file, record
	marker        Marker
	meta          FileMeta
	rec           Record
	mutate        func([]byte) []byte
	expect, field string // expect: ok, version, truncated, trailing, invalid
}

func seqID(start byte) (id [IDLen]byte) {
	for i := range id {
		id[i] = start + byte(i)
	}
	return id
}

func seqBytes(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

var (
	vecMarker = Marker{ID: seqID(0x10), Key: "securelakekey"}
	vecMeta   = FileMeta{Format: FileFormat1, Suite: chunk.AES256GCM, ChunkSize: 4096, FileID: seqID(0x40),
		EDEK: keys.EDEK{Key: keys.Ref{Name: "securelakekey", Version: 2}, Wrapped: seqBytes(0x80, 72)}}
	vecMeta2 = FileMeta{Format: FileFormat2, Suite: chunk.AES256GCM, ChunkSize: 4096,
		EDEK: keys.EDEK{Key: keys.Ref{Name: "securelakekey", Version: 2}, Wrap: keys.WrapKW, Wrapped: seqBytes(0x80, keys.KWLen)}}
	vecRecord = Record{ID: seqID(0x10), Key: "securelakekey", Path: "data/securelake",
		Created: time.Date(2025, 3, 1, 12, 0, 0, 5, time.UTC)}
)

func setByte(i int, v byte) func([]byte) []byte {
	return func(b []byte) []byte { b[i] = v; return b }
}

func cut(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:len(b)-n] } }

func zeroRange(i, j int) func([]byte) []byte {
	return func(b []byte) []byte { clear(b[i:j]); return b }
}

func appendZero(b []byte) []byte { return append(b, 0) }

func vectorTable() []vector {
	xmeta := vecMeta
	xmeta.Suite, xmeta.ChunkSize = chunk.XChaCha20Poly1305, 65536
	xmeta.EDEK.Key = keys.Ref{Name: "logs.2025-a_b", Version: 1}
	meta2big := vecMeta2 // a 2-byte varint version, 1 MiB chunks, the longest name
	meta2big.ChunkSize, meta2big.EDEK.Key = 1<<20, keys.Ref{Name: strings.Repeat("k", 64), Version: 300}
	root := vecRecord
	root.Path, root.Created = ".", time.Unix(0, 0).UTC()
	return []vector{
		{name: "marker-ok", kind: "marker", marker: vecMarker, expect: "ok"},
		{name: "marker-version-2", kind: "marker", marker: vecMarker, mutate: setByte(0, 2), expect: "version", field: "format version"},
		{name: "marker-zero-id", kind: "marker", marker: vecMarker, mutate: zeroRange(1, 17), expect: "invalid", field: "zone id"},
		{name: "marker-bad-name", kind: "marker", marker: vecMarker, mutate: setByte(18, '/'), expect: "invalid", field: "key name"},
		{name: "marker-empty-name", kind: "marker", marker: vecMarker, mutate: func(b []byte) []byte { b[17] = 0; return b[:18] }, expect: "invalid", field: "key name"},
		{name: "marker-cut-name", kind: "marker", marker: vecMarker, mutate: cut(1), expect: "truncated", field: "key name"},
		{name: "marker-trailing", kind: "marker", marker: vecMarker, mutate: appendZero, expect: "trailing", field: "end"},
		{name: "file-ok-aes", kind: "file", meta: vecMeta, expect: "ok"},
		{name: "file-ok-xchacha-64k", kind: "file", meta: xmeta, expect: "ok"},
		{name: "file-version-0", kind: "file", meta: vecMeta, mutate: setByte(0, 0), expect: "version", field: "format version"},
		{name: "file-unknown-suite", kind: "file", meta: vecMeta, mutate: setByte(1, 3), expect: "invalid", field: "suite"},
		{name: "file-chunk-size-5000", kind: "file", meta: vecMeta, mutate: func(b []byte) []byte { b[4], b[5] = 0x13, 0x88; return b }, expect: "invalid", field: "chunk size"},
		{name: "file-zero-id", kind: "file", meta: vecMeta, mutate: zeroRange(6, 22), expect: "invalid", field: "file id"},
		{name: "file-key-version-0", kind: "file", meta: vecMeta, mutate: zeroRange(36, 40), expect: "invalid", field: "key version"},
		{name: "file-empty-edek", kind: "file", meta: vecMeta, mutate: func(b []byte) []byte { b[40] = 0; return b[:41] }, expect: "invalid", field: "wrapped EDEK"},
		{name: "file-cut-edek", kind: "file", meta: vecMeta, mutate: cut(1), expect: "truncated", field: "wrapped EDEK"},
		{name: "file-binding-only", kind: "file", meta: vecMeta, mutate: func(b []byte) []byte { return b[:BindingLen] }, expect: "truncated", field: "key name length"},
		{name: "file-empty", kind: "file", meta: vecMeta, mutate: func(b []byte) []byte { return b[:0] }, expect: "truncated", field: "format version"},
		{name: "file-trailing", kind: "file", meta: vecMeta, mutate: appendZero, expect: "trailing", field: "end"},
		{name: "file2-ok-aes", kind: "file", meta: vecMeta2, expect: "ok"},
		{name: "file2-ok-xchacha", kind: "file", meta: func() FileMeta { m := vecMeta2; m.Suite = chunk.XChaCha20Poly1305; return m }(), expect: "ok"},
		{name: "file2-ok-version-300-1m", kind: "file", meta: meta2big, expect: "ok"},
		{name: "file2-version-3", kind: "file", meta: vecMeta2, mutate: setByte(0, 3), expect: "version", field: "format version"},
		{name: "file2-unknown-suite", kind: "file", meta: vecMeta2, mutate: setByte(1, 0), expect: "invalid", field: "suite"},
		{name: "file2-chunk-shift-11", kind: "file", meta: vecMeta2, mutate: setByte(2, 11), expect: "invalid", field: "chunk size"},
		{name: "file2-chunk-shift-21", kind: "file", meta: vecMeta2, mutate: setByte(2, 21), expect: "invalid", field: "chunk size"},
		{name: "file2-chunk-shift-255", kind: "file", meta: vecMeta2, mutate: setByte(2, 255), expect: "invalid", field: "chunk size"},
		{name: "file2-key-version-0", kind: "file", meta: vecMeta2, mutate: setByte(3, 0), expect: "invalid", field: "key version"},
		{name: "file2-version-not-shortest", kind: "file", meta: vecMeta2, mutate: func(b []byte) []byte { return append(append(b[:3:3], 0x82, 0x00), b[4:]...) }, expect: "invalid", field: "key version"},
		{name: "file2-version-over-32-bits", kind: "file", meta: vecMeta2, mutate: func(b []byte) []byte { return append(append(b[:3:3], 0x80, 0x80, 0x80, 0x80, 0x10), b[4:]...) }, expect: "invalid", field: "key version"},
		{name: "file2-version-cut", kind: "file", meta: vecMeta2, mutate: func(b []byte) []byte { return append(b[:3], 0x80) }, expect: "truncated", field: "key version"},
		{name: "file2-cut-edek", kind: "file", meta: vecMeta2, mutate: func(b []byte) []byte { return b[:4+keys.KWLen-1] }, expect: "truncated", field: "wrapped EDEK"},
		{name: "file2-no-name", kind: "file", meta: vecMeta2, mutate: func(b []byte) []byte { return b[:4+keys.KWLen] }, expect: "invalid", field: "key name"},
		{name: "file2-bad-name", kind: "file", meta: vecMeta2, mutate: func(b []byte) []byte { return append(b, '/') }, expect: "invalid", field: "key name"},
		{name: "file2-name-too-long", kind: "file", meta: meta2big, mutate: func(b []byte) []byte { return append(b, 'k') }, expect: "invalid", field: "key name"},
		{name: "record-ok", kind: "record", rec: vecRecord, expect: "ok"},
		{name: "record-ok-root", kind: "record", rec: root, expect: "ok"},
		{name: "record-dotdot", kind: "record", rec: vecRecord, mutate: func(b []byte) []byte { copy(b[17:], "../"); return b }, expect: "invalid", field: "path"},
		{name: "record-version-9", kind: "record", rec: vecRecord, mutate: setByte(0, 9), expect: "version", field: "format version"},
		{name: "record-cut-created", kind: "record", rec: vecRecord, mutate: cut(1), expect: "truncated", field: "created"},
	}
}

// encode returns the vector's bytes before mutation and its description lines.
func (v vector) encode() ([]byte, []string) {
	switch v.kind {
	case "marker":
		return v.marker.Encode(), []string{
			"zone id: " + hex.EncodeToString(v.marker.ID[:]), "key: " + v.marker.Key}
	case "file":
		m := v.meta
		lines := []string{fmt.Sprintf("format: %d", m.Format), "suite: " + m.Suite.String(), fmt.Sprintf("chunk size: %d", m.ChunkSize)}
		if m.Format == FileFormat1 {
			lines = append(lines, "file id: "+hex.EncodeToString(m.FileID[:]))
		}
		return m.Encode(), append(lines, "key: "+m.EDEK.Key.String(),
			"wrapped: "+hex.EncodeToString(m.EDEK.Wrapped), "binding: "+hex.EncodeToString(m.Binding()))
	case "record":
		r := v.rec
		b, err := encodeRecord(r)
		if err != nil {
			panic(err)
		}
		return b, []string{"zone id: " + hex.EncodeToString(r.ID[:]), "key: " + r.Key,
			"path: " + r.Path, "created: " + r.Created.Format(time.RFC3339Nano)}
	}
	panic("unknown kind " + v.kind)
}

// writeVector renders v as `name: value` lines, a blank line, then hex 32 bytes a line.
func writeVector(v vector) error {
	b, lines := v.encode()
	if v.mutate != nil {
		b = v.mutate(b)
		lines = append([]string{"note: bytes are the fields below, then mutated; see vectors_test.go"}, lines...)
	}
	head := []string{"expect: " + v.expect, "kind: " + v.kind}
	if v.field != "" {
		head = append(head, "field: "+v.field)
	}
	var buf bytes.Buffer
	for _, l := range append(head, lines...) {
		buf.WriteString(l + "\n")
	}
	buf.WriteString("\n")
	for h := hex.EncodeToString(b); len(h) > 0; h = h[min(64, len(h)):] {
		buf.WriteString(h[:min(64, len(h))] + "\n")
	}
	return os.WriteFile(filepath.Join(vectorDir, v.name+".txt"), buf.Bytes(), 0o644)
}

// goldenFile is a parsed vector file.
type goldenFile struct {
	fields map[string]string
	data   []byte
}

func readVector(path string) (goldenFile, error) {
	f, err := os.ReadFile(path)
	if err != nil {
		return goldenFile{}, err
	}
	head, body, ok := strings.Cut(string(f), "\n\n")
	if !ok {
		return goldenFile{}, errors.New("no blank line after the header")
	}
	g := goldenFile{fields: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(head))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return g, fmt.Errorf("bad header line %q", sc.Text())
		}
		g.fields[k] = v
	}
	g.data, err = hex.DecodeString(strings.Join(strings.Fields(body), ""))
	return g, err
}

func TestUpdateVectors(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate")
	}
	old, _ := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	for _, p := range old {
		os.Remove(p)
	}
	for _, v := range vectorTable() {
		if err := writeVector(v); err != nil {
			t.Fatal(err)
		}
	}
}

// decodeAs decodes b as kind and returns it as a vector, so that its encoding and description
// can be compared with the file.
func decodeAs(kind string, b []byte) (vector, error) {
	v := vector{kind: kind}
	var err error
	switch kind {
	case "marker":
		v.marker, err = ParseMarker(b)
	case "file":
		var m *FileMeta
		if m, err = ParseFileMeta(b); m != nil {
			v.meta = *m
		}
	case "record":
		v.rec, err = parseRecord(seqID(0x10), b)
	default:
		err = fmt.Errorf("unknown kind %q", kind)
	}
	return v, err
}

var expectErr = map[string]error{"version": ErrFormatVersion, "truncated": ErrTruncated, "trailing": ErrTrailing}

func TestVectors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s (%v)", vectorDir, err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			g, err := readVector(path)
			if err != nil {
				t.Fatal(err)
			}
			checkVector(t, g)
		})
	}
}

func checkVector(t *testing.T, g goldenFile) {
	v, err := decodeAs(g.fields["kind"], g.data)
	switch want := g.fields["expect"]; want {
	case "ok":
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		b, lines := v.encode()
		if !bytes.Equal(b, g.data) {
			t.Errorf("encode(decode(x)) != x:\n got %x\nwant %x", b, g.data)
		}
		for _, l := range lines {
			k, val, _ := strings.Cut(l, ": ")
			if g.fields[k] != val {
				t.Errorf("field %s: decoded %q, file says %q", k, val, g.fields[k])
			}
		}
	case "version", "truncated", "trailing", "invalid":
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("decode: got %v, want a *ParseError", err)
		}
		if pe.Field != g.fields["field"] {
			t.Errorf("rejected field %q, want %q (%v)", pe.Field, g.fields["field"], err)
		}
		if s := expectErr[want]; s != nil && !errors.Is(err, s) {
			t.Errorf("error %v is not %v", err, s)
		}
	default:
		t.Fatalf("unknown expect %q", want)
	}
}

// vectorSeeds returns the bytes of every vector of kind, for seeding fuzz targets.
func vectorSeeds(t testing.TB, kind string) [][]byte {
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	var seeds [][]byte
	for _, path := range files {
		g, err := readVector(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.fields["kind"] == kind {
			seeds = append(seeds, g.data)
		}
	}
	return seeds
}
