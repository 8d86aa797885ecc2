#include "textflag.h"
#include "ghash_amd64.h"

// AES-256-GCM kernels on 512-bit registers (AVX-512 F/BW/VL with VAES and
// VPCLMULQDQ): four blocks per instruction, 32 blocks (512 bytes) per
// group. The GHASH conventions are those of gcm_amd64.s (blocks
// byte-reversed, H·x form). The table (ghashKey) holds H^33..H^1, entry e
// being H^(33-e), and 528 bytes further on, for each power, the XOR of its
// two 64-bit halves for Karatsuba multiplication (three carry-less
// products per block instead of four). Block j of a 32-block group pairs
// with entry 1+j, and a group costs one reduction. The last reduction of
// a message uses powers one higher (entry j for a whole group), which
// multiplies the state by H once more on the way; the lengths block's
// share, its product with H, is computed at the start off the critical
// path, so the tag costs no multiplication at the end.
//
// Register use in the kernels: Z16..Z30 the fifteen round keys (each key
// in all four lanes), Z31 the byte-reversal mask, Z8 four counter blocks
// (byte-reversed, so the 32-bit counter is dword 0 of each lane), X9 the
// GHASH state (the rest of Z9 zero), Z10/Z11/Z12 the unreduced low,
// middle and high products of a group, R12 the table entry that the
// group's first block pairs with, R13 all ones (for masks). Every kernel
// zeroes Z16..Z31 before it returns, and VZEROALL clears the rest.

// lanes512 adds 0, 1, 2, 3 to the counters of lanes 0..3; four512 adds 4
// to each.
DATA lanes512<>+0x00(SB)/8, $0
DATA lanes512<>+0x08(SB)/8, $0
DATA lanes512<>+0x10(SB)/8, $1
DATA lanes512<>+0x18(SB)/8, $0
DATA lanes512<>+0x20(SB)/8, $2
DATA lanes512<>+0x28(SB)/8, $0
DATA lanes512<>+0x30(SB)/8, $3
DATA lanes512<>+0x38(SB)/8, $0
GLOBL lanes512<>(SB), RODATA|NOPTR, $64

DATA four512<>+0x00(SB)/8, $4
DATA four512<>+0x08(SB)/8, $0
DATA four512<>+0x10(SB)/8, $4
DATA four512<>+0x18(SB)/8, $0
DATA four512<>+0x20(SB)/8, $4
DATA four512<>+0x28(SB)/8, $0
DATA four512<>+0x30(SB)/8, $4
DATA four512<>+0x38(SB)/8, $0
GLOBL four512<>(SB), RODATA|NOPTR, $64

// FOLD turns the Karatsuba middle sum Z11 into the middle terms (removing
// the low and high sums), adds the four lanes of the accumulators
// Z10/Z11/Z12 and reduces the sum into the state X9, with Z13 and Z14 as
// scratch.
#define FOLD \
	VPTERNLOGQ $0x96, Z10, Z12, Z11 \
	VPSLLDQ $8, Z11, Z13 \
	VPSRLDQ $8, Z11, Z11 \
	VPXORQ Z13, Z10, Z10 \
	VPXORQ Z11, Z12, Z12 \
	VEXTRACTI64X4 $1, Z10, Y13 \
	VEXTRACTI64X4 $1, Z12, Y14 \
	VPXOR Y13, Y10, Y10 \
	VPXOR Y14, Y12, Y12 \
	VEXTRACTI128 $1, Y10, X13 \
	VEXTRACTI128 $1, Y12, X14 \
	VPXOR X13, X10, X10 \
	VPXOR X14, X12, X12 \
	REDUCE(X10, X12, X13, X9)

