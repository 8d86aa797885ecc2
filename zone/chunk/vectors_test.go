package chunk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors")

const vectorDir = "testdata/vectors"

// vector is one golden file: a sealed file (or run of chunks) and what
// opening it must give.
type vector struct {
	expect    string // ok | auth | truncated
	suite     Suite
	chunkSize int
	key       []byte
	fileID    [16]byte
	index     uint64 // index of the first chunk
	final     bool   // the last chunk is the file's final chunk
	plainHash [32]byte
	sealed    []byte
}

// detReader is a deterministic nonce source: SHA-256 of a counter.
type detReader struct {
	ctr uint64
	buf []byte
}

func (d *detReader) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		if len(d.buf) == 0 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], d.ctr)
			d.ctr++
			h := sha256.Sum256(c[:])
			d.buf = h[:]
		}
		k := copy(p[n:], d.buf)
		d.buf, n = d.buf[k:], n+k
	}
	return len(p), nil
}

func (v *vector) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "expect: %s\nsuite: %v\nchunk_size: %d\n", v.expect, v.suite, v.chunkSize)
	fmt.Fprintf(&b, "key: %x\nfile_id: %x\nindex: %d\n", v.key, v.fileID, v.index)
	fmt.Fprintf(&b, "final: %t\nplaintext_sha256: %x\n\n", v.final, v.plainHash)
	h := hex.EncodeToString(v.sealed)
	for len(h) > 0 {
		n := min(64, len(h))
		b.WriteString(h[:n] + "\n")
		h = h[n:]
	}
	return b.Bytes()
}

func parseVector(data []byte) (*vector, error) {
	v := &vector{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() && sc.Text() != "" {
		name, val, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", sc.Text())
		}
		if err := v.set(name, val); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var h strings.Builder
	for sc.Scan() {
		h.WriteString(sc.Text())
	}
	var err error
	v.sealed, err = hex.DecodeString(h.String())
	return v, err
}

func (v *vector) set(name, val string) (err error) {
	switch name {
	case "expect":
		v.expect = val
	case "suite":
		v.suite, err = ParseSuite(val)
	case "chunk_size":
		v.chunkSize, err = strconv.Atoi(val)
	case "key":
		v.key, err = hex.DecodeString(val)
	case "file_id":
		err = decodeInto(v.fileID[:], val)
	case "index":
		v.index, err = strconv.ParseUint(val, 10, 64)
	case "final":
		v.final, err = strconv.ParseBool(val)
	case "plaintext_sha256":
		err = decodeInto(v.plainHash[:], val)
	default:
		err = errors.New("unknown field")
	}
	return err
}

func decodeInto(dst []byte, s string) error {
	b, err := hex.DecodeString(s)
	if err == nil && len(b) != len(dst) {
		err = fmt.Errorf("want %d bytes, got %d", len(dst), len(b))
	}
	copy(dst, b)
	return err
}

// openVector opens v's sealed bytes as a file (or run) and returns the plaintext.
func openVector(v *vector) ([]byte, error) {
	c, err := New(v.suite, v.key, v.fileID, Layout{ChunkSize: v.chunkSize})
	if err != nil {
		return nil, err
	}
	if _, err := c.layout.PlainSize(int64(len(v.sealed))); err != nil {
		return nil, err
	}
	return c.OpenRun(nil, v.sealed, v.index, v.final)
}

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s: %v", vectorDir, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := parseVector(data)
			if err != nil {
				t.Fatal(err)
			}
			checkVector(t, v)
			checkInPlace(t, v, !strings.Contains(f, "remnant"))
		})
	}
}

func checkVector(t *testing.T, v *vector) {
	plain, err := openVector(v)
	switch v.expect {
	case "ok":
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if sha256.Sum256(plain) != v.plainHash {
			t.Fatalf("plaintext hash mismatch")
		}
	case "auth":
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("want ErrAuth, got %v", err)
		}
	case "truncated":
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("want ErrTruncated, got %v", err)
		}
	default:
		t.Fatalf("unknown expect %q", v.expect)
	}
}

// checkInPlace opens v with OpenRunInPlace, which must give OpenRun's
// plaintext or hand the run back (ok false) because a chunk is not intact.
// With intact, every chunk is (a remnant is not), so it must open.
func checkInPlace(t *testing.T, v *vector, intact bool) {
	want, err := openVector(v)
	c, _ := New(v.suite, v.key, v.fileID, Layout{ChunkSize: v.chunkSize})
	got, ok := c.OpenRunInPlace(bytes.Clone(v.sealed), v.index, v.final)
	switch {
	case ok && (err != nil || !bytes.Equal(got, want)):
		t.Fatalf("in place: %d bytes opened where OpenRun gives %d bytes, %v", len(got), len(want), err)
	case !ok && err == nil && intact:
		t.Fatal("in place: an intact run was handed back")
	}
}

// TestVectorsUpToDate fails when the generator and the golden files
// disagree: a format change must come with `go test -run Vectors -update`.
func TestVectorsUpToDate(t *testing.T) {
	for name, v := range genVectors(t) {
		got, err := os.ReadFile(filepath.Join(vectorDir, name+".txt"))
		if err != nil || !bytes.Equal(got, v.encode()) {
			t.Errorf("%s: golden file differs from generator (run with -update): %v", name, err)
		}
	}
}

func writeVectors(t *testing.T) {
	old, _ := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	for _, f := range old {
		os.Remove(f)
	}
	for name, v := range genVectors(t) {
		if err := os.WriteFile(filepath.Join(vectorDir, name+".txt"), v.encode(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
