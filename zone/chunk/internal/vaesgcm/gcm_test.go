package vaesgcm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
)

func need(t testing.TB) {
	t.Helper()
	if !Available() {
		t.Skip("CPU lacks VAES, VPCLMULQDQ or AVX2")
	}
}

// kernel is one set of kernels that Seal and Open can run on.
type kernel struct {
	name   string
	use512 bool
}

// kernels lists both sets: the 512-bit one is skipped where the CPU lacks
// AVX-512.
var kernels = []kernel{{"vaes512", true}, {"vaes256", false}}

// with runs fn with Seal and Open switched to k's kernels, and reports
// false without running it when this CPU cannot run them.
func with(k kernel, fn func()) bool {
	if k.use512 && !has512 {
		return false
	}
	defer func(old bool) { use512 = old }(use512)
	use512 = k.use512
	fn()
	return true
}

// forKernels runs fn as a subtest for each set of kernels.
func forKernels(t *testing.T, fn func(t *testing.T)) {
	need(t)
	for _, k := range kernels {
		t.Run(k.name, func(t *testing.T) {
			if !with(k, func() { fn(t) }) {
				t.Skip("CPU lacks AVX-512")
			}
		})
	}
}

func stdGCM(t testing.TB, key []byte) cipher.AEAD {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// lengths covers every size around the kernels' 16-, 64-, 256- and
// 512-byte steps, and the chunk sizes the chunk package uses.
func lengths() []int {
	var ns []int
	for n := 0; n <= 600; n++ {
		ns = append(ns, n)
	}
	for _, base := range []int{768, 1024, 1536, 2048, 3072, 4096, 8192, 16384, 65536} {
		for d := -17; d <= 17; d++ {
			ns = append(ns, base+d)
		}
	}
	return append(ns, 1<<20)
}

// TestMatchesStdlib seals and opens random messages of every length with
// random keys, nonces and additional data, both ways against crypto/cipher.
func TestMatchesStdlib(t *testing.T) { forKernels(t, testMatchesStdlib) }

func testMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range lengths() {
		key, nonce := make([]byte, KeySize), make([]byte, NonceSize)
		fill(rng, key)
		fill(rng, nonce)
		ad := make([]byte, rng.IntN(70))
		fill(rng, ad)
		plain := make([]byte, n)
		fill(rng, plain)
		ours, std := New(key), stdGCM(t, key)

		want := std.Seal(nil, nonce, plain, ad)
		got := ours.Seal([]byte("prefix"), nonce, plain, ad)
		if !bytes.Equal(got[6:], want) || string(got[:6]) != "prefix" {
			t.Fatalf("seal of %d bytes (ad %d) differs from crypto/cipher", n, len(ad))
		}
		opened, err := ours.Open(nil, nonce, want, ad)
		if err != nil || !bytes.Equal(opened, plain) {
			t.Fatalf("open of %d bytes (ad %d): %v", n, len(ad), err)
		}
	}
}

// TestADLengths opens and seals messages around the kernels' steps with
// additional data of every interesting length, the 25 bytes of a chunk
// among them, and lengths that go through the 256-bit GHASH first.
func TestADLengths(t *testing.T) { forKernels(t, testADLengths) }

func testADLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	key, nonce := make([]byte, KeySize), make([]byte, NonceSize)
	fill(rng, key)
	ours, std := New(key), stdGCM(t, key)
	for _, n := range []int{0, 1, 16, 100, 512, 4096 - 17, 4096, 4096 + 17} {
		for _, adLen := range []int{0, 1, 15, 16, 17, 25, 32, 33, 63, 64, 65, 70, 255, 256, 257, 511, 512, 513, 700, 1024, 4096 + 33} {
			fill(rng, nonce)
			ad, plain := make([]byte, adLen), make([]byte, n)
			fill(rng, ad)
			fill(rng, plain)
			want := std.Seal(nil, nonce, plain, ad)
			if got := ours.Seal(nil, nonce, plain, ad); !bytes.Equal(got, want) {
				t.Fatalf("seal of %d bytes (ad %d) differs from crypto/cipher", n, adLen)
			}
			opened, err := ours.Open(nil, nonce, want, ad)
			if err != nil || !bytes.Equal(opened, plain) {
				t.Fatalf("open of %d bytes (ad %d): %v", n, adLen, err)
			}
			if adLen > 0 {
				ad[adLen-1] ^= 1
				if _, err := ours.Open(nil, nonce, want, ad); err == nil {
					t.Fatalf("open of %d bytes with the last bit of %d bytes of ad flipped succeeded", n, adLen)
				}
			}
		}
	}
}