#define LOADKEYS \
	VBROADCASTI32X4 0(AX), Z16 \
	VBROADCASTI32X4 32(AX), Z17 \
	VBROADCASTI32X4 64(AX), Z18 \
	VBROADCASTI32X4 96(AX), Z19 \
	VBROADCASTI32X4 128(AX), Z20 \
	VBROADCASTI32X4 160(AX), Z21 \
	VBROADCASTI32X4 192(AX), Z22 \
	VBROADCASTI32X4 224(AX), Z23 \
	VBROADCASTI32X4 256(AX), Z24 \
	VBROADCASTI32X4 288(AX), Z25 \
	VBROADCASTI32X4 320(AX), Z26 \
	VBROADCASTI32X4 352(AX), Z27 \
	VBROADCASTI32X4 384(AX), Z28 \
	VBROADCASTI32X4 416(AX), Z29 \
	VBROADCASTI32X4 448(AX), Z30 \
	VBROADCASTI32X4 ·bswapMask(SB), Z31

#define WIPEHIGH \
	VPXORQ Z16, Z16, Z16 \
	VPXORQ Z17, Z17, Z17 \
	VPXORQ Z18, Z18, Z18 \
	VPXORQ Z19, Z19, Z19 \
	VPXORQ Z20, Z20, Z20 \
	VPXORQ Z21, Z21, Z21 \
	VPXORQ Z22, Z22, Z22 \
	VPXORQ Z23, Z23, Z23 \
	VPXORQ Z24, Z24, Z24 \
	VPXORQ Z25, Z25, Z25 \
	VPXORQ Z26, Z26, Z26 \
	VPXORQ Z27, Z27, Z27 \
	VPXORQ Z28, Z28, Z28 \
	VPXORQ Z29, Z29, Z29 \
	VPXORQ Z30, Z30, Z30 \
	VPXORQ Z31, Z31, Z31

// EJ0 encrypts the block J0 in X6 into X0.
#define EJ0 \
	VPXORQ X16, X6, X0 \
	VAESENC X17, X0, X0 \
	VAESENC X18, X0, X0 \
	VAESENC X19, X0, X0 \
	VAESENC X20, X0, X0 \
	VAESENC X21, X0, X0 \
	VAESENC X22, X0, X0 \
	VAESENC X23, X0, X0 \
	VAESENC X24, X0, X0 \
	VAESENC X25, X0, X0 \
	VAESENC X26, X0, X0 \
	VAESENC X27, X0, X0 \
	VAESENC X28, X0, X0 \
	VAESENC X29, X0, X0 \
	VAESENCLAST X30, X0, X0

// COUNTERS sets Z8 to the counters J0+1 .. J0+4 (J0 in X6), byte-reversed.
#define COUNTERS \
	VPSHUFB ·bswapMask(SB), X6, X8 \
	VPADDD ·one(SB), X8, X8 \
	VSHUFI64X2 $0, Z8, Z8, Z8 \
	VPADDD lanes512<>(SB), Z8, Z8

#define ENC8(k) \
	VAESENC k, Z0, Z0 \
	VAESENC k, Z1, Z1 \
	VAESENC k, Z2, Z2 \
	VAESENC k, Z3, Z3 \
	VAESENC k, Z4, Z4 \
	VAESENC k, Z5, Z5 \
	VAESENC k, Z6, Z6 \
	VAESENC k, Z7, Z7

// CTR8 sets Z0..Z7 to the next 32 counter blocks, whitened with round key
// 0, and advances Z8.
#define CTR8 \
	VPSHUFB Z31, Z8, Z0 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z1 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z2 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z3 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z4 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z5 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z6 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPSHUFB Z31, Z8, Z7 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPXORQ Z16, Z0, Z0 \
	VPXORQ Z16, Z1, Z1 \
	VPXORQ Z16, Z2, Z2 \
	VPXORQ Z16, Z3, Z3 \
	VPXORQ Z16, Z4, Z4 \
	VPXORQ Z16, Z5, Z5 \
	VPXORQ Z16, Z6, Z6 \
	VPXORQ Z16, Z7, Z7

