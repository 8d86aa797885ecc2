#include "textflag.h"
#include "ghash_amd64.h"

// AES-256-GCM kernels with VAES and VPCLMULQDQ on 256-bit registers (two
// blocks per instruction, AVX2 encoding, so no AVX-512 is needed).
//
// GHASH works on blocks byte-reversed into registers (then bit i of the
// register is the coefficient of x^(127-i)... in GCM's reflected order) and
// on H·x (the "H*2" form), so a 256-bit carry-less product reduces to the
// field product with two folds by the constant 0xC2000000_00000000. The
// kernels here get the powers H^16..H^1 in that form, 16 bytes each,
// highest first (the last sixteen entries of the AEAD's table), so block
// j of a 16-block group pairs with table entry j.

DATA ·bswapMask+0x00(SB)/8, $0x08090a0b0c0d0e0f
DATA ·bswapMask+0x08(SB)/8, $0x0001020304050607
GLOBL ·bswapMask(SB), RODATA|NOPTR, $16

DATA ·gcmPoly+0x00(SB)/8, $0x0000000000000001
DATA ·gcmPoly+0x08(SB)/8, $0xc200000000000000
GLOBL ·gcmPoly(SB), RODATA|NOPTR, $16

DATA ·one+0x00(SB)/8, $1
DATA ·one+0x08(SB)/8, $0
GLOBL ·one(SB), RODATA|NOPTR, $16

DATA two<>+0x00(SB)/8, $2
DATA two<>+0x08(SB)/8, $0
GLOBL two<>(SB), RODATA|NOPTR, $16

// Key expansion of AES-256 with AESKEYGENASSIST. X1 and X3 hold the last
// two round keys; each is stored twice (both lanes of a 32-byte slot).
#define EXPAND_EVEN(rcon, off) \
	AESKEYGENASSIST $rcon, X3, X2 \
	PSHUFD $0xff, X2, X2 \
	MOVOU X1, X4 \
	PSLLDQ $4, X4 \
	PXOR X4, X1 \
	PSLLDQ $4, X4 \
	PXOR X4, X1 \
	PSLLDQ $4, X4 \
	PXOR X4, X1 \
	PXOR X2, X1 \
	MOVOU X1, off(DI) \
	MOVOU X1, off+16(DI)

#define EXPAND_ODD(off) \
	AESKEYGENASSIST $0, X1, X2 \
	PSHUFD $0xaa, X2, X2 \
	MOVOU X3, X4 \
	PSLLDQ $4, X4 \
	PXOR X4, X3 \
	PSLLDQ $4, X4 \
	PXOR X4, X3 \
	PSLLDQ $4, X4 \
	PXOR X4, X3 \
	PXOR X2, X3 \
	MOVOU X3, off(DI) \
	MOVOU X3, off+16(DI)

// func expandKey(key *[32]byte, rk *[15][32]byte)
TEXT ·expandKey(SB), NOSPLIT, $0-16
	MOVQ key+0(FP), AX
	MOVQ rk+8(FP), DI
	MOVOU 0(AX), X1
	MOVOU 16(AX), X3
	MOVOU X1, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X3, 48(DI)
	EXPAND_EVEN(0x01, 64)
	EXPAND_ODD(96)
	EXPAND_EVEN(0x02, 128)
	EXPAND_ODD(160)
	EXPAND_EVEN(0x04, 192)
	EXPAND_ODD(224)
	EXPAND_EVEN(0x08, 256)
	EXPAND_ODD(288)
	EXPAND_EVEN(0x10, 320)
	EXPAND_ODD(352)
	EXPAND_EVEN(0x20, 384)
	EXPAND_ODD(416)
	EXPAND_EVEN(0x40, 448)
	PXOR X1, X1
	PXOR X2, X2
	PXOR X3, X3
	PXOR X4, X4
	RET

// func initTable(h *[16]byte, table *[33][16]byte)
// h is the hash key E(K, 0¹²⁸) as a block. The table is H^33..H^1; the
// 256-bit kernels use its last sixteen entries.
TEXT ·initTable(SB), NOSPLIT, $0-16
	MOVQ h+0(FP), AX
	MOVQ table+8(FP), DI
	VMOVDQU ·bswapMask(SB), X15
	VMOVDQU ·gcmPoly(SB), X14
	VMOVDQU (AX), X4
	VPSHUFB X15, X4, X4
	// H·x: shift left by one bit; if the top bit fell out, add the polynomial.
	VPSHUFD $0xff, X4, X5
	VPSRAD $31, X5, X5
	VPAND X14, X5, X5
	VPSRLD $31, X4, X6
	VPSLLDQ $4, X6, X6
	VPSLLD $1, X4, X4
	VPXOR X5, X4, X4
	VPXOR X6, X4, X4
	ADDQ $512, DI
	VMOVDQU X4, (DI)
	VMOVDQA X4, X5
	MOVQ $32, CX

