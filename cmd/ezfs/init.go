package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/volume"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
)

type initOptions struct {
	cipher    string
	chunkSize string
	keystore  string
	mainKey   string // --main-key SPEC (mainkey_spec.go)
	secret    secretFlags
}

func newInitCmd(g *globals) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init BACKING",
		Short: "Create a volume in an existing directory",
		Long: `Create an ezfs volume in the existing directory BACKING: a random main key, wrapped under
the passphrase (argon2id) or key file, and an empty key store in BACKING/.ezfs. Files already
in BACKING stay as they are, outside zones. A directory that holds a volume is refused.

The passphrase comes from --passphrase-file, $EZFS_PASSPHRASE_FILE or, on a terminal, a prompt
(asked twice).

--main-key awskms:arn:aws:kms:REGION:ACCOUNT:key/ID (or awskms:alias/NAME, or an alias ARN)
puts the volume under a customer-managed AWS KMS key instead: zone keys are wrapped by KMS
Encrypt, nothing secret is stored, and mounting needs no passphrase. ezfs first checks access
to the key (DescribeKey and a round trip). Credentials, endpoint and, for alias/NAME, the region
come from the standard AWS configuration chain.`,
		Args: exactArgs(1, "one directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(cmd.Context(), g, o, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.cipher, "cipher", "", "content `SUITE`: aes-256-gcm or xchacha20-poly1305 (default: aes-256-gcm with AES-NI, else xchacha20-poly1305)")
	fs.StringVar(&o.chunkSize, "chunk-size", strconv.Itoa(chunk.DefaultChunkSize), "plaintext bytes per chunk, a power of two from 4KiB to 1MiB (`N`, K or M suffix allowed)")
	fs.StringVar(&o.keystore, "keystore", "", "keep the key store in `DIR` instead of BACKING/.ezfs")
	fs.StringVar(&o.mainKey, "main-key", "", "main key `SPEC`: passphrase (default), keyfile:PATH, or an AWS KMS key awskms:arn:aws:kms:REGION:ACCOUNT:key/ID, awskms:alias/NAME or an alias ARN")
	o.secret.register(fs)
	return cmd
}

// runInit creates the volume; it checks every argument before asking for a passphrase.
func runInit(ctx context.Context, g *globals, o initOptions, args []string) error {
	backing := args[0]
	vo, err := o.volumeOptions()
	if err != nil {
		return err
	}
	if err := checkInitDir(backing); err != nil {
		return err
	}
	if vo.KMSKey, o.secret, err = initMainKey(o.mainKey, o.secret); err != nil {
		return err
	}
	if vo.KMSKey == "" {
		vo.Secret, err = readSecret(ctx, g, o.secret, true)
	}
	defer wipeSecret(&vo.Secret)
	if err != nil {
		return err
	}
	cfg, err := volume.Init(ctx, backing, vo)
	if err != nil {
		return explainInit(backing, explainKMS(err))
	}
	g.printf("created ezfs volume in %s (volume id %s, cipher %s, chunk size %d)\n", backing, cfg.VolumeID, cfg.Cipher, cfg.ChunkSize)
	if fits, err := zone.XattrFitsInInode(filepath.Join(backing, volume.Dir), zone.MetaLen(cfg.Cipher, shortKeyName)); err == nil && !fits {
		g.printf("note: %s (README \"Performance notes\")\n", xattrNote)
	}
	g.printf("next: ezfs key create NAME --backing %s\n", shellQuote(backing))
	return nil
}

// xattrNote says what zone.XattrFitsInInode found out, at init and in the mount's log.
const xattrNote = "this file system keeps each zone file's xattr in a block of its own, " +
	"one more disk read per file when listing or removing many small zone files cold; " +
	"ext4 made with -I 512, or XFS, keeps it in the inode"

// shortKeyName stands for the key names that keep a file's xattr inside a 256-byte ext4
// inode under the AES-256-GCM suite (16 bytes; FORMAT.md "File metadata").
var shortKeyName = strings.Repeat("k", 16)

// volumeOptions parses --cipher and --chunk-size; bad values are usage errors.
func (o initOptions) volumeOptions() (volume.InitOptions, error) {
	vo := volume.InitOptions{Cipher: chunk.DefaultSuite(), Keystore: o.keystore}
	if o.cipher != "" {
		s, err := chunk.ParseSuite(o.cipher)
		if err != nil {
			return vo, usagef("invalid --cipher %q: use aes-256-gcm or xchacha20-poly1305", o.cipher)
		}
		vo.Cipher = s
	}
	n, err := parseSize(o.chunkSize)
	if err == nil {
		err = chunk.CheckChunkSize(n)
	}
	if err != nil {
		return vo, usagef("invalid --chunk-size %q: %v", o.chunkSize, err)
	}
	vo.ChunkSize = n
	return vo, nil
}

// parseSize reads a byte count with an optional binary suffix: 4096, 16K, 16KiB, 1M, 1MiB.
func parseSize(s string) (int, error) {
	mult := 1
	for suffix, m := range map[string]int{"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20} {
		if t, ok := strings.CutSuffix(strings.ToLower(s), suffix); ok && t != "" && t[len(t)-1] >= '0' && t[len(t)-1] <= '9' {
			s, mult = t, m
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > (1<<30)/mult {
		return 0, errors.New("not a size")
	}
	return n * mult, nil
}

// checkInitDir refuses a missing directory or one that already holds a volume, before any
// passphrase is asked for.
func checkInitDir(backing string) error {
	fi, err := os.Stat(backing)
	if err != nil {
		return withHint(fmt.Errorf("init %s: %w", backing, err), "mkdir -p "+shellQuote(backing))
	}
	if !fi.IsDir() {
		return fmt.Errorf("init %s: not a directory", backing)
	}
	if _, err := os.Lstat(filepath.Join(backing, volume.Dir)); err == nil {
		return explainInit(backing, volume.ErrExists)
	}
	return nil
}

func explainInit(backing string, err error) error {
	if errors.Is(err, volume.ErrExists) {
		return restate(err, backing+" already holds an ezfs volume", "ezfs key list --backing "+shellQuote(backing))
	}
	return fmt.Errorf("init %s: %w", backing, err)
}
