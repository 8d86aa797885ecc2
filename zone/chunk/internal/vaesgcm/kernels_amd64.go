package vaesgcm

import "github.com/klauspost/cpuid/v2"

var available = cpuid.CPU.Supports(cpuid.AESNI, cpuid.CLMUL, cpuid.AVX, cpuid.AVX2, cpuid.VAES, cpuid.VPCLMULQDQ)

// has512 reports whether the CPU (and the OS) also run the 512-bit kernels.
var has512 = available && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.BMI2)

// The kernels, in gcm_amd64.s.

//go:noescape
func expandKey(key *[32]byte, rk *[15][32]byte)

//go:noescape
func initTable(h *[16]byte, table *[33][16]byte)

//go:noescape
func ghashBlocks(table *[16][16]byte, y *[16]byte, p *byte, n int)

//go:noescape
func ctrXOR(rk *[15][32]byte, ctr *[16]byte, dst, src *byte, n int)

//go:noescape
func openBlocks(rk *[15][32]byte, table *[16][16]byte, y, ctr *[16]byte, dst, src *byte, n int)

// The 512-bit kernels, in gcm512_amd64.s.

//go:noescape
func openAVX512(rk *[15][32]byte, table *ghashKey, y *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte, adLen, adTotal int, tag *byte) (ok int)

//go:noescape
func sealAVX512(rk *[15][32]byte, table *ghashKey, y *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte, adLen, adTotal int)

// highRegs stores the registers Z16..Z31, for a test.
//
//go:noescape
func highRegs(out *[16][64]byte)