initLoop:
	SUBQ $16, DI
	MUL128(X5, X4, X5)
	VMOVDQU X5, (DI)
	DECQ CX
	JNZ initLoop

	VZEROALL
	RET

// GHASH_PAIR multiplies the next two data blocks at off(SI) by the table
// entries at off(AX) and adds the unreduced products into Y11 (lo),
// Y12 (middle) and Y13 (hi).
#define GHASH_PAIR(off) \
	VMOVDQU off(SI), Y0 \
	VPSHUFB Y15, Y0, Y0 \
	VMOVDQU off(AX), Y1 \
	VPCLMULQDQ $0x00, Y1, Y0, Y2 \
	VPCLMULQDQ $0x11, Y1, Y0, Y3 \
	VPCLMULQDQ $0x01, Y1, Y0, Y4 \
	VPCLMULQDQ $0x10, Y1, Y0, Y5 \
	VPXOR Y2, Y11, Y11 \
	VPXOR Y3, Y13, Y13 \
	VPXOR Y4, Y12, Y12 \
	VPXOR Y5, Y12, Y12

// func ghashBlocks(table *[16][16]byte, y *[16]byte, p *byte, n int)
// Absorbs n bytes (a multiple of 16) at p into the GHASH state y, which is
// kept in register form between calls.
TEXT ·ghashBlocks(SB), NOSPLIT, $0-32
	MOVQ table+0(FP), AX
	MOVQ y+8(FP), BX
	MOVQ p+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTI128 ·bswapMask(SB), Y15
	VMOVDQU (BX), X10

ghashLoop16:
	CMPQ CX, $256
	JB ghashSingle
	// The first pair carries the state into block 0 (lane 0; the VEX load
	// of X10 cleared lane 1).
	VMOVDQU 0(SI), Y0
	VPSHUFB Y15, Y0, Y0
	VPXOR Y10, Y0, Y0
	VMOVDQU 0(AX), Y1
	VPCLMULQDQ $0x00, Y1, Y0, Y11
	VPCLMULQDQ $0x11, Y1, Y0, Y13
	VPCLMULQDQ $0x01, Y1, Y0, Y12
	VPCLMULQDQ $0x10, Y1, Y0, Y5
	VPXOR Y5, Y12, Y12
	GHASH_PAIR(32)
	GHASH_PAIR(64)
	GHASH_PAIR(96)
	GHASH_PAIR(128)
	GHASH_PAIR(160)
	GHASH_PAIR(192)
	GHASH_PAIR(224)
	// Add the two lanes, spread the middle terms, reduce.
	VEXTRACTI128 $1, Y11, X0
	VPXOR X0, X11, X11
	VEXTRACTI128 $1, Y12, X0
	VPXOR X0, X12, X12
	VEXTRACTI128 $1, Y13, X0
	VPXOR X0, X13, X13
	VPSLLDQ $8, X12, X0
	VPSRLDQ $8, X12, X12
	VPXOR X0, X11, X11
	VPXOR X12, X13, X13
	REDUCE(X11, X13, X0, X10)
	ADDQ $256, SI
	SUBQ $256, CX
	JMP ghashLoop16

ghashSingle:
	CMPQ CX, $16
	JB ghashDone
	VMOVDQU (SI), X8
	VPSHUFB X15, X8, X8
	VPXOR X10, X8, X8
	VMOVDQU 240(AX), X9
	MUL128(X8, X9, X10)
	ADDQ $16, SI
	SUBQ $16, CX
	JMP ghashSingle

ghashDone:
	VMOVDQU X10, (BX)
	VZEROALL
	RET

#define ENC8(k) \
	VAESENC k, Y0, Y0 \
	VAESENC k, Y1, Y1 \
	VAESENC k, Y2, Y2 \
	VAESENC k, Y3, Y3 \
	VAESENC k, Y4, Y4 \
	VAESENC k, Y5, Y5 \
	VAESENC k, Y6, Y6 \
	VAESENC k, Y7, Y7

#define ROUND8(off) \
	VMOVDQU off(AX), Y10 \
	ENC8(Y10)

#define XOR_STORE(y, off) \
	VPXOR off(SI), y, y \
	VMOVDQU y, off(DI)

// func ctrXOR(rk *[15][32]byte, ctr *[16]byte, dst, src *byte, n int)
// XORs n bytes (a multiple of 16) of src with the AES-256 keystream of the
// counter blocks ctr, ctr+1, ... (GCM's inc32: the last 4 bytes count
// big-endian, modulo 2^32) into dst.
TEXT ·ctrXOR(SB), NOSPLIT, $0-40
	MOVQ rk+0(FP), AX
	MOVQ ctr+8(FP), BX
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	VBROADCASTI128 ·bswapMask(SB), Y15
	VBROADCASTI128 two<>(SB), Y14
	// Y13 = (ctr, ctr+1), byte-reversed so the counter is dword 0.
	VMOVDQU (BX), X13
	VPSHUFB X15, X13, X13
	VPADDD ·one(SB), X13, X12
	VINSERTI128 $1, X12, Y13, Y13

