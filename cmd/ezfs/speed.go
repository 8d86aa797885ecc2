package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/zone/chunk"
)

type speedOptions struct {
	chunkSize string
	duration  time.Duration
}

func newSpeedCmd(g *globals) *cobra.Command {
	var o speedOptions
	cmd := &cobra.Command{
		Use:   "speed",
		Short: "Measure the content ciphers on this CPU",
		Long: `Measure how fast one core seals and opens chunks with each cipher suite, and show the
CPU features the ciphers use. With --json, print {"cpu":...,"features":{...},
"default_cipher":...,"chunk_size":N,"suites":[{"cipher":...,"seal_mb_per_s":X,"open_mb_per_s":Y}]}
(MB is 10^6 bytes).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSpeed(cmd.Context(), g, o, args)
		},
	}
	cmd.Flags().StringVar(&o.chunkSize, "chunk-size", fmt.Sprint(chunk.DefaultChunkSize), "measure chunks of `N` plaintext bytes")
	cmd.Flags().DurationVar(&o.duration, "duration", 250*time.Millisecond, "measure each of seal and open for `D`")
	jsonFlag(cmd, g)
	return cmd
}

// speedJSON is the result of ezfs speed, for the table and for --json.
type speedJSON struct {
	CPU           string          `json:"cpu"`
	Features      cpuFeaturesJSON `json:"features"`
	DefaultCipher string          `json:"default_cipher"`
	ChunkSize     int             `json:"chunk_size"`
	Suites        []suiteSpeed    `json:"suites"`
}

// cpuFeaturesJSON lists the CPU features the ciphers use: AES-NI and PCLMULQDQ for
// AES-GCM; VAES and VPCLMULQDQ with AVX2 for ezfs's own wide AES-GCM code, which
// runs on 512-bit registers with AVX-512 (F, BW and VL).
type cpuFeaturesJSON struct {
	AESNI      bool `json:"aes_ni"`
	PCLMULQDQ  bool `json:"pclmulqdq"`
	VAES       bool `json:"vaes"`
	VPCLMULQDQ bool `json:"vpclmulqdq"`
	AVX2       bool `json:"avx2"`
	AVX512     bool `json:"avx512"`
}

type suiteSpeed struct {
	Cipher string  `json:"cipher"`
	Seal   float64 `json:"seal_mb_per_s"`
	Open   float64 `json:"open_mb_per_s"`
}

func runSpeed(ctx context.Context, g *globals, o speedOptions, _ []string) error {
	n, err := parseSize(o.chunkSize)
	if err == nil {
		err = chunk.CheckChunkSize(n)
	}
	if err != nil || o.duration <= 0 {
		return usagef("invalid --chunk-size %q or --duration %v", o.chunkSize, o.duration)
	}
	r := speedJSON{CPU: cpuid.CPU.BrandName, Features: cpuFeatures(), DefaultCipher: chunk.DefaultSuite().String(), ChunkSize: n}
	for _, s := range []chunk.Suite{chunk.AES256GCM, chunk.XChaCha20Poly1305} {
		sp, err := measureSuite(ctx, s, n, o.duration)
		if err != nil {
			return err
		}
		r.Suites = append(r.Suites, sp)
	}
	if g.json {
		return g.printJSON(r)
	}
	g.printSpeed(r)
	return nil
}

func cpuFeatures() cpuFeaturesJSON {
	return cpuFeaturesJSON{AESNI: cpuid.CPU.Supports(cpuid.AESNI), PCLMULQDQ: cpuid.CPU.Supports(cpuid.CLMUL),
		VAES: cpuid.CPU.Supports(cpuid.VAES), VPCLMULQDQ: cpuid.CPU.Supports(cpuid.VPCLMULQDQ),
		AVX2: cpuid.CPU.Supports(cpuid.AVX2), AVX512: cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL)}
}

// measureSuite seals, then opens, one chunk at a time on one core with a random key.
func measureSuite(ctx context.Context, s chunk.Suite, size int, d time.Duration) (suiteSpeed, error) {
	dek, id := make([]byte, chunk.KeyLen), [16]byte{}
	rand.Read(dek)
	c, err := chunk.New(s, dek, id, chunk.Layout{ChunkSize: size})
	clear(dek)
	if err != nil {
		return suiteSpeed{}, err
	}
	defer c.Wipe()
	plain := make([]byte, size)
	sealed := c.Seal(nil, plain, 0, true)
	seal := rate(ctx, size, d, func() { c.Seal(sealed[:0], plain, 0, true) })
	var openErr error
	open := rate(ctx, size, d, func() { _, openErr = c.Open(plain[:0], sealed, 0, true) })
	if err := errorsFirst(ctx.Err(), openErr); err != nil {
		return suiteSpeed{}, err
	}
	return suiteSpeed{Cipher: s.String(), Seal: round1(seal), Open: round1(open)}, nil
}

// rate runs fn repeatedly for about d and returns MB/s for size bytes per call.
func rate(ctx context.Context, size int, d time.Duration, fn func()) float64 {
	start, calls := time.Now(), 0
	for time.Since(start) < d && ctx.Err() == nil {
		for range 64 {
			fn()
		}
		calls += 64
	}
	return float64(calls*size) / time.Since(start).Seconds() / 1e6
}

// round1 rounds a rate to one decimal for printing.
func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

func errorsFirst(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *globals) printSpeed(r speedJSON) {
	f := r.Features
	g.printf("cpu: %s (%d threads)\n", r.CPU, runtime.NumCPU())
	g.printf("features: AES-NI %s, PCLMULQDQ %s, VAES %s, VPCLMULQDQ %s, AVX2 %s, AVX-512 %s\n",
		yesNo(f.AESNI), yesNo(f.PCLMULQDQ), yesNo(f.VAES), yesNo(f.VPCLMULQDQ), yesNo(f.AVX2), yesNo(f.AVX512))
	g.printf("default cipher: %s\none core, %d-byte chunks:\n", r.DefaultCipher, r.ChunkSize)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CIPHER\tSEAL MB/s\tOPEN MB/s")
	for _, s := range r.Suites {
		fmt.Fprintf(tw, "  %s\t%.1f\t%.1f\n", s.Cipher, s.Seal, s.Open)
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