// KARA multiplies the four byte-reversed blocks in Z13 by the powers at
// off(R12) and adds the products into the accumulators, Karatsuba style:
// three products per block, the middle one of the halves' sums (their
// table at off+528(R12)); FOLD takes the low and high sums back out of
// the middle.
#define KARA(off) \
	VPSHUFD $0x4e, Z13, Z14 \
	VPXORQ Z13, Z14, Z14 \
	VPCLMULQDQ $0x00, off(R12), Z13, Z15 \
	VPXORQ Z15, Z10, Z10 \
	VPCLMULQDQ $0x11, off(R12), Z13, Z15 \
	VPXORQ Z15, Z12, Z12 \
	VPCLMULQDQ $0x00, off+528(R12), Z14, Z14 \
	VPXORQ Z14, Z11, Z11

// GHASH_START starts a group's accumulators with the products of the four
// blocks at off(p) and the table entries at off(R12).
#define GHASH_START(p, off) \
	VMOVDQU64 off(p), Z13 \
	VPSHUFB Z31, Z13, Z13 \
	VPSHUFD $0x4e, Z13, Z14 \
	VPXORQ Z13, Z14, Z14 \
	VPCLMULQDQ $0x00, off(R12), Z13, Z10 \
	VPCLMULQDQ $0x11, off(R12), Z13, Z12 \
	VPCLMULQDQ $0x00, off+528(R12), Z14, Z11

// GHASH4 adds the products of the four blocks at off(p) and the table
// entries at off(R12) into the accumulators.
#define GHASH4(p, off) \
	VMOVDQU64 off(p), Z13 \
	VPSHUFB Z31, Z13, Z13 \
	KARA(off)

// GHASH_Y adds the products of the first four blocks of the group at p,
// the state X9 added into the first, and the table entries at 0(R12): it
// comes last, so that the previous group's reduction is needed late.
#define GHASH_Y(p) \
	VMOVDQU64 0(p), Z13 \
	VPSHUFB Z31, Z13, Z13 \
	VPXORQ Z9, Z13, Z13 \
	KARA(0)

// GHASH32 hashes the 512 bytes at p into the accumulators.
#define GHASH32(p) \
	GHASH_START(p, 448) \
	GHASH4(p, 384) \
	GHASH4(p, 320) \
	GHASH4(p, 256) \
	GHASH4(p, 192) \
	GHASH4(p, 128) \
	GHASH4(p, 64) \
	GHASH_Y(p)

// GROUP runs the AES rounds 1..13 of Z0..Z7 with the GHASH of the 512
// bytes at p (against the table from R12) interleaved, and reduces.
#define GROUP(p) \
	GHASH_START(p, 448) \
	ENC8(Z17) \
	GHASH4(p, 384) \
	ENC8(Z18) \
	GHASH4(p, 320) \
	ENC8(Z19) \
	GHASH4(p, 256) \
	ENC8(Z20) \
	GHASH4(p, 192) \
	ENC8(Z21) \
	GHASH4(p, 128) \
	ENC8(Z22) \
	GHASH4(p, 64) \
	ENC8(Z23) \
	GHASH_Y(p) \
	ENC8(Z24) \
	FOLD \
	ENC8(Z25) \
	ENC8(Z26) \
	ENC8(Z27) \
	ENC8(Z28) \
	ENC8(Z29)

// LAST finishes block register z and XORs it with the source at off(SI)
// into off(DI): the last round key is added to the source first, so
// VAESENCLAST yields the output directly.
#define LAST(z, off) \
	VPXORQ off(SI), Z30, Z13 \
	VAESENCLAST Z13, z, z \
	VMOVDQU64 z, off(DI)

#define LAST8 \
	LAST(Z0, 0) \
	LAST(Z1, 64) \
	LAST(Z2, 128) \
	LAST(Z3, 192) \
	LAST(Z4, 256) \
	LAST(Z5, 320) \
	LAST(Z6, 384) \
	LAST(Z7, 448)

