package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/keys"
)

const keyVolumeHelp = `
The volume: --backing DIR works offline (the volume must not be mounted; the passphrase
comes from --passphrase-file, --key-file, $EZFS_PASSPHRASE_FILE or a prompt); --mount
MOUNTPOINT, or with neither flag the only ezfs mount, goes through the mount's daemon.`

func newKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, roll, list, describe, prune, delete, back up and restore zone keys",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		},
	}
	cmd.AddCommand(newKeyCreateCmd(g), newKeyRollCmd(g), newKeyListCmd(g), newKeyDescribeCmd(g), newKeyDeleteCmd(g),
		newKeyPruneCmd(g), newKeyBackupCmd(g), newKeyRestoreCmd(g))
	return cmd
}

// keyOptions are the flags every key command has.
type keyOptions struct {
	vol volumeFlags
}

// withKeyAdmin opens the selected volume, runs fn, and closes the volume.
func withKeyAdmin(ctx context.Context, g *globals, o keyOptions, fn func(keyAdmin) error) error {
	a, err := openKeyAdmin(ctx, g, o.vol, "")
	if err != nil {
		return err
	}
	err = fn(a)
	if cerr := a.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close volume: %w", cerr)
	}
	return err
}

// checkKeyName makes an invalid key name a usage error.
func checkKeyName(name string) error {
	if err := keys.CheckName(name); err != nil {
		return &usageError{err: err}
	}
	return nil
}

// explainKey adds the hint for a missing key: the command that creates it.
func explainKey(f volumeFlags, name string, err error) error {
	if errors.Is(err, keys.ErrKeyNotFound) {
		return restate(err, fmt.Sprintf("no key named %s in this volume", name), keyCommand(f, "create", name))
	}
	return err
}

// keyCommand returns `ezfs key VERB NAME` with the volume flag of f, if any.
func keyCommand(f volumeFlags, verb, name string) string {
	cmd := "ezfs key " + verb + " " + shellQuote(name)
	switch {
	case f.backing != "":
		cmd += " --backing " + shellQuote(f.backing)
	case f.mount != "":
		cmd += " --mount " + shellQuote(f.mount)
	}
	return cmd
}

// keyJSON is one key as printed by key describe, key list and the --json of create and roll.
type keyJSON struct {
	Name           string        `json:"name"`
	CurrentVersion uint32        `json:"current_version"`
	Versions       []versionJSON `json:"versions"`
}

type versionJSON struct {
	Version uint32    `json:"version"`
	Created time.Time `json:"created"` // RFC 3339, UTC, seconds
}

func newKeyJSON(m keys.Metadata) keyJSON {
	k := keyJSON{Name: m.Name, CurrentVersion: m.CurrentVersion, Versions: []versionJSON{}}
	for _, v := range m.Versions {
		k.Versions = append(k.Versions, versionJSON{Version: v.Version, Created: v.Created.UTC().Truncate(time.Second)})
	}
	return k
}

// printJSON writes v as one line of JSON on stdout.
func (g *globals) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	g.printf("%s\n", b)
	return nil
}

// describeKey prints one key as text.
func (g *globals) describeKey(k keyJSON) {
	g.printf("name:            %s\ncurrent version: %d\nversions:\n", k.Name, k.CurrentVersion)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	for _, v := range k.Versions {
		mark := ""
		if v.Version == k.CurrentVersion {
			mark = "\t(current)"
		}
		fmt.Fprintf(tw, "  %s@%s\tcreated %s%s\n", k.Name, strconv.FormatUint(uint64(v.Version), 10), v.Created.Format(time.RFC3339), mark)
	}
	tw.Flush()
}
