package chunk

import "io"

// SetNonceSource replaces c's nonce source; only tests may, so vectors are
// deterministic. It is never part of the package API.
func SetNonceSource(c *Cipher, r io.Reader) { c.rand = r }

// SetMaxSubkeyUses lowers the XAES writer's subkey budget and returns a
// function that restores it.
func SetMaxSubkeyUses(n uint64) (restore func()) {
	old := maxSubkeyUses
	maxSubkeyUses = n
	return func() { maxSubkeyUses = old }
}

// XAESSeal seals one XAES-256-GCM message with an arbitrary AAD, for the
// C2SP test vectors.
func XAESSeal(key, nonce, plain, aad []byte) []byte {
	x, err := newXAES(key)
	if err != nil {
		panic(err)
	}
	a := x.opener(nonce)
	return a.Seal(nil, nonce[prefixLen:], plain, aad)
}

// WriterPrefix returns the XAES writer's current derivation prefix.
func WriterPrefix(c *Cipher) []byte {
	wk := c.x.w.Load()
	if wk == nil {
		return nil
	}
	return wk.prefix[:]
}

// CachedSubkeys returns how many reader subkeys c holds.
func CachedSubkeys(c *Cipher) int {
	c.x.mu.RLock()
	defer c.x.mu.RUnlock()
	return len(c.x.cache)
}

// SetRunWorkers fixes how many goroutines share a large run and returns a
// function that restores the default.
func SetRunWorkers(n int) (restore func()) {
	old := runWorkers
	runWorkers = func() int { return n }
	return func() { runWorkers = old }
}

// UseStdlibGCM makes ciphers created from now on derive their subkeys
// with the standard library's AES-GCM, and returns a function that
// restores the default.
func UseStdlibGCM() (restore func()) {
	old := newGCM
	newGCM = stdGCM
	return func() { newGCM = old }
}