// MASKS sets, for the next min(len, 64) bytes, K1 to their bytes and K2
// to the quadwords of their blocks (R13 = all ones; R11, R14 scratch).
#define MASKS(len) \
	MOVQ $64, R11 \
	CMPQ len, R11 \
	CMOVQLT len, R11 \
	BZHIQ R11, R13, R14 \
	KMOVQ R14, K1 \
	ADDQ $15, R11 \
	SHRQ $4, R11 \
	SHLQ $1, R11 \
	BZHIQ R11, R13, R14 \
	KMOVQ R14, K2

// GHASH_MASKED adds the products of the (up to) four blocks in Z1, zero
// past the data, and the table entries at (R12) selected by K2 into the
// accumulators; the state X9 goes into the first block and is then
// cleared, so only the first chunk of a run carries it. It multiplies in
// four products, without the Karatsuba table, and adds the low and high
// products into the middle sum too, as FOLD expects. Z2..Z7 scratch.
#define GHASH_MASKED \
	VMOVDQU64.Z (R12), K2, Z3 \
	VPSHUFB Z31, Z1, Z2 \
	VPXORQ Z9, Z2, Z2 \
	VPXOR X9, X9, X9 \
	VPCLMULQDQ $0x00, Z3, Z2, Z4 \
	VPCLMULQDQ $0x11, Z3, Z2, Z5 \
	VPCLMULQDQ $0x01, Z3, Z2, Z6 \
	VPCLMULQDQ $0x10, Z3, Z2, Z7 \
	VPXORQ Z4, Z10, Z10 \
	VPXORQ Z5, Z12, Z12 \
	VPTERNLOGQ $0x96, Z6, Z7, Z11 \
	VPTERNLOGQ $0x96, Z4, Z5, Z11

// RUN_TABLE points R12 at the entry for the first of the ceil(len/16)
// blocks of a run that ends the message (last = 1) or not (last = 0),
// zeroes the accumulators and sets R13 = all ones. R11 scratch.
#define RUN_TABLE(len, last) \
	MOVQ len, R11 \
	ADDQ $15, R11 \
	SHRQ $4, R11 \
	NEGQ R11 \
	ADDQ $33, R11 \
	SUBQ last, R11 \
	SHLQ $4, R11 \
	LEAQ (DX)(R11*1), R12 \
	VPXOR X10, X10, X10 \
	VPXOR X11, X11, X11 \
	VPXOR X12, X12, X12 \
	MOVQ $-1, R13

// PROLOGUE loads the keys and the state from (BX) into X9, builds J0 from
// the nonce at (R8) and the 32-bit counter R15, sets up the counters from
// J0+1, and stores E(K, J0) XOR the lengths block times H (byte-reversed
// back) at (BX): all that the tag needs besides the final state. CX =
// message bytes, R10 = total additional data bytes.
#define PROLOGUE \
	LOADKEYS \
	VMOVDQU (BX), X9 \
	MOVQ $0x0fff, R11 \
	KMOVQ R11, K3 \
	VMOVDQU8.Z (R8), K3, X6 \
	BSWAPL R15 \
	VPINSRD $3, R15, X6, X6 \
	MOVQ CX, R11 \
	SHLQ $3, R11 \
	SHLQ $3, R10 \
	VMOVQ R11, X4 \
	VPINSRQ $1, R10, X4, X4 \
	VMOVDQU 512(DX), X5 \
	MUL128(X4, X5, X4) \
	VPSHUFB ·bswapMask(SB), X4, X4 \
	EJ0 \
	VPXOR X4, X0, X0 \
	VMOVDQU X0, (BX) \
	COUNTERS

// TAG sets X9 to the tag, the final state X9 byte-reversed XOR what the
// prologue left at (BX), and stores it at (BX).
#define TAG \
	VPSHUFB ·bswapMask(SB), X9, X9 \
	VPXOR (BX), X9, X9 \
	VMOVDQU X9, (BX)

