package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/volume"
)

type mainkeyRotateOptions struct {
	mainkeyOptions
	to                string
	newPassphraseFile string
}

func newMainkeyRotateCmd(g *globals) *cobra.Command {
	var o mainkeyRotateOptions
	cmd := &cobra.Command{
		Use:   "rotate --to SPEC [PATH]",
		Short: "Move the volume to a new main key: passphrase, key file or AWS KMS key",
		Long: `Re-wrap every zone-key version under a new main key and replace the volume's main-key
envelope, in one key-store transaction: afterwards the volume opens with the new secret (or KMS
key) only. No file is touched: files' keys are wrapped under zone-key versions.

SPEC is passphrase (a new random main key under a new passphrase, read from
--new-passphrase-file or asked twice on a terminal), keyfile:PATH (the file's bytes, at least 32),
or awskms:arn:aws:kms:REGION:ACCOUNT:key/ID, awskms:alias/NAME or an alias ARN. From one KMS key
to another the zone keys move by KMS ReEncrypt and never leave KMS.

The current secret is needed as well: offline it opens the volume; on a mounted passphrase or
key-file volume it is read here (--passphrase-file, --key-file, $EZFS_PASSPHRASE_FILE or a
prompt) and checked by the daemon. Secrets travel over the control socket and are never logged.
With --json, print {"volume","provider","key","versions"}.` + mainkeyVolumeHelp,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMainkeyRotate(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	cmd.Flags().StringVar(&o.to, "to", "", "the new main key `SPEC`: passphrase, keyfile:PATH, awskms:ARN or awskms:alias/NAME")
	cmd.Flags().StringVar(&o.newPassphraseFile, "new-passphrase-file", "", "read the new passphrase of --to passphrase from `FILE`")
	jsonFlag(cmd, g)
	return cmd
}

func runMainkeyRotate(ctx context.Context, g *globals, o mainkeyRotateOptions, args []string) error {
	if o.to == "" {
		return usagef("mainkey rotate needs --to SPEC (passphrase, keyfile:PATH or awskms:...)")
	}
	spec, err := parseMainKeySpec("--to", o.to)
	if err != nil {
		return err
	}
	if o.newPassphraseFile != "" && spec.provider != volume.ProviderPassphrase {
		return usagef("--new-passphrase-file goes with --to passphrase")
	}
	return withMainkeyAdmin(ctx, g, o.mainkeyOptions, args, func(a mainkeyAdmin) error {
		before, err := a.Info(ctx)
		if err != nil {
			return err
		}
		current, err := currentSecret(ctx, g, o.vol, a, before)
		defer wipeSecret(&current)
		if err != nil {
			return err
		}
		to, err := spec.newMainKey(ctx, g, o.newPassphraseFile)
		defer wipeSecret(&to.Secret)
		if err != nil {
			return err
		}
		after, err := a.Rotate(ctx, to, current)
		if err != nil {
			return err
		}
		g.logger.Info("main key rotated", "from", before.spec(), "to", after.spec(), "versions", after.Versions)
		if g.json {
			return g.printJSON(after)
		}
		g.printf("rotated the main key of %s from %s to %s: %d zone-key versions re-wrapped, no file changed\n",
			after.Volume, before.spec(), after.spec(), after.Versions)
		return nil
	})
}

// currentSecret reads the current secret of a mounted passphrase or key-file volume for
// the daemon to check. Offline the volume was opened with it already.
func currentSecret(ctx context.Context, g *globals, f volumeFlags, a mainkeyAdmin, info mainkeyInfo) (volume.Secret, error) {
	if _, offline := a.(*offlineMainkey); offline || info.Provider == volume.ProviderAWSKMS {
		return volume.Secret{}, nil
	}
	if info.Provider == volume.ProviderKeyFile && f.secret.keyFile == "" {
		return volume.Secret{}, usagef("volume %s is unlocked by a key file: give the current one with --key-file FILE", info.Volume)
	}
	if g.tty != nil && f.secret.passphraseFile == "" && f.secret.keyFile == "" && g.getenv(envPassphraseFile) == "" {
		fmt.Fprintln(g.stderr, "Enter the current passphrase.")
	}
	return readSecret(ctx, g, f.secret, false)
}
