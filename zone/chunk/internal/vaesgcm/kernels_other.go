//go:build !amd64

package vaesgcm

// Elsewhere there are no kernels, and New refuses to run.
const available = false

func expandKey(key *[32]byte, rk *[15][32]byte)                     { panic("vaesgcm: no kernels") }
func initTable(h *[16]byte, table *[16][16]byte)                    { panic("vaesgcm: no kernels") }
func ghashBlocks(table *[16][16]byte, y *[16]byte, p *byte, n int)  { panic("vaesgcm: no kernels") }
func ctrXOR(rk *[15][32]byte, ctr *[16]byte, dst, src *byte, n int) { panic("vaesgcm: no kernels") }

func openBlocks(rk *[15][32]byte, table *[16][16]byte, y, ctr *[16]byte, dst, src *byte, n int) {
	panic("vaesgcm: no kernels")
}