// TestUnaligned seals and opens at odd offsets of the buffers.
func TestUnaligned(t *testing.T) { forKernels(t, testUnaligned) }

func testUnaligned(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	key, nonce := make([]byte, KeySize), make([]byte, NonceSize+3)
	fill(rng, key)
	fill(rng, nonce)
	ours, std := New(key), stdGCM(t, key)
	for _, n := range []int{100, 1000, 4096 + 17} {
		for off := 1; off < 8; off += 3 {
			ad := make([]byte, 25+off)
			fill(rng, ad)
			plain := make([]byte, n+off)
			fill(rng, plain)
			want := std.Seal(nil, nonce[off%3:][:NonceSize], plain[off:], ad[off:])
			dst := make([]byte, off, off+n+TagSize)
			got := ours.Seal(dst, nonce[off%3:][:NonceSize], plain[off:], ad[off:])
			if !bytes.Equal(got[off:], want) {
				t.Fatalf("seal of %d bytes at offset %d differs", n, off)
			}
			sealed := append(make([]byte, off), want...)[off:]
			opened, err := ours.Open(dst[:off], nonce[off%3:][:NonceSize], sealed, ad[off:])
			if err != nil || !bytes.Equal(opened[off:], plain[off:]) {
				t.Fatalf("open of %d bytes at offset %d: %v", n, off, err)
			}
		}
	}
}

// TestVector is the GCM specification's test case 16 (AES-256, 60 bytes,
// 20 bytes of additional data).
func TestVector(t *testing.T) { forKernels(t, testVector) }

