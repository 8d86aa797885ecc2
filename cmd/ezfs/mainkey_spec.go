package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/volume"
)

// mainKeySpec is a parsed main-key SPEC of `init --main-key` and `mainkey rotate --to`:
// "passphrase", "keyfile:PATH" or "awskms:ARN|alias/NAME".
type mainKeySpec struct {
	provider string // volume.ProviderPassphrase, ProviderKeyFile or ProviderAWSKMS
	path     string // the key file of keyfile:PATH
	kms      string // the whole awskms: spec
}

// parseMainKeySpec reads SPEC; a bad one is a usage error naming flag.
func parseMainKeySpec(flag, s string) (mainKeySpec, error) {
	switch {
	case s == "passphrase":
		return mainKeySpec{provider: volume.ProviderPassphrase}, nil
	case strings.HasPrefix(s, "keyfile:") && len(s) > len("keyfile:"):
		return mainKeySpec{provider: volume.ProviderKeyFile, path: strings.TrimPrefix(s, "keyfile:")}, nil
	case strings.HasPrefix(s, awskms.SpecPrefix):
		if _, err := awskms.ParseSpec(s); err != nil {
			return mainKeySpec{}, &usageError{err: fmt.Errorf("invalid %s: %w", flag, err)}
		}
		return mainKeySpec{provider: volume.ProviderAWSKMS, kms: s}, nil
	}
	return mainKeySpec{}, usagef("invalid %s %q: use passphrase, keyfile:PATH, awskms:arn:aws:kms:REGION:ACCOUNT:key/ID or awskms:alias/NAME", flag, s)
}

// secretFlags folds --main-key into the secret flags of init: passphrase and keyfile:PATH
// are the long forms of --passphrase-file and --key-file.
func (m mainKeySpec) secretFlags(f secretFlags) (secretFlags, error) {
	switch {
	case m.provider == volume.ProviderAWSKMS && (f.passphraseFile != "" || f.keyFile != ""):
		return f, usagef("--main-key %s needs no --passphrase-file or --key-file", m.kms)
	case m.provider == volume.ProviderKeyFile && f.passphraseFile != "":
		return f, usagef("--main-key keyfile:PATH and --passphrase-file exclude each other")
	case m.provider == volume.ProviderKeyFile && f.keyFile != "" && f.keyFile != m.path:
		return f, usagef("--main-key keyfile:%s and --key-file %s disagree", m.path, f.keyFile)
	case m.provider == volume.ProviderKeyFile:
		f.keyFile = m.path
	case m.provider == volume.ProviderPassphrase && f.keyFile != "":
		return f, usagef("--main-key passphrase and --key-file exclude each other")
	}
	return f, nil
}

// newMainKey reads the secret of a rotation target: the new passphrase from
// --new-passphrase-file or a prompt (asked twice), or the key file's bytes.
func (m mainKeySpec) newMainKey(ctx context.Context, g *globals, newPassphraseFile string) (volume.NewMainKey, error) {
	var err error
	var n volume.NewMainKey
	switch {
	case m.provider == volume.ProviderAWSKMS:
		n.KMS = m.kms
	case m.provider == volume.ProviderKeyFile:
		n.Secret.KeyFile, err = readSecretFile(m.path, false)
	case newPassphraseFile != "":
		n.Secret.Passphrase, err = readSecretFile(newPassphraseFile, true)
	case g.tty != nil:
		fmt.Fprintln(g.stderr, "Enter the new passphrase.")
		n.Secret.Passphrase, err = promptPassphrase(ctx, g.tty, true)
	default:
		err = usagef("--to passphrase needs --new-passphrase-file FILE (or a terminal to ask on)")
	}
	return n, err
}

// explainKMS adds to a KMS failure the command that fixes it (the message already names
// the key, the kms: action and the remedy). Other errors pass unchanged.
func explainKMS(err error) error {
	var ke *awskms.Error
	if err == nil || !errors.As(err, &ke) {
		return err
	}
	id := shellQuote(ke.Key)
	switch {
	case errors.Is(err, awskms.ErrAccessDenied):
		return withHint(err, "ezfs mainkey policy --principal ARN   # the statement to add to the key policy of "+ke.Key)
	case errors.Is(err, awskms.ErrKeyDisabled):
		return withHint(err, "aws kms enable-key --key-id "+id)
	case errors.Is(err, awskms.ErrPendingDeletion):
		return withHint(err, "aws kms cancel-key-deletion --key-id "+id, "aws kms enable-key --key-id "+id)
	case errors.Is(err, awskms.ErrKeyNotFound):
		return withHint(err, "aws kms describe-key --key-id "+id)
	case errors.Is(err, awskms.ErrUnreachable), errors.Is(err, awskms.ErrThrottled):
		return withHint(err, "ezfs mainkey check   # once KMS answers again")
	case errors.Is(err, awskms.ErrNoCredentials):
		return withHint(err, "aws sts get-caller-identity   # check the AWS credentials ezfs runs with")
	}
	return err
}

// initMainKey applies `init --main-key SPEC`: the KMS spec, or the secret flags to read.
func initMainKey(spec string, f secretFlags) (string, secretFlags, error) {
	if spec == "" {
		return "", f, nil
	}
	m, err := parseMainKeySpec("--main-key", spec)
	if err != nil {
		return "", f, err
	}
	f, err = m.secretFlags(f)
	return m.kms, f, err
}
