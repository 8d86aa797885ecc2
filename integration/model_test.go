package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// side is one directory the model test drives: a zone or a plain directory.
type side struct {
	dir string
	fds map[string]*os.File
}

// names the model test's files may have.
var names = []string{"f0", "f1", "f2", "f3"}

// step applies one random operation to both sides and returns its description.
func step(t *testing.T, rng *rand.Rand, sides [2]*side) string {
	name, other := names[rng.IntN(len(names))], names[rng.IntN(len(names))]
	op := rng.IntN(8)
	off, size := rng.Int64N(40000), rng.IntN(20000)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	desc := fmt.Sprintf("op %d on %s (other %s, off %d, size %d)", op, name, other, off, size)
	var results [2]string
	for i, s := range sides {
		results[i] = s.apply(op, name, other, off, data)
	}
	if results[0] != results[1] {
		t.Fatalf("%s: zone %q, plain %q", desc, results[0], results[1])
	}
	return desc
}

// apply runs one operation and returns a summary of its outcome to compare.
func (s *side) apply(op int, name, other string, off int64, data []byte) string {
	p := filepath.Join(s.dir, name)
	switch op {
	case 0, 1: // write at an offset
		n, err := s.fd(name).WriteAt(data, off)
		return fmt.Sprint(n, errText(err))
	case 2: // truncate
		return errText(os.Truncate(p, off))
	case 3: // append
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return errText(err)
		}
		defer f.Close()
		n, err := f.Write(data)
		return fmt.Sprint(n, errText(err))
	case 4: // read a range
		buf := make([]byte, len(data))
		n, err := s.fd(name).ReadAt(buf, off)
		return fmt.Sprint(n, errText(err), bytes.Clone(buf[:n]))
	case 5: // rename
		s.closeAll()
		return errText(os.Rename(p, filepath.Join(s.dir, other)))
	case 6: // hard link
		return errText(os.Link(p, filepath.Join(s.dir, other)))
	default: // reopen everything
		s.closeAll()
		return ""
	}
}

// fd returns an open read-write handle on name, creating the file if needed.
func (s *side) fd(name string) *os.File {
	if f, ok := s.fds[name]; ok {
		return f
	}
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		panic(err)
	}
	s.fds[name] = f
	return f
}

func (s *side) closeAll() {
	for n, f := range s.fds {
		f.Close()
		delete(s.fds, n)
	}
}

// errText is an error's text without the path (the sides' paths differ).
func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Op + ": " + pe.Err.Error()
	}
	if le, ok := err.(*os.LinkError); ok {
		return le.Op + ": " + le.Err.Error()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// compare checks that both sides hold the same files with the same contents.
func compare(t *testing.T, desc string, sides [2]*side) {
	for _, n := range names {
		a, errA := os.ReadFile(filepath.Join(sides[0].dir, n))
		b, errB := os.ReadFile(filepath.Join(sides[1].dir, n))
		if errText(errA) != errText(errB) || !bytes.Equal(a, b) {
			t.Fatalf("after %s: %s differs: zone %d bytes %v, plain %d bytes %v", desc, n, len(a), errA, len(b), errB)
		}
	}
}

func TestModel(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	plain := filepath.Join(v.mnt, "plain")
	os.Mkdir(plain, 0o755)
	sides := [2]*side{{dir: v.zone(t, "z"), fds: map[string]*os.File{}}, {dir: plain, fds: map[string]*os.File{}}}
	defer sides[0].closeAll()
	defer sides[1].closeAll()
	seed := uint64(20261123)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range 400 {
		desc := step(t, rng, sides)
		compare(t, fmt.Sprintf("step %d (seed %d): %s", i, seed, desc), sides)
	}
	noPlaintext(t, filepath.Join(v.backing, "z"))
}

func TestConcurrentWriters(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	p := filepath.Join(v.zone(t, "z"), "shared")
	const writers, span = 4, 100_003 // ranges that start and end mid-chunk
	want := make([]byte, writers*span)
	var wg sync.WaitGroup
	for w := range writers {
		part := bytes.Repeat([]byte{byte('a' + w)}, span)
		copy(want[w*span:], part)
		wg.Go(func() {
			f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			for off := 0; off < span; off += 7001 {
				end := min(off+7001, span)
				if _, err := f.WriteAt(part[off:end], int64(w*span+off)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("concurrent writes: %v, equal %v (len %d)", err, bytes.Equal(got, want), len(got))
	}
}