func testVector(t *testing.T) {
	key := unhex(t, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
	nonce := unhex(t, "cafebabefacedbaddecaf888")
	plain := unhex(t, "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
	ad := unhex(t, "feedfacedeadbeeffeedfacedeadbeefabaddad2")
	want := unhex(t, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"+
		"76fc6ece0f4e1768cddf8853bb2d551b")
	a := New(key)
	if got := a.Seal(nil, nonce, plain, ad); !bytes.Equal(got, want) {
		t.Fatalf("seal = %x, want %x", got, want)
	}
	if got, err := a.Open(nil, nonce, want, ad); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %x, %v", got, err)
	}
}

// TestTamper flips every bit of a sealed message, its nonce and its
// additional data in turn: each must fail and leave dst untouched (Open
// zeroes the plaintext it wrote).
func TestTamper(t *testing.T) { forKernels(t, testTamper) }

func testTamper(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	key := make([]byte, KeySize)
	fill(rng, key)
	a := New(key)
	for _, n := range []int{0, 300, 1100} {
		nonce, ad := make([]byte, NonceSize), make([]byte, 25)
		fill(rng, nonce)
		fill(rng, ad)
		plain := make([]byte, n)
		fill(rng, plain)
		sealed := a.Seal(nil, nonce, plain, ad)
		for _, msg := range [][]byte{sealed, nonce, ad} {
			for i := range len(msg) * 8 {
				msg[i/8] ^= 1 << (i % 8)
				dst := make([]byte, 0, 2048)
				out, err := a.Open(dst, nonce, sealed, ad)
				if err == nil || out != nil || !bytes.Equal(dst[:cap(dst)], make([]byte, 2048)) {
					t.Fatalf("%d bytes, bit %d flipped: open = %v, %d bytes", n, i, err, len(out))
				}
				msg[i/8] ^= 1 << (i % 8)
			}
		}
	}
	nonce := make([]byte, NonceSize)
	sealed := a.Seal(nil, nonce, nil, nil)
	if _, err := a.Open(nil, nonce, sealed[:TagSize-1], nil); err == nil {
		t.Fatal("open of a message shorter than its tag succeeded")
	}
}

// TestInPlace seals and opens with dst aliasing the input exactly, as the
// chunk package's read path does, and checks that a wrong tag zeroes the
// buffer in place.
func TestInPlace(t *testing.T) { forKernels(t, testInPlace) }

func testInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	key, nonce := bytes.Repeat([]byte{7}, KeySize), bytes.Repeat([]byte{9}, NonceSize)
	ad := bytes.Repeat([]byte{3}, 25)
	a, std := New(key), stdGCM(t, key)
	for _, n := range []int{1, 64, 255, 256, 511, 512, 513, 1000, 4096, 4096 + 17, 5000, 1 << 20} {
		plain := make([]byte, n)
		fill(rng, plain)
		buf := make([]byte, n, n+TagSize)
		copy(buf, plain)
		sealed := a.Seal(buf[:0], nonce, buf, ad)
		if !bytes.Equal(sealed, std.Seal(nil, nonce, plain, ad)) {
			t.Fatalf("in-place seal of %d bytes differs", n)
		}
		opened, err := a.Open(sealed[:0], nonce, sealed, ad)
		if err != nil || !bytes.Equal(opened, plain) {
			t.Fatalf("in-place open of %d bytes: %v", n, err)
		}
		sealed = std.Seal(buf[:0], nonce, plain, ad)
		sealed[n/2] ^= 1
		if _, err := a.Open(sealed[:0], nonce, sealed, ad); err == nil || !bytes.Equal(buf[:n], make([]byte, n)) {
			t.Fatalf("in-place open of %d tampered bytes: %v, buffer not zeroed", n, err)
		}
	}
}

// TestOpenDown opens with the plaintext landing d bytes before the
// ciphertext in the same buffer, as the chunk package opens a run of
// chunks where they were read, each moved down over the nonces and tags
// before it.
func TestOpenDown(t *testing.T) { forKernels(t, testOpenDown) }

func testOpenDown(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	key, nonce := bytes.Repeat([]byte{7}, KeySize), bytes.Repeat([]byte{9}, NonceSize)
	ad := bytes.Repeat([]byte{3}, 25)
	a, std := New(key), stdGCM(t, key)
	for _, n := range []int{1, 100, 255, 256, 511, 512, 513, 4095, 4096, 4096 + 17, 1 << 16} {
		for _, d := range []int{1, 15, 16, 24, 40, 63, 64, 200, 511, 512, 4136, 10240} {
			plain := make([]byte, n)
			fill(rng, plain)
			buf := make([]byte, d+n+TagSize)
			sealed := std.Seal(buf[d:d], nonce, plain, ad)
			opened, err := a.Open(buf[:0], nonce, sealed, ad)
			if err != nil || !bytes.Equal(opened, plain) {
				t.Fatalf("open of %d bytes moved down %d: %v", n, d, err)
			}
		}
	}
}

