package reencrypt_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

// BenchmarkWalk100k re-wraps a zone of small files (100,000 by default; set
// EZFS_BENCH_WALK_FILES to change) with the badger key store, and reports files/s.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./zone/reencrypt/
func BenchmarkWalk100k(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a zone of 100,000 files")
	}
	n := 100000
	if s := os.Getenv("EZFS_BENCH_WALK_FILES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	s, err := local.Open(filepath.Join(b.TempDir(), "ks"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := newEnvStore(b, s, keystest.NewMainKey())
	for i := range n {
		e.create(fmt.Sprintf("d%03d/f%06d", i%100, i))
	}
	workers, _ := strconv.Atoi(os.Getenv("EZFS_BENCH_WALK_WORKERS"))
	m := e.manager(reencrypt.Config{Workers: workers})
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		e.roll()
		b.StartTimer()
		start := time.Now()
		st := e.run(m, reencrypt.Options{})
		total += time.Since(start)
		b.Logf("walk of %d files: %v", n, time.Since(start))
		if st.Reencrypted != uint64(n) || st.Failed != 0 {
			b.Fatalf("status %+v", st)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "files/s")
}
