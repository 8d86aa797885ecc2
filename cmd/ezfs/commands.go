package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd returns the ezfs command with every subcommand. Cobra prints neither errors
// nor usage: run reports errors, with exit codes from exitcodes.go.
func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "ezfs",
		Short: "Encryption zones for a directory tree, mounted through FUSE",
		Long: `ezfs keeps encryption zones in a backing directory: every file in a zone is stored
encrypted under its own key, wrapped by a versioned zone key from the volume's key store.

Exit status: 0 success, 1 error, 2 usage error, 130 interrupted.`,
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			g.started = true
			return g.setupLogger()
		},
	}
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log `FORMAT` on stderr: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	addCommands(root, g)
	return root
}

// addCommands registers every subcommand; this is the one list of them.
func addCommands(root *cobra.Command, g *globals) {
	root.AddCommand(
		newInitCmd(g),
		newKeyCmd(g),
		newSpeedCmd(g),
		newVersionCmd(g),
		newMountCmd(g),
		newUnmountCmd(g),
		newZoneCmd(g),
		newFileCmd(g),
		newMainkeyCmd(g),
		newReencryptCmd(g),
	)
}

// exactArgs is cobra.ExactArgs with our wording; its errors are usage errors.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (got %d arguments)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

// jsonFlag registers --json, which also makes a failure a JSON object on stderr.
func jsonFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().BoolVar(&g.json, "json", false, "print JSON on stdout (and a failure as JSON on stderr)")
}