// TestCounterWrap starts the 32-bit block counter just below 2^32 (a
// nonce cannot do that, so the kernels are called directly): GCM's inc32
// wraps within the last four bytes and leaves the nonce alone.
func TestCounterWrap(t *testing.T) {
	need(t)
	key := bytes.Repeat([]byte{1}, KeySize)
	a := New(key)
	b, _ := aes.NewCipher(key)
	const start = 0xffffff00
	c := counter(bytes.Repeat([]byte{0xee}, NonceSize), start)
	check := func(t *testing.T, got []byte) {
		t.Helper()
		for i := 0; i < len(got); i += 16 {
			blk := counter(c[:NonceSize], start+uint32(i/16))
			var want [16]byte
			b.Encrypt(want[:], blk[:])
			if !bytes.Equal(got[i:min(i+16, len(got))], want[:min(16, len(got)-i)]) {
				t.Fatalf("block %d: keystream differs", i/16)
			}
		}
	}
	t.Run("vaes256", func(t *testing.T) {
		src := make([]byte, 512*16)
		got := make([]byte, len(src))
		ctrXOR(&a.rk, &c, &got[0], &src[0], len(src))
		check(t, got)
	})
	t.Run("vaes512", func(t *testing.T) {
		if !has512 {
			t.Skip("CPU lacks AVX-512")
		}
		// Open or Seal of zeros yields the keystream; its first counter
		// block is J0+1, J0 = nonce ‖ j.
		// The length leaves a tail of whole and partial 64-byte chunks.
		src := make([]byte, 512*16+100)
		got := make([]byte, len(src))
		var y, tag [16]byte
		openAVX512(&a.rk, &a.table, &y, &c[0], start-1, &got[0], &src[0], len(src), nil, 0, 0, &tag[0])
		check(t, got)
		clear(got)
		sealAVX512(&a.rk, &a.table, &y, &c[0], start-1, &got[0], &src[0], len(src), nil, 0, 0)
		check(t, got)
	})
}

// TestRegisters checks that the 512-bit kernels leave Z16..Z31, which
// VZEROALL does not clear, zero: they held the round keys and data.
func TestRegisters(t *testing.T) {
	need(t)
	if !has512 {
		t.Skip("CPU lacks AVX-512")
	}
	a := New(bytes.Repeat([]byte{6}, KeySize))
	nonce, ad := make([]byte, NonceSize), make([]byte, 25)
	for _, n := range []int{0, 100, 4096} {
		src := make([]byte, n+TagSize)
		var y [16]byte
		var regs [16][64]byte
		sealAVX512(&a.rk, &a.table, &y, &nonce[0], 1, &src[0], &src[0], n, &ad[0], len(ad), len(ad))
		highRegs(&regs)
		if regs != ([16][64]byte{}) {
			t.Fatalf("seal of %d bytes left %x", n, regs)
		}
		openAVX512(&a.rk, &a.table, &y, &nonce[0], 1, &src[0], &src[0], n, &ad[0], len(ad), len(ad), &src[n])
		highRegs(&regs)
		if regs != ([16][64]byte{}) {
			t.Fatalf("open of %d bytes left %x", n, regs)
		}
	}
}

func TestWipe(t *testing.T) {
	need(t)
	a := New(bytes.Repeat([]byte{1}, KeySize))
	a.Wipe()
	if a.rk != ([15][32]byte{}) || a.table != (ghashKey{}) {
		t.Fatal("Wipe left key material")
	}
}

// TestTable checks that the table is H^33..H^1 in one linear form: entry
// for H^i is the entry for H^1 times H^(i-1), multiplied bitwise as the
// GCM specification does. (That the form itself is right, the comparisons
// with crypto/cipher show: every entry takes part in some length's tag.)
func TestTable(t *testing.T) {
	need(t)
	key := bytes.Repeat([]byte{4}, KeySize)
	a := New(key)
	b, _ := aes.NewCipher(key)
	var h [16]byte
	b.Encrypt(h[:], h[:])
	block := func(e [16]byte) (v [16]byte) { // undo the byte reversal
		for i := range v {
			v[i] = e[15-i]
		}
		return v
	}
	want := block(a.table.pow[32])
	for i := 2; i <= 33; i++ {
		want = gfMul(want, h)
		if got := block(a.table.pow[33-i]); got != want {
			t.Fatalf("table entry for H^%d = %x, want %x", i, got, want)
		}
	}
}