// TAIL_START sets the masks for the next chunk of the last CX < 512
// bytes, loads that chunk of the source into Z1 and starts its counter
// block in Z0 (round key 0 and round 1).
#define TAIL_START \
	MASKS(CX) \
	VPSHUFB Z31, Z8, Z0 \
	VPADDD four512<>(SB), Z8, Z8 \
	VPXORQ Z16, Z0, Z0 \
	VMOVDQU8.Z (SI), K1, Z1 \
	VAESENC Z17, Z0, Z0

// TAIL_FINISH runs rounds 2..14 of the counter block in Z0 with the
// source chunk in Z1 added to the last round key, so that Z0 becomes the
// output, and stores the K1 bytes of it at (DI).
#define TAIL_FINISH \
	VAESENC Z18, Z0, Z0 \
	VAESENC Z19, Z0, Z0 \
	VAESENC Z20, Z0, Z0 \
	VAESENC Z21, Z0, Z0 \
	VAESENC Z22, Z0, Z0 \
	VAESENC Z23, Z0, Z0 \
	VAESENC Z24, Z0, Z0 \
	VAESENC Z25, Z0, Z0 \
	VAESENC Z26, Z0, Z0 \
	VAESENC Z27, Z0, Z0 \
	VAESENC Z28, Z0, Z0 \
	VAESENC Z29, Z0, Z0 \
	VPXORQ Z30, Z1, Z1 \
	VAESENCLAST Z1, Z0, Z0 \
	VMOVDQU8 Z0, K1, (DI)

// START loads the arguments both kernels share, runs PROLOGUE and absorbs
// the additional data in masked 64-byte chunks (the last of the message
// when there is no message), then goes on at done.
#define START(done) \
	MOVQ rk+0(FP), AX \
	MOVQ table+8(FP), DX \
	MOVQ y+16(FP), BX \
	MOVQ nonce+24(FP), R8 \
	MOVL j+32(FP), R15 \
	MOVQ dst+40(FP), DI \
	MOVQ src+48(FP), SI \
	MOVQ n+56(FP), CX \
	MOVQ adTotal+80(FP), R10 \
	PROLOGUE \
	MOVQ ad+64(FP), R9 \
	MOVQ adLen+72(FP), R10 \
	TESTQ R10, R10 \
	JZ done \
	XORQ R15, R15 \
	TESTQ CX, CX \
	SETEQ R15B \
	RUN_TABLE(R10, R15) \
adLoop: \
	MASKS(R10) \
	VMOVDQU8.Z (R9), K1, Z1 \
	GHASH_MASKED \
	ADDQ $64, R9 \
	ADDQ $64, R12 \
	SUBQ $64, R10 \
	JG adLoop \
	FOLD


// The kernels' arguments: (rk *[15][32]byte, table *[33][16]byte, y
// *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte,
// adLen, adTotal int). Each starts from the GHASH state y (register form:
// zero, or additional data already hashed), absorbs adLen <= 512 bytes of
// additional data at ad (zero-padded), encrypts or decrypts n bytes at src
// into dst with the counter blocks from J0+1, where J0 = nonce ‖ j (j is 1
// but for tests), absorbs the ciphertext and the lengths block (adTotal
// and n bytes) and stores the tag, E(K, J0) XOR the hash, into y. dst may
// be src exactly: each group or chunk is read whole before any of it is
// written.

// func openAVX512(rk *[15][32]byte, table *[33][16]byte, y *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte, adLen, adTotal int, tag *byte) (ok int)
// The tag is that of the ciphertext, each 512-byte group hashed while its
// keystream is computed; ok is 1 if it equals the 16 bytes at tag (a
// comparison in constant time), else 0.
TEXT ·openAVX512(SB), NOSPLIT, $0-104
	START(openLoop)

openLoop:
	CMPQ CX, $512
	JB openTail
	LEAQ 16(DX), R12
	JA openGroup
	MOVQ DX, R12 // the message's last group

openGroup:
	CTR8
	GROUP(SI)
	LAST8
	ADDQ $512, SI
	ADDQ $512, DI
	SUBQ $512, CX
	JMP openLoop

