package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
)

func newZoneCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zone",
		Short: "Create and list encryption zones of a mounted volume",
		Args:  exactArgs(0, "a subcommand"),
	}
	cmd.AddCommand(newZoneCreateCmd(g), newZoneListCmd(g))
	return cmd
}

// zoneCreateOptions are the flags of `ezfs zone create`.
type zoneCreateOptions struct{ key string }

func newZoneCreateCmd(g *globals) *cobra.Command {
	var o zoneCreateOptions
	cmd := &cobra.Command{
		Use:   "create DIR --key NAME",
		Short: "Make an empty directory inside a mount an encryption zone",
		Long: `Make DIR, an empty directory inside an ezfs mount, an encryption zone keyed by the
existing zone key NAME. Every file created in it afterwards is encrypted with its own key.
Names, sizes, symlink targets and user xattrs stay in plaintext.

Refused for a non-empty directory, a directory inside a zone or containing one, a missing
key, or a path outside an ezfs mount. Only root or the user who mounted may create zones.

Exit status: 0 created, 1 refused or failed, 2 usage error.`,
		Args: exactArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error { return runZoneCreate(cmd.Context(), g, o, args) },
	}
	cmd.Flags().StringVar(&o.key, "key", "", "zone key `NAME` (create it with ezfs key create NAME)")
	return cmd
}

// runZoneCreate asks the mount's daemon to make args[0] a zone.
func runZoneCreate(ctx context.Context, g *globals, o zoneCreateOptions, args []string) error {
	if o.key == "" {
		return usagef("zone create needs --key NAME")
	}
	if err := checkKeyName(o.key); err != nil {
		return err
	}
	dir, mp, err := pathInMount(g, args[0])
	if err != nil {
		return err
	}
	var it zoneItem
	if err := callMount(ctx, g, mp, ctl.Request{Op: "zone.create", Path: dir, Name: o.key}, &it); err != nil {
		return explainZoneCreate(g, dir, o.key, mp, err)
	}
	g.printf("created zone %s with key %s@%d\n", it.Path, it.Key, it.CurrentVersion)
	fmt.Fprintln(g.stderr, "note: file names, sizes, symlink targets and user xattrs in the zone stay in plaintext")
	return nil
}

// explainZoneCreate words each refusal with a hint.
func explainZoneCreate(g *globals, dir, key, mp string, err error) error {
	switch {
	case errors.Is(err, zone.ErrNotEmpty):
		fresh := dir + ".zone"
		return restate(err, dir+" is not empty: a zone must start empty",
			fmt.Sprintf("mkdir %s && ezfs zone create %s --key %s && cp -a %s/. %s/", shellQuote(fresh), shellQuote(fresh), shellQuote(key), shellQuote(dir), shellQuote(fresh)))
	case errors.Is(err, zone.ErrNested):
		return restate(err, fmt.Sprintf("%s: zones cannot be nested (%v)", dir, err), "ezfs zone list "+shellQuote(mp))
	case errors.Is(err, keys.ErrKeyNotFound):
		return restate(err, "no key named "+key+" in this volume", "ezfs key create "+shellQuote(key)+" --mount "+shellQuote(mp))
	}
	return err
}

// pathInMount makes p absolute (symlinks resolved) and finds the ezfs mount holding it.
func pathInMount(g *globals, p string) (abs, mountpoint string, err error) {
	abs, err = filepath.Abs(p)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", "", err
	}
	mountpoint, err = mountHolding(ezfsMounts(g), abs)
	if err != nil {
		return "", "", withHint(err, "ezfs mount BACKING MOUNTPOINT")
	}
	return abs, mountpoint, nil
}

// zoneListOptions are the flags of `ezfs zone list`.
type zoneListOptions struct{ mount string }

func newZoneListCmd(g *globals) *cobra.Command {
	var o zoneListOptions
	cmd := &cobra.Command{
		Use:   "list [MOUNTPOINT]",
		Short: "List the zones of a mounted volume",
		Long: `List every zone of the mount at MOUNTPOINT (or --mount, or the only ezfs mount) with its
path, zone id, key name and the key's current version.

--json prints an array of {"path","zone_id","key","current_version","versions","last_walk"};
versions maps a key version to its file count as of the last completed re-encryption walk.

Exit status: 0 listed, 1 error, 2 usage error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runZoneList(cmd.Context(), g, o, args) },
	}
	cmd.Flags().StringVar(&o.mount, "mount", "", "the ezfs mount at `MOUNTPOINT`")
	jsonFlag(cmd, g)
	return cmd
}

// runZoneList prints the zones of the selected mount.
func runZoneList(ctx context.Context, g *globals, o zoneListOptions, args []string) error {
	sel := o.mount
	if len(args) == 1 {
		sel = args[0]
	}
	mp, err := findMount(g, sel, "")
	if err != nil {
		return err
	}
	var items []zoneItem
	if err := callMount(ctx, g, mp, ctl.Request{Op: "zone.list"}, &items); err != nil {
		return err
	}
	return printZones(g, items)
}

// printZones prints the list as JSON or a table.
func printZones(g *globals, items []zoneItem) error {
	if g.json {
		return json.NewEncoder(g.stdout).Encode(items)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tKEY\tVERSION\tZONE ID")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Path, it.Key, strconv.Itoa(int(it.CurrentVersion)), it.ZoneID)
	}
	return tw.Flush()
}
