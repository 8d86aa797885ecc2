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

// lengths covers every size around the kernels' 16-byte and 256-byte
// steps, and the chunk sizes the chunk package uses.
func lengths() []int {
	var ns []int
	for n := 0; n <= 600; n++ {
		ns = append(ns, n)
	}
	for _, base := range []int{1024, 4096, 16384, 65536} {
		for d := -17; d <= 17; d++ {
			ns = append(ns, base+d)
		}
	}
	return append(ns, 1<<20)
}

// TestMatchesStdlib seals and opens random messages of every length with
// random keys, nonces and additional data, both ways against crypto/cipher.
func TestMatchesStdlib(t *testing.T) {
	need(t)
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

// TestVector is the GCM specification's test case 16 (AES-256, 60 bytes,
// 20 bytes of additional data).
func TestVector(t *testing.T) {
	need(t)
	key := unhex(t, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
	nonce := unhex(t, "cafebabefacedbaddecaf888")
	plain := unhex(t, "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
	ad := unhex(t, "feedfacedeadbeeffeedfacedeadbeefabaddad2")
	want := unhex(t, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"+
		"76fc6ece0f4e1768cddf8853bb2d551b")
	if got := New(key).Seal(nil, nonce, plain, ad); !bytes.Equal(got, want) {
		t.Fatalf("seal = %x, want %x", got, want)
	}
}

// TestTamper flips every bit of a sealed message, its nonce and its
// additional data in turn: each must fail and leave dst untouched.
func TestTamper(t *testing.T) {
	need(t)
	rng := rand.New(rand.NewPCG(3, 4))
	key, nonce, ad := make([]byte, KeySize), make([]byte, NonceSize), make([]byte, 25)
	fill(rng, key)
	fill(rng, nonce)
	fill(rng, ad)
	plain := make([]byte, 300)
	fill(rng, plain)
	a := New(key)
	sealed := a.Seal(nil, nonce, plain, ad)
	for _, msg := range [][]byte{sealed, nonce, ad} {
		for i := range len(msg) * 8 {
			msg[i/8] ^= 1 << (i % 8)
			dst := make([]byte, 0, 512)
			out, err := a.Open(dst, nonce, sealed, ad)
			if err == nil || out != nil || !bytes.Equal(dst[:cap(dst)], make([]byte, 512)) {
				t.Fatalf("bit %d flipped: open = %v, %d bytes", i, err, len(out))
			}
			msg[i/8] ^= 1 << (i % 8)
		}
	}
	if _, err := a.Open(nil, nonce, sealed[:TagSize-1], ad); err == nil {
		t.Fatal("open of a message shorter than its tag succeeded")
	}
}

// TestInPlace seals and opens with dst aliasing the input exactly.
func TestInPlace(t *testing.T) {
	need(t)
	key, nonce := bytes.Repeat([]byte{7}, KeySize), bytes.Repeat([]byte{9}, NonceSize)
	a, std := New(key), stdGCM(t, key)
	for _, n := range []int{1, 255, 256, 4096, 5000} {
		plain := bytes.Repeat([]byte{0x5a}, n)
		buf := make([]byte, n, n+TagSize)
		copy(buf, plain)
		sealed := a.Seal(buf[:0], nonce, buf, nil)
		if !bytes.Equal(sealed, std.Seal(nil, nonce, plain, nil)) {
			t.Fatalf("in-place seal of %d bytes differs", n)
		}
		opened, err := a.Open(sealed[:0], nonce, sealed, nil)
		if err != nil || !bytes.Equal(opened, plain) {
			t.Fatalf("in-place open of %d bytes: %v", n, err)
		}
	}
}

// TestCounterWrap starts the 32-bit block counter just below 2^32 (a
// nonce cannot do that, so the kernel is called directly): GCM's inc32
// wraps within the last four bytes and leaves the nonce alone.
func TestCounterWrap(t *testing.T) {
	need(t)
	key := bytes.Repeat([]byte{1}, KeySize)
	a := New(key)
	b, _ := aes.NewCipher(key)
	c := counter(bytes.Repeat([]byte{0xee}, NonceSize), 0xffffff00)
	src := make([]byte, 512*16)
	got := make([]byte, len(src))
	ctrXOR(&a.rk, &c, &got[0], &src[0], len(src))
	for i := range 512 {
		blk := counter(c[:NonceSize], 0xffffff00+uint32(i))
		var want [16]byte
		b.Encrypt(want[:], blk[:])
		if !bytes.Equal(got[i*16:(i+1)*16], want[:]) {
			t.Fatalf("block %d: keystream differs", i)
		}
	}
}

func TestWipe(t *testing.T) {
	need(t)
	a := New(bytes.Repeat([]byte{1}, KeySize))
	a.Wipe()
	if a.rk != ([15][32]byte{}) || a.table != ([16][16]byte{}) {
		t.Fatal("Wipe left key material")
	}
}

// FuzzOpen opens arbitrary input with both implementations: they must
// agree on success and on the plaintext.
func FuzzOpen(f *testing.F) {
	need(f)
	key := bytes.Repeat([]byte{3}, KeySize)
	ours, std := New(key), stdGCM(f, key)
	nonce := make([]byte, NonceSize)
	f.Add([]byte("ad"), std.Seal(nil, nonce, []byte("hello, zone"), []byte("ad")))
	f.Add([]byte{}, std.Seal(nil, nonce, make([]byte, 300), nil))
	f.Add([]byte{}, []byte("short"))
	f.Fuzz(func(t *testing.T, ad, sealed []byte) {
		want, werr := std.Open(nil, nonce, sealed, ad)
		got, gerr := ours.Open(nil, nonce, sealed, ad)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("open: ours %v, crypto/cipher %v", gerr, werr)
		}
		if werr != nil && len(sealed) >= TagSize { // make it valid, then compare again
			resealed := std.Seal(nil, nonce, sealed[:len(sealed)-TagSize], ad)
			got, gerr = ours.Open(nil, nonce, resealed, ad)
			if gerr != nil || !bytes.Equal(got, sealed[:len(sealed)-TagSize]) {
				t.Fatalf("open of a valid message: %v", gerr)
			}
		}
	})
}

// BenchmarkSeal and BenchmarkOpen compare the kernels with crypto/cipher
// on messages of one 4 KiB and one 64 KiB chunk.
func BenchmarkSeal(b *testing.B) {
	benchAEADs(b, func(b *testing.B, a cipher.AEAD, nonce []byte, n int) {
		plain, dst := make([]byte, n), make([]byte, 0, n+TagSize)
		for b.Loop() {
			a.Seal(dst, nonce, plain, make([]byte, 25))
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	benchAEADs(b, func(b *testing.B, a cipher.AEAD, nonce []byte, n int) {
		sealed := a.Seal(nil, nonce, make([]byte, n), make([]byte, 25))
		dst := make([]byte, 0, n)
		for b.Loop() {
			if _, err := a.Open(dst, nonce, sealed, make([]byte, 25)); err != nil {
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
	}{{"vaes", New(key)}, {"stdlib", stdGCM(b, key)}} {
		for _, n := range []int{4 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", impl.name, n>>10), func(b *testing.B) {
				b.SetBytes(int64(n))
				fn(b, impl.aead, nonce, n)
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