openTail:
	// The last CX < 512 bytes in masked 64-byte chunks.
	TESTQ CX, CX
	JZ openDone
	RUN_TABLE(CX, $1)

openTailLoop:
	TAIL_START
	GHASH_MASKED
	TAIL_FINISH
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R12
	SUBQ $64, CX
	JG openTailLoop
	FOLD

openDone:
	TAG
	MOVQ tag+88(FP), R11
	VMOVDQU (R11), X1
	VPCMPEQB X1, X9, X1
	VPMOVMSKB X1, R11
	XORQ R12, R12
	CMPQ R11, $0xffff
	SETEQ R12B
	MOVQ R12, ok+96(FP)
	WIPEHIGH
	VZEROALL
	RET

// func sealAVX512(rk *[15][32]byte, table *[33][16]byte, y *[16]byte, nonce *byte, j uint32, dst, src *byte, n int, ad *byte, adLen, adTotal int)
// The tag is that of the output: each 512-byte group is hashed from dst
// while the keystream of the next group is computed.
TEXT ·sealAVX512(SB), NOSPLIT, $0-88
	START(sealFirst)

sealFirst:
	// The first group: keystream only.
	CMPQ CX, $512
	JB sealTail
	CTR8
	ENC8(Z17)
	ENC8(Z18)
	ENC8(Z19)
	ENC8(Z20)
	ENC8(Z21)
	ENC8(Z22)
	ENC8(Z23)
	ENC8(Z24)
	ENC8(Z25)
	ENC8(Z26)
	ENC8(Z27)
	ENC8(Z28)
	ENC8(Z29)
	LAST8
	ADDQ $512, SI
	ADDQ $512, DI
	SUBQ $512, CX
	LEAQ 16(DX), R12

sealLoop:
	// R15 is the previous group's output, never the message's last.
	LEAQ -512(DI), R15
	CMPQ CX, $512
	JB sealHashLast
	CTR8
	GROUP(R15)
	LAST8
	ADDQ $512, SI
	ADDQ $512, DI
	SUBQ $512, CX
	JMP sealLoop

sealHashLast:
	// Hash the last whole group, the message's last if no tail follows.
	TESTQ CX, CX
	JNZ sealHashGroup
	MOVQ DX, R12

sealHashGroup:
	GHASH32(R15)
	FOLD

sealTail:
	TESTQ CX, CX
	JZ sealDone
	RUN_TABLE(CX, $1)

sealTailLoop:
	TAIL_START
	TAIL_FINISH
	VMOVDQU8.Z Z0, K1, Z1
	GHASH_MASKED
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R12
	SUBQ $64, CX
	JG sealTailLoop
	FOLD

sealDone:
	TAG
	WIPEHIGH
	VZEROALL
	RET

// func highRegs(out *[16][64]byte)
// Stores Z16..Z31, for the test that the kernels leave no key material or
// data in them.
TEXT ·highRegs(SB), NOSPLIT, $0-8
	MOVQ out+0(FP), AX
	VMOVDQU64 Z16, 0(AX)
	VMOVDQU64 Z17, 64(AX)
	VMOVDQU64 Z18, 128(AX)
	VMOVDQU64 Z19, 192(AX)
	VMOVDQU64 Z20, 256(AX)
	VMOVDQU64 Z21, 320(AX)
	VMOVDQU64 Z22, 384(AX)
	VMOVDQU64 Z23, 448(AX)
	VMOVDQU64 Z24, 512(AX)
	VMOVDQU64 Z25, 576(AX)
	VMOVDQU64 Z26, 640(AX)
	VMOVDQU64 Z27, 704(AX)
	VMOVDQU64 Z28, 768(AX)
	VMOVDQU64 Z29, 832(AX)
	VMOVDQU64 Z30, 896(AX)
	VMOVDQU64 Z31, 960(AX)
	VZEROUPPER
	RET
