//go:build !amd64

package vaesgcm

// Elsewhere there are no kernels, and New refuses to run.
const (
	available = false
	has512    = false
)

func expandKey(key *[32]byte, rk *[15][32]byte)                     { panic("vaesgcm: no kernels") }
func initTable(h *[16]byte, table *[33][16]byte)                    { panic("vaesgcm: no kernels") }
func ghashBlocks(table *[16][16]byte, y *[16]byte, p *byte, n int)  { panic("vaesgcm: no kernels") }
func ctrXOR(rk *[15][32]byte, ctr *[16]byte, dst, src *byte, n int) { panic("vaesgcm: no kernels") }

func openBlocks(rk *[15][32]byte, table *[16][16]byte, y, ctr *[16]byte, dst, src *byte, n int) {
	panic("vaesgcm: no kernels")
}

func openAVX512(rk *[15][32]byte, table *ghashKey, y *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte, adLen, adTotal int, tag *byte) (ok int) {
	panic("vaesgcm: no kernels")
}

func sealAVX512(rk *[15][32]byte, table *ghashKey, y *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte, adLen, adTotal int) {
	panic("vaesgcm: no kernels")
}

func highRegs(out *[16][64]byte) { panic("vaesgcm: no kernels") }
