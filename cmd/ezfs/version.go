package main

import (
	"context"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/volume"
)

func newVersionCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the ezfs version, Go version and on-disk format version",
		Long: `Print the ezfs version, the Go version it was built with and the on-disk format version
it writes. With --json, print {"version":...,"go":...,"format":N}.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), g, struct{}{}, args)
		},
	}
	jsonFlag(cmd, g)
	return cmd
}

type buildJSON struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	Format  int    `json:"format"`
}

func runVersion(_ context.Context, g *globals, _ struct{}, _ []string) error {
	v := buildJSON{Version: buildVersion(), Go: runtime.Version(), Format: volume.Format}
	if g.json {
		return g.printJSON(v)
	}
	g.printf("ezfs %s\ngo %s\nformat %d\n", v.Version, v.Go, v.Format)
	return nil
}

// buildVersion returns the -X main.version value, else the module version of the build.
func buildVersion() string {
	if version != "devel" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}
