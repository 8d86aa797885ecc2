package keystest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys"
)

// Vector is one test-vector file of "name: value" lines, in order. Blank
// lines and lines starting with # are comments. Binary values are hex.
type Vector struct {
	Name   string // file name without extension, for t.Run
	Fields []Field
}

// Field is one "name: value" line.
type Field struct{ Name, Value string }

// ReadVectors reads every *.txt file of dir, sorted by name.
func ReadVectors(t testing.TB, dir string) []*Vector {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no vectors in %s (%v); run the test with -update", dir, err)
	}
	var out []*Vector
	for _, p := range paths {
		out = append(out, readVector(t, p))
	}
	return out
}

func readVector(t testing.TB, path string) *Vector {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := &Vector{Name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			name, value, ok = strings.Cut(line, ":")
		}
		if !ok {
			t.Fatalf("%s:%d: want name: value", path, i+1)
		}
		v.Fields = append(v.Fields, Field{Name: name, Value: value})
	}
	return v
}

// All returns the values of every field called name.
func (v *Vector) All(name string) []string {
	var out []string
	for _, f := range v.Fields {
		if f.Name == name {
			out = append(out, f.Value)
		}
	}
	return out
}

// Get returns the one value of name, failing the test if there is not exactly one.
func (v *Vector) Get(t testing.TB, name string) string {
	t.Helper()
	all := v.All(name)
	if len(all) != 1 {
		t.Fatalf("vector %s: want one %q line, have %d", v.Name, name, len(all))
	}
	return all[0]
}

// Hex returns the hex-decoded value of name.
func (v *Vector) Hex(t testing.TB, name string) []byte {
	t.Helper()
	b, err := hex.DecodeString(v.Get(t, name))
	if err != nil {
		t.Fatalf("vector %s: field %s: %v", v.Name, name, err)
	}
	return b
}

// WriteVector writes fields to dir/name.txt, after an optional comment line.
func WriteVector(t testing.TB, dir, name, comment string, fields ...Field) {
	t.Helper()
	var sb strings.Builder
	if comment != "" {
		sb.WriteString("# " + comment + "\n")
	}
	for _, f := range fields {
		sb.WriteString(f.Name + ": " + f.Value + "\n")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// F returns a Field: a []byte value is written in hex, anything else with fmt.Sprint.
func F(name string, value any) Field {
	if b, ok := value.([]byte); ok {
		return Field{Name: name, Value: hex.EncodeToString(b)}
	}
	return Field{Name: name, Value: fmt.Sprint(value)}
}

// Seq returns n bytes counting up from start: the fixed keys, nonces and salts of vectors.
func Seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// WantParseError fails the test unless err is a *keys.ParseError naming field.
func WantParseError(t testing.TB, err error, field string) {
	t.Helper()
	var pe *keys.ParseError
	if !errors.As(err, &pe) || pe.Field != field {
		t.Fatalf("error = %v, want a ParseError naming field %s", err, field)
	}
}

// FuzzRoundTrip fuzzes the decoder of an on-disk format, seeded with seeds: decode either
// fails with a *keys.ParseError or returns a value that encode turns back into the same
// bytes, so that no two byte strings mean the same thing (STYLE.md "Tests").
func FuzzRoundTrip[T any](f *testing.F, seeds [][]byte, decode func([]byte) (T, error), encode func(T) []byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			var pe *keys.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a ParseError", err)
			}
			return
		}
		if enc := encode(v); !bytes.Equal(enc, b) {
			t.Fatalf("decode→encode changed the bytes:\n%x\n%x", b, enc)
		}
	})
}