// gfMul multiplies in GCM's field, bit by bit as the specification does.
func gfMul(x, y [16]byte) [16]byte {
	var z [16]byte
	v := y
	for i := range 128 {
		if x[i/8]&(0x80>>(i%8)) != 0 {
			for j := range z {
				z[j] ^= v[j]
			}
		}
		lsb := v[15] & 1
		for j := 15; j > 0; j-- {
			v[j] = v[j]>>1 | v[j-1]<<7
		}
		v[0] >>= 1
		if lsb != 0 {
			v[0] ^= 0xe1
		}
	}
	return z
}

// FuzzOpen opens arbitrary input with crypto/cipher and with each set of
// kernels: they must agree on success and on the plaintext.
func FuzzOpen(f *testing.F) {
	need(f)
	key := bytes.Repeat([]byte{3}, KeySize)
	ours, std := New(key), stdGCM(f, key)
	nonce := make([]byte, NonceSize)
	f.Add([]byte("ad"), std.Seal(nil, nonce, []byte("hello, zone"), []byte("ad")))
	f.Add([]byte{}, std.Seal(nil, nonce, make([]byte, 300), nil))
	f.Add([]byte{}, []byte("short"))
	f.Add([]byte("twenty-five bytes of ad.."), std.Seal(nil, nonce, make([]byte, 4096), []byte("twenty-five bytes of ad..")))
	f.Add(make([]byte, 33), std.Seal(nil, nonce, make([]byte, 1000), make([]byte, 33)))
	f.Fuzz(func(t *testing.T, ad, sealed []byte) {
		want, werr := std.Open(nil, nonce, sealed, ad)
		var resealed []byte
		if werr != nil && len(sealed) >= TagSize { // a valid message too
			resealed = std.Seal(nil, nonce, sealed[:len(sealed)-TagSize], ad)
		}
		for _, k := range kernels {
			with(k, func() {
				got, gerr := ours.Open(nil, nonce, sealed, ad)
				if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
					t.Fatalf("%s open: ours %v, crypto/cipher %v", k.name, gerr, werr)
				}
				if resealed != nil {
					got, gerr = ours.Open(nil, nonce, resealed, ad)
					if gerr != nil || !bytes.Equal(got, sealed[:len(sealed)-TagSize]) {
						t.Fatalf("%s open of a valid message: %v", k.name, gerr)
					}
				}
			})
		}
	})
}

// BenchmarkSeal and BenchmarkOpen compare the 512-bit kernels, the
// 256-bit kernels and crypto/cipher on messages of one 4 KiB and one
// 64 KiB chunk with a chunk's 25 bytes of additional data.
func BenchmarkSeal(b *testing.B) {
	benchAEADs(b, func(b *testing.B, a cipher.AEAD, nonce []byte, n int) {
		plain, dst, ad := make([]byte, n), make([]byte, 0, n+TagSize), make([]byte, 25)
		for b.Loop() {
			a.Seal(dst, nonce, plain, ad)
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	benchAEADs(b, func(b *testing.B, a cipher.AEAD, nonce []byte, n int) {
		ad := make([]byte, 25)
		sealed := a.Seal(nil, nonce, make([]byte, n), ad)
		dst := make([]byte, 0, n)
		for b.Loop() {
			if _, err := a.Open(dst, nonce, sealed, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchAEADs(b *testing.B, fn func(b *testing.B, a cipher.AEAD, nonce []byte, n int)) {
	need(b)
	key := bytes.Repeat([]byte{5}, KeySize)
	nonce := make([]byte, NonceSize)
	for _, impl := range []struct {
		name string
		aead cipher.AEAD
		k    *kernel
	}{{"vaes512", New(key), &kernels[0]}, {"vaes256", New(key), &kernels[1]}, {"stdlib", stdGCM(b, key), nil}} {
		for _, n := range []int{4 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", impl.name, n>>10), func(b *testing.B) {
				b.SetBytes(int64(n))
				if impl.k == nil {
					fn(b, impl.aead, nonce, n)
				} else if !with(*impl.k, func() { fn(b, impl.aead, nonce, n) }) {
					b.Skip("CPU lacks AVX-512")
				}
			})
		}
	}
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
