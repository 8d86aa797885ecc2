package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/ezfs/ezfs/volume"
)

// envPassphraseFile names a passphrase file when --passphrase-file is not given.
const envPassphraseFile = "EZFS_PASSPHRASE_FILE"

// Sentinels of the CLI.
var (
	errNoPassphrase = errors.New("no passphrase: use --passphrase-file F or set " + envPassphraseFile)
	errMismatch     = errors.New("the passphrases do not match")
	errEmptySecret  = errors.New("empty passphrase")
)

// secretFlags are the two ways to give the volume's main-key secret on the command line.
type secretFlags struct {
	passphraseFile string
	keyFile        string
}

func (f *secretFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.passphraseFile, "passphrase-file", "", "read the passphrase from `FILE` (one trailing newline is dropped)")
	fs.StringVar(&f.keyFile, "key-file", "", "use the contents of `FILE` as the main-key secret instead of a passphrase")
}

// readSecret returns the secret from --key-file, --passphrase-file, $EZFS_PASSPHRASE_FILE or
// a terminal prompt, in that order. With confirm (ezfs init) a prompt asks twice. The caller
// wipes the result with wipeSecret.
func readSecret(ctx context.Context, g *globals, f secretFlags, confirm bool) (volume.Secret, error) {
	switch {
	case f.keyFile != "" && f.passphraseFile != "":
		return volume.Secret{}, usagef("--key-file and --passphrase-file exclude each other")
	case f.keyFile != "":
		b, err := readSecretFile(f.keyFile, false)
		return volume.Secret{KeyFile: b}, err
	case f.passphraseFile != "":
		b, err := readSecretFile(f.passphraseFile, true)
		return volume.Secret{Passphrase: b}, err
	case g.getenv(envPassphraseFile) != "":
		b, err := readSecretFile(g.getenv(envPassphraseFile), true)
		return volume.Secret{Passphrase: b}, err
	case g.tty != nil:
		b, err := promptPassphrase(ctx, g.tty, confirm)
		return volume.Secret{Passphrase: b}, err
	}
	return volume.Secret{}, errNoPassphrase
}

// readSecretFile reads a key file as it is, or a passphrase file without one trailing
// newline ("\n" or "\r\n"), as editors and `echo` add one.
func readSecretFile(path string, passphrase bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	if passphrase {
		if t, ok := bytes.CutSuffix(b, []byte("\n")); ok {
			b = bytes.TrimSuffix(t, []byte("\r"))
		}
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errEmptySecret)
	}
	return b, nil
}

// promptPassphrase asks on the terminal, twice when confirm is set.
func promptPassphrase(ctx context.Context, p prompter, confirm bool) ([]byte, error) {
	b, err := p.Password(ctx, "Passphrase: ")
	if err == nil && len(b) == 0 {
		err = errEmptySecret
	}
	if err != nil {
		clear(b)
		return nil, err
	}
	if !confirm {
		return b, nil
	}
	again, err := p.Password(ctx, "Repeat passphrase: ")
	defer clear(again)
	if err == nil && subtle.ConstantTimeCompare(b, again) != 1 {
		err = errMismatch
	}
	if err != nil {
		clear(b)
		return nil, err
	}
	return b, nil
}

// wipeSecret zeroes the secret's bytes.
func wipeSecret(s *volume.Secret) {
	clear(s.Passphrase)
	clear(s.KeyFile)
}
