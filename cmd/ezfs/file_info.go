package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/ctl"
)

func newFileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "file",
		Short: "Inspect files of a mounted volume",
		Args:  exactArgs(0, "a subcommand"),
	}
	cmd.AddCommand(newFileInfoCmd(g))
	return cmd
}

// fileInfoOptions are the flags of `ezfs file info`.
type fileInfoOptions struct{ showEDEK bool }

func newFileInfoCmd(g *globals) *cobra.Command {
	var o fileInfoOptions
	cmd := &cobra.Command{
		Use:   "info PATH",
		Short: "Show how a file in a mount is encrypted",
		Long: `Show how PATH, a file inside an ezfs mount, is stored: for a file in a zone its zone, key
name and version, cipher suite, chunk size and the format of its metadata (FORMAT.md); for a
file outside zones that it is not encrypted. --show-edek adds the wrapped file key.

--json prints {"path","zone","key","key_version","cipher","chunk_size","format","encrypted"} (and
"edek" with --show-edek); outside zones {"path":...,"encrypted":false}.

Exit status: 0 shown (encrypted or not), 1 error, 2 usage error.`,
		Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error { return runFileInfo(cmd.Context(), g, o, args) },
	}
	cmd.Flags().BoolVar(&o.showEDEK, "show-edek", false, "include the wrapped file key (EDEK)")
	jsonFlag(cmd, g)
	return cmd
}

// runFileInfo asks the mount's daemon about args[0].
func runFileInfo(ctx context.Context, g *globals, o fileInfoOptions, args []string) error {
	p, mp, err := pathInMount(g, args[0])
	if err != nil {
		return err
	}
	var info fileInfo
	if err := callMount(ctx, g, mp, ctl.Request{Op: "file.info", Path: p, ShowEDEK: o.showEDEK}, &info); err != nil {
		return err
	}
	if g.json {
		return json.NewEncoder(g.stdout).Encode(info)
	}
	printFileInfo(g, &info)
	return nil
}

// printFileInfo prints the human form.
func printFileInfo(g *globals, i *fileInfo) {
	if !i.Encrypted {
		g.printf("%s: not encrypted (outside zones)\n", i.Path)
		return
	}
	g.printf("path:        %s\nzone:        %s\nkey:         %s@%d\ncipher:      %s\nchunk size:  %d\nformat:      %d\n",
		i.Path, i.Zone, i.Key, i.KeyVersion, i.Cipher, i.ChunkSize, i.Format)
	if len(i.EDEK) > 0 {
		g.printf("edek:        %s\n", string(i.EDEK))
	}
}