ctrLoop16:
	CMPQ CX, $256
	JB ctrSingle
	VPSHUFB Y15, Y13, Y0
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y1
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y2
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y3
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y4
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y5
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y6
	VPADDD Y14, Y13, Y13
	VPSHUFB Y15, Y13, Y7
	VPADDD Y14, Y13, Y13
	VMOVDQU 0(AX), Y10
	VPXOR Y10, Y0, Y0
	VPXOR Y10, Y1, Y1
	VPXOR Y10, Y2, Y2
	VPXOR Y10, Y3, Y3
	VPXOR Y10, Y4, Y4
	VPXOR Y10, Y5, Y5
	VPXOR Y10, Y6, Y6
	VPXOR Y10, Y7, Y7
	ROUND8(32)
	ROUND8(64)
	ROUND8(96)
	ROUND8(128)
	ROUND8(160)
	ROUND8(192)
	ROUND8(224)
	ROUND8(256)
	ROUND8(288)
	ROUND8(320)
	ROUND8(352)
	ROUND8(384)
	ROUND8(416)
	VMOVDQU 448(AX), Y10
	VAESENCLAST Y10, Y0, Y0
	VAESENCLAST Y10, Y1, Y1
	VAESENCLAST Y10, Y2, Y2
	VAESENCLAST Y10, Y3, Y3
	VAESENCLAST Y10, Y4, Y4
	VAESENCLAST Y10, Y5, Y5
	VAESENCLAST Y10, Y6, Y6
	VAESENCLAST Y10, Y7, Y7
	XOR_STORE(Y0, 0)
	XOR_STORE(Y1, 32)
	XOR_STORE(Y2, 64)
	XOR_STORE(Y3, 96)
	XOR_STORE(Y4, 128)
	XOR_STORE(Y5, 160)
	XOR_STORE(Y6, 192)
	XOR_STORE(Y7, 224)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $256, CX
	JMP ctrLoop16

ctrSingle:
	// One block at a time: lane 0 of Y13 is the next counter.
	CMPQ CX, $16
	JB ctrDone
	VPSHUFB X15, X13, X0
	VPADDD ·one(SB), X13, X13
	VPXOR 0(AX), X0, X0
	VAESENC 32(AX), X0, X0
	VAESENC 64(AX), X0, X0
	VAESENC 96(AX), X0, X0
	VAESENC 128(AX), X0, X0
	VAESENC 160(AX), X0, X0
	VAESENC 192(AX), X0, X0
	VAESENC 224(AX), X0, X0
	VAESENC 256(AX), X0, X0
	VAESENC 288(AX), X0, X0
	VAESENC 320(AX), X0, X0
	VAESENC 352(AX), X0, X0
	VAESENC 384(AX), X0, X0
	VAESENC 416(AX), X0, X0
	VAESENCLAST 448(AX), X0, X0
	VPXOR (SI), X0, X0
	VMOVDQU X0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $16, CX
	JMP ctrSingle

ctrDone:
	VZEROALL
	RET

// GHASH_STEP multiplies the two blocks at off(SI) by the table entries at
// off(DX) into the accumulators Y11 (lo), Y12 (middle) and Y13 (hi), with
// Y9, Y10 and Y14 as scratch (the AES rounds use Y0..Y8).
#define GHASH_STEP(off) \
	VMOVDQU off(SI), Y9 \
	VPSHUFB Y15, Y9, Y9 \
	VMOVDQU off(DX), Y10 \
	VPCLMULQDQ $0x00, Y10, Y9, Y14 \
	VPXOR Y14, Y11, Y11 \
	VPCLMULQDQ $0x11, Y10, Y9, Y14 \
	VPXOR Y14, Y13, Y13 \
	VPCLMULQDQ $0x01, Y10, Y9, Y14 \
	VPXOR Y14, Y12, Y12 \
	VPCLMULQDQ $0x10, Y10, Y9, Y14 \
	VPXOR Y14, Y12, Y12

#define ENC8_ROUND(off) \
	VMOVDQU off(AX), Y8 \
	ENC8(Y8)

