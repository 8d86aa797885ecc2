package vaesgcm

import "github.com/klauspost/cpuid/v2"

var available = cpuid.CPU.Supports(cpuid.AESNI, cpuid.CLMUL, cpuid.AVX, cpuid.AVX2, cpuid.VAES, cpuid.VPCLMULQDQ)

// The kernels, in gcm_amd64.s.

//go:noescape
func expandKey(key *[32]byte, rk *[15][32]byte)

//go:noescape
func initTable(h *[16]byte, table *[16][16]byte)

//go:noescape
func ghashBlocks(table *[16][16]byte, y *[16]byte, p *byte, n int)

//go:noescape
func ctrXOR(rk *[15][32]byte, ctr *[16]byte, dst, src *byte, n int)

//go:noescape
func openBlocks(rk *[15][32]byte, table *[16][16]byte, y, ctr *[16]byte, dst, src *byte, n int)
