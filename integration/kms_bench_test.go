package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkCreate10k creates 10,000 small files per iteration in a zone of two mounted
// volumes, one under a local (passphrase) main key and one under an AWS KMS key (the
// kmstest server on 127.0.0.1), and reports each create rate and every KMS call, the
// mount's included (issue 5 "Caching": goal < 10 calls, rate within 10% of local).
// Batches of 500 files alternate between the two volumes, so that load from elsewhere
// on the machine falls on both alike.
//
//	go test ./integration -run '^$' -bench Create10k -benchtime 3x
func BenchmarkCreate10k(b *testing.B) {
	k := newKMSEnv(b)
	local := k.localVolume(b)
	kms := k.volume(b, "awskms:alias/ezfs")
	k.srv.ResetCalls()
	k.mount(b, local, "--passphrase-file", local.pw)
	k.mount(b, kms)
	zl, zk := k.benchZone(b, local), k.benchZone(b, kms)
	var took [2]time.Duration
	b.ResetTimer()
	for i := range b.N {
		for batch := range 20 {
			for n, z := range [2]string{zl, zk} {
				if batch%2 == 1 {
					n, z = 1-n, [2]string{zl, zk}[1-n]
				}
				took[n] += createBatch(b, filepath.Join(z, fmt.Sprint(i)), batch*500, 500)
			}
		}
	}
	files := float64(b.N * 10000)
	b.ReportMetric(files/took[0].Seconds(), "local-files/s")
	b.ReportMetric(files/took[1].Seconds(), "awskms-files/s")
	b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "awskms/local-rate")
	b.ReportMetric(float64(k.srv.TotalCalls()), "kms-calls")
}

// benchZone makes directory "zone" of v's mount a zone with key k.
func (k *kmsEnv) benchZone(b *testing.B, v *volume) string {
	z := filepath.Join(v.mnt, "zone")
	os.Mkdir(z, 0o755)
	k.run(b, 0, "zone", "create", z, "--key", "k")
	return z
}

// createBatch writes n files of 64 bytes, numbered from first, into dir.
func createBatch(b *testing.B, dir string, first, n int) time.Duration {
	os.Mkdir(dir, 0o755)
	data := make([]byte, 64)
	start := time.Now()
	for j := first; j < first+n; j++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(j)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// localVolume initialises a passphrase volume with zone key "k".
func (k *kmsEnv) localVolume(t testing.TB) *volume {
	t.Helper()
	d := t.TempDir()
	v := &volume{backing: filepath.Join(d, "backing"), mnt: filepath.Join(d, "mnt"), pw: filepath.Join(d, "pw")}
	os.Mkdir(v.backing, 0o755)
	os.Mkdir(v.mnt, 0o755)
	os.WriteFile(v.pw, []byte("correct horse\n"), 0o600)
	k.run(t, 0, "init", v.backing, "--main-key", "passphrase", "--passphrase-file", v.pw)
	k.run(t, 0, "key", "create", "k", "--backing", v.backing, "--passphrase-file", v.pw)
	return v
}