// func openBlocks(rk *[15][32]byte, table *[16][16]byte, y, ctr *[16]byte, dst, src *byte, n int)
// Decrypts n bytes (a multiple of 256) of src into dst with the keystream
// from counter block ctr, and absorbs the same n bytes of ciphertext into
// the GHASH state y: one pass, the hashing interleaved with the AES rounds.
TEXT ·openBlocks(SB), NOSPLIT, $32-56
	MOVQ rk+0(FP), AX
	MOVQ table+8(FP), DX
	MOVQ y+16(FP), BX
	MOVQ ctr+24(FP), R8
	MOVQ dst+32(FP), DI
	MOVQ src+40(FP), SI
	MOVQ n+48(FP), CX
	VBROADCASTI128 ·bswapMask(SB), Y15
	// The counter pair (ctr, ctr+1), byte-reversed, lives at 0(SP).
	VMOVDQU (R8), X8
	VPSHUFB X15, X8, X8
	VPADDD ·one(SB), X8, X9
	VINSERTI128 $1, X9, Y8, Y8
	VMOVDQU Y8, 0(SP)

openLoop:
	VBROADCASTI128 two<>(SB), Y9
	VMOVDQU 0(SP), Y8
	VPSHUFB Y15, Y8, Y0
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y1
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y2
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y3
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y4
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y5
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y6
	VPADDD Y9, Y8, Y8
	VPSHUFB Y15, Y8, Y7
	VPADDD Y9, Y8, Y8
	VMOVDQU Y8, 0(SP)
	VMOVDQU 0(AX), Y8
	VPXOR Y8, Y0, Y0
	VPXOR Y8, Y1, Y1
	VPXOR Y8, Y2, Y2
	VPXOR Y8, Y3, Y3
	VPXOR Y8, Y4, Y4
	VPXOR Y8, Y5, Y5
	VPXOR Y8, Y6, Y6
	VPXOR Y8, Y7, Y7

	// The first pair carries the state into block 0 (lane 1 of the state
	// load is zero).
	VMOVDQU 0(SI), Y9
	VPSHUFB Y15, Y9, Y9
	VMOVDQU (BX), X10
	VPXOR Y10, Y9, Y9
	VMOVDQU 0(DX), Y10
	VPCLMULQDQ $0x00, Y10, Y9, Y11
	VPCLMULQDQ $0x11, Y10, Y9, Y13
	VPCLMULQDQ $0x01, Y10, Y9, Y12
	VPCLMULQDQ $0x10, Y10, Y9, Y14
	VPXOR Y14, Y12, Y12

	ENC8_ROUND(32)
	GHASH_STEP(32)
	ENC8_ROUND(64)
	GHASH_STEP(64)
	ENC8_ROUND(96)
	GHASH_STEP(96)
	ENC8_ROUND(128)
	GHASH_STEP(128)
	ENC8_ROUND(160)
	GHASH_STEP(160)
	ENC8_ROUND(192)
	GHASH_STEP(192)
	ENC8_ROUND(224)
	GHASH_STEP(224)
	ENC8_ROUND(256)

	// Add the lanes, spread the middle terms, reduce into the state.
	VEXTRACTI128 $1, Y11, X9
	VPXOR X9, X11, X11
	VEXTRACTI128 $1, Y12, X9
	VPXOR X9, X12, X12
	VEXTRACTI128 $1, Y13, X9
	VPXOR X9, X13, X13
	VPSLLDQ $8, X12, X9
	VPSRLDQ $8, X12, X12
	VPXOR X9, X11, X11
	VPXOR X12, X13, X13
	VMOVDQU ·gcmPoly(SB), X10
	VPCLMULQDQ $0x10, X10, X11, X9
	VPSHUFD $78, X11, X11
	VPXOR X9, X11, X11

	ENC8_ROUND(288)

	VPCLMULQDQ $0x10, X10, X11, X9
	VPSHUFD $78, X11, X11
	VPXOR X9, X11, X11
	VPXOR X13, X11, X11
	VMOVDQU X11, (BX)

	ENC8_ROUND(320)
	ENC8_ROUND(352)
	ENC8_ROUND(384)
	ENC8_ROUND(416)
	VMOVDQU 448(AX), Y8
	VAESENCLAST Y8, Y0, Y0
	VAESENCLAST Y8, Y1, Y1
	VAESENCLAST Y8, Y2, Y2
	VAESENCLAST Y8, Y3, Y3
	VAESENCLAST Y8, Y4, Y4
	VAESENCLAST Y8, Y5, Y5
	VAESENCLAST Y8, Y6, Y6
	VAESENCLAST Y8, Y7, Y7
	XOR_STORE(Y0, 0)
	XOR_STORE(Y1, 32)
	XOR_STORE(Y2, 64)
	XOR_STORE(Y3, 96)
	XOR_STORE(Y4, 128)
	XOR_STORE(Y5, 160)
	XOR_STORE(Y6, 192)
	XOR_STORE(Y7, 224)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $256, CX
	JNZ openLoop

	VPXOR Y8, Y8, Y8
	VMOVDQU Y8, 0(SP)
	VZEROALL
	RET
