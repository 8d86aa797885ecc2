package main

import (
	"context"

	"github.com/spf13/cobra"
)

func newMainkeyRewrapCmd(g *globals) *cobra.Command {
	var o mainkeyOptions
	cmd := &cobra.Command{
		Use:   "rewrap [PATH]",
		Short: "Move every wrapped zone-key version to the KMS key's current material",
		Long: `After KMS rotated the volume's key (automatic or on-demand rotation), old wrapped zone-key
versions keep decrypting; rewrap moves them all to the key's current material with KMS
ReEncrypt (the zone keys never leave KMS), in one key-store transaction. No file changes.
Only for AWS KMS volumes. With --json, print {"volume","provider","key","versions"}.` + mainkeyVolumeHelp,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMainkeyRewrap(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runMainkeyRewrap(ctx context.Context, g *globals, o mainkeyOptions, args []string) error {
	return withMainkeyAdmin(ctx, g, o, args, func(a mainkeyAdmin) error {
		info, err := a.Rewrap(ctx)
		if err != nil {
			return err
		}
		g.logger.Info("zone keys re-wrapped", "key", info.spec(), "versions", info.Versions)
		if g.json {
			return g.printJSON(info)
		}
		g.printf("re-wrapped %d zone-key versions of %s under the current material of %s\n", info.Versions, info.Volume, info.Key)
		return nil
	})
}
