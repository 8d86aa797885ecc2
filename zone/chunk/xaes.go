package chunk

import (
	"crypto/aes"
	"crypto/cipher"
	"io"
	"sync"
	"sync/atomic"

	"github.com/ezfs/ezfs/zone/chunk/internal/vaesgcm"
)

// XAES-256-GCM (c2sp.org/XAES-256-GCM), written from the spec. The subkey for
// a 24-byte nonce N is derived with the NIST SP 800-108r1 counter-mode KDF
// with CMAC-AES-256 over the DEK, for a message that fits one block:
//
//	L  = AES-256(K, 0¹²⁸)
//	K1 = L << 1, XOR 0x87 into the last byte if the top bit of L was set
//	Mi = 0x00 ‖ i ‖ "X" ‖ 0x00 ‖ N[:12]          (i = 0x01, 0x02)
//	Kx = AES-256(K, M1 ⊕ K1) ‖ AES-256(K, M2 ⊕ K1)
//
// and the chunk is sealed with AES-256-GCM under Kx with nonce N[12:].

const (
	prefixLen   = 12 // nonce bytes that select the subkey
	readerCache = 64 // subkeys kept for opening chunks of other writers
)

// maxSubkeyUses is how many chunks a writer seals under one derived subkey
// before it draws a new prefix (FORMAT.md "Nonces"). A variable so tests
// can lower it.
var maxSubkeyUses uint64 = 1 << 24

// xaes holds the DEK's AES block, the KDF constant K1 and the subkeys.
type xaes struct {
	block cipher.Block
	k1    [16]byte

	w   atomic.Pointer[writerKey] // subkey of this writer's current prefix
	wmu sync.Mutex                // serializes rotation of w

	mu    sync.RWMutex
	cache map[[prefixLen]byte]cipher.AEAD // subkeys seen by readers
}

// writerKey is one derived subkey and the number of chunks sealed under it.
type writerKey struct {
	prefix [prefixLen]byte
	aead   cipher.AEAD
	uses   atomic.Uint64
}

func newXAES(dek []byte) (*xaes, error) {
	b, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	x := &xaes{block: b, cache: make(map[[prefixLen]byte]cipher.AEAD)}
	var l [16]byte
	b.Encrypt(l[:], l[:])
	msb := l[0] >> 7
	for i := 0; i < 15; i++ {
		x.k1[i] = l[i]<<1 | l[i+1]>>7
	}
	x.k1[15] = l[15]<<1 ^ msb*0x87
	clear(l[:])
	return x, nil
}

// derive returns AES-256-GCM under the subkey for nonce prefix p.
func (x *xaes) derive(p *[prefixLen]byte) cipher.AEAD {
	var key [32]byte
	for i := byte(1); i <= 2; i++ {
		m := key[(i-1)*16 : i*16]
		m[0], m[1], m[2], m[3] = 0, i, 'X', 0
		copy(m[4:], p[:])
		for j := range m {
			m[j] ^= x.k1[j]
		}
		x.block.Encrypt(m, m)
	}
	g := newGCM(key[:])
	clear(key[:])
	return g
}

// newGCM returns AES-256-GCM under a 32-byte subkey: the VAES kernels
// where the CPU has them (about twice as fast on large chunks), else the
// standard library's. A variable so tests run both.
var newGCM = func(key []byte) cipher.AEAD {
	if vaesgcm.Available() {
		return vaesgcm.New(key)
	}
	return stdGCM(key)
}

func stdGCM(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic("chunk: xaes subkey: " + err.Error())
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic("chunk: xaes gcm: " + err.Error())
	}
	return g
}

// sealer fills nonce with the writer's prefix and a random suffix and
// returns the subkey AEAD to seal under.
func (x *xaes) sealer(nonce []byte, rnd io.Reader) cipher.AEAD {
	wk := x.writer(rnd)
	copy(nonce, wk.prefix[:])
	mustRead(rnd, nonce[prefixLen:NonceLen])
	return wk.aead
}

// writer returns the current writer subkey, drawing a new random prefix
// when the current one has sealed maxSubkeyUses chunks.
func (x *xaes) writer(rnd io.Reader) *writerKey {
	for {
		wk := x.w.Load()
		if wk != nil && wk.uses.Add(1) <= maxSubkeyUses {
			return wk
		}
		x.rotate(wk, rnd)
	}
}

func (x *xaes) rotate(old *writerKey, rnd io.Reader) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	if x.w.Load() != old {
		return // another goroutine rotated already
	}
	wk := &writerKey{}
	mustRead(rnd, wk.prefix[:])
	wk.aead = x.derive(&wk.prefix)
	x.w.Store(wk)
}

// opener returns the subkey AEAD for the prefix of nonce, from the writer
// key, the reader cache, or a fresh derivation that is then cached.
func (x *xaes) opener(nonce []byte) cipher.AEAD {
	p := [prefixLen]byte(nonce[:prefixLen])
	if wk := x.w.Load(); wk != nil && wk.prefix == p {
		return wk.aead
	}
	x.mu.RLock()
	a := x.cache[p]
	x.mu.RUnlock()
	if a != nil {
		return a
	}
	a = x.derive(&p)
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.cache) >= readerCache {
		for k := range x.cache { // evict one arbitrary entry
			delete(x.cache, k)
			break
		}
	}
	x.cache[p] = a
	return a
}

// wipe zeroes the subkeys that can be zeroed (the VAES kernels' key
// schedules; the standard library's cannot be reached) and drops the rest.
func (x *xaes) wipe() {
	clear(x.k1[:])
	if wk := x.w.Swap(nil); wk != nil {
		wipeAEAD(wk.aead)
	}
	x.mu.Lock()
	for _, a := range x.cache {
		wipeAEAD(a)
	}
	clear(x.cache)
	x.mu.Unlock()
}

func wipeAEAD(a cipher.AEAD) {
	if w, ok := a.(interface{ Wipe() }); ok {
		w.Wipe()
	}
}
