package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// errEnough ends a worker that has done its share.
var errEnough = errors.New("enough")

// Readers, writers, creators, deleters and renamers work in the zone while it is walked;
// when the walk says completed, every file in the zone is on the target version, and the
// files written meanwhile hold exactly what was written (issue 4 "What it must survive").
func TestReencryptConcurrent(t *testing.T) {
	v, z := rolledZone(t, 2000)
	os.MkdirAll(filepath.Join(z, "moved"), 0o755)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	fail := func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
	worker := func(fn func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := fn(i); err == errEnough {
					return
				} else if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	written := filepath.Join(z, "d00", "f0007")
	f, err := os.OpenFile(written, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var appended bytes.Buffer
	worker(func(i int) error { // a writer with the file open through the walk
		line := fmt.Sprintf("append %d\n", i)
		appended.WriteString(line)
		_, err := f.WriteString(line)
		return err
	})
	worker(func(i int) error { // a reader
		_, err := os.ReadFile(filepath.Join(z, "d05", fmt.Sprintf("f%04d", 500+i%100)))
		return err
	})
	worker(func(i int) error { // a creator (bounded: an endless one could outpace any walk)
		if i >= 3000 {
			return errEnough
		}
		return os.WriteFile(filepath.Join(z, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("new%d", i)), []byte("new"), 0o644)
	})
	worker(func(i int) error { // a deleter
		if i >= 300 {
			return errEnough
		}
		err := os.Remove(filepath.Join(z, "d19", fmt.Sprintf("f%04d", 1900+i%100)))
		if os.IsNotExist(err) {
			return nil
		}
		return err
	})
	worker(func(i int) error { // a renamer: from the end of the walk order to its start and back
		n := 1800 + i%100
		name := fmt.Sprintf("f%04d", n)
		src, dst := filepath.Join(z, "d18", name), filepath.Join(z, "d00", "m"+name)
		if i/100%2 == 1 {
			src, dst = dst, src
		}
		err := os.Rename(src, dst)
		if os.IsNotExist(err) {
			return nil
		}
		return err
	})

	out, stderr, code := ezfs("reencrypt", "start", z, "--wait", "--rate", "1500", "--batch", "100")
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("reencrypt start --wait: exit %d\n%s%s", code, out, stderr)
	}
	for _, err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	onlyVersion(t, filepath.Join(v.backing, "z"), 2)
	b, err := os.ReadFile(written)
	want := fmt.Sprintf("file %d %s\n", 7, marker) + appended.String()
	if err != nil || string(b) != want {
		t.Errorf("file written during the walk: %d bytes, want %d (%v)", len(b), len(want), err)
	}
}
