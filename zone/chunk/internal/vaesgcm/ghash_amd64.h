// GHASH multiplication for both sets of kernels, in their form: blocks
// byte-reversed in registers, the hash key as H·x (see gcm_amd64.s).

// REDUCE folds the 256-bit product hi:lo (lo's high half already holding
// the middle terms) into dst, with t as scratch.
#define REDUCE(lo, hi, t, dst) \
	VPCLMULQDQ $0x10, ·gcmPoly(SB), lo, t \
	VPSHUFD $78, lo, lo \
	VPXOR t, lo, lo \
	VPCLMULQDQ $0x10, ·gcmPoly(SB), lo, t \
	VPSHUFD $78, lo, lo \
	VPXOR t, lo, lo \
	VPXOR hi, lo, dst

// MUL128 sets dst = a·b (one block), with X0..X3 as scratch.
#define MUL128(a, b, dst) \
	VPCLMULQDQ $0x00, b, a, X0 \
	VPCLMULQDQ $0x11, b, a, X1 \
	VPCLMULQDQ $0x01, b, a, X2 \
	VPCLMULQDQ $0x10, b, a, X3 \
	VPXOR X3, X2, X2 \
	VPSLLDQ $8, X2, X3 \
	VPSRLDQ $8, X2, X2 \
	VPXOR X3, X0, X0 \
	VPXOR X2, X1, X1 \
	REDUCE(X0, X1, X3, dst)
