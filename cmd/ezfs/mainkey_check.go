package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/volume"
)

func newMainkeyCheckCmd(g *globals) *cobra.Command {
	var o mainkeyOptions
	cmd := &cobra.Command{
		Use:   "check [PATH]",
		Short: "Verify access to the volume's AWS KMS key, naming any denied action",
		Long: `Run DescribeKey, then Encrypt, Decrypt and ReEncrypt of a random probe under an ezfs
encryption context, with the credentials of the daemon (mounted) or of this process
(offline). Prints the key's ARN, region and state, and one line per failed kms: action; exits 1
if any failed. On a passphrase or key-file volume it only checks that the secret opens it.
With --json, print {"volume","provider","key","versions","arn","region","state","problems":[{"action","error"}]}.` + mainkeyVolumeHelp,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMainkeyCheck(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

// errCheckFailed is a `mainkey check` that found problems (exit 1).
var errCheckFailed = errors.New("main key check failed")

func runMainkeyCheck(ctx context.Context, g *globals, o mainkeyOptions, args []string) error {
	return withMainkeyAdmin(ctx, g, o, args, func(a mainkeyAdmin) error {
		r, err := a.Check(ctx)
		if err != nil {
			return err
		}
		if g.json {
			if err := g.printJSON(r); err != nil {
				return err
			}
		} else {
			printCheck(g, r)
		}
		return checkError(r)
	})
}

func printCheck(g *globals, r checkResult) {
	g.printf("volume:   %s\nmain key: %s\n", r.Volume, r.spec())
	if r.Provider != volume.ProviderAWSKMS {
		g.printf("ok: the secret opens the volume (%d zone-key versions)\n", r.Versions)
		return
	}
	if r.ARN != "" {
		g.printf("arn:      %s\nregion:   %s\nstate:    %s\n", r.ARN, r.Region, r.State)
	}
	for _, p := range r.Problems {
		g.printf("FAILED %s: %s\n", p.Action, p.Error)
	}
	if len(r.Problems) == 0 {
		g.printf("ok: DescribeKey, Encrypt, Decrypt and ReEncrypt allowed\n")
	}
}

// checkError names the failed actions of r, with the fix of the first.
func checkError(r checkResult) error {
	if len(r.Problems) == 0 {
		return nil
	}
	var actions []string
	for _, p := range r.Problems {
		actions = append(actions, p.Action)
	}
	err := fmt.Errorf("%w for %s: %s failed", errCheckFailed, r.Key, strings.Join(actions, ", "))
	return withHint(err, "ezfs mainkey policy --principal ARN   # the key-policy statement ezfs needs")
}

type mainkeyPolicyOptions struct {
	mainkeyOptions
	principal string
}

func newMainkeyPolicyCmd(g *globals) *cobra.Command {
	var o mainkeyPolicyOptions
	cmd := &cobra.Command{
		Use:   "policy [PATH]",
		Short: "Print the KMS key-policy statement the mounting principal needs",
		Long: `Print (JSON, on stdout) the key-policy statement that lets the principal that mounts the
volume use its KMS key: exactly the kms: actions ezfs calls (Decrypt, DescribeKey, Encrypt,
ReEncryptFrom, ReEncryptTo), limited to ezfs's encryption-context keys. --principal names the
IAM role or user ARN; without it a placeholder in the key's account is printed. Needs no secret;
with no volume selected and not exactly one mounted it prints the statement alone.` + mainkeyVolumeHelp,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMainkeyPolicy(cmd.Context(), g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.vol.backing, "backing", "", "the volume in backing directory `DIR` (reads only its config)")
	f.StringVar(&o.vol.mount, "mount", "", "the volume mounted at `MOUNTPOINT`")
	f.StringVar(&o.principal, "principal", "", "the IAM role or user `ARN` that mounts the volume")
	return cmd
}

func runMainkeyPolicy(ctx context.Context, g *globals, o mainkeyPolicyOptions, args []string) error {
	key, err := policyKey(ctx, g, o, args)
	if err != nil {
		return err
	}
	principal := o.principal
	if principal == "" {
		principal = "arn:aws:iam::" + accountOf(key) + ":role/ROLE"
	}
	b, err := awskms.Policy(principal)
	if err != nil {
		return &usageError{err: fmt.Errorf("invalid --principal: %w", err)}
	}
	g.printf("%s\n", b)
	if key != "" {
		fmt.Fprintf(g.stderr, "add this statement to the key policy of %s (aws kms get-key-policy / put-key-policy)\n", key)
	}
	return nil
}

// policyKey returns the KMS key of the selected volume: its config offline (no secret,
// works while mounted), else the daemon; "" when nothing is selected and nothing mounted.
func policyKey(ctx context.Context, g *globals, o mainkeyPolicyOptions, args []string) (string, error) {
	if o.vol.backing != "" {
		c, err := volume.ReadConfig(o.vol.backing)
		if err != nil {
			return "", err
		}
		return kmsKeyOf(c.MainKey.Provider, c.MainKey.Spec(), c.MainKey.Key)
	}
	if o.vol.mount == "" && len(args) == 0 && len(ezfsMounts(g)) != 1 {
		return "", nil // nothing selected: the statement alone
	}
	var info mainkeyInfo
	err := withMainkeyAdmin(ctx, g, o.mainkeyOptions, args, func(a mainkeyAdmin) (err error) {
		info, err = a.Info(ctx)
		return err
	})
	if err != nil {
		return "", err
	}
	return kmsKeyOf(info.Provider, info.spec(), info.Key)
}

func kmsKeyOf(provider, spec, key string) (string, error) {
	if provider != volume.ProviderAWSKMS {
		return "", withHint(fmt.Errorf("the volume's main key is a %s, not an AWS KMS key: it needs no key policy", spec),
			"ezfs mainkey rotate --to awskms:alias/NAME   # to move it to KMS")
	}
	return key, nil
}

// accountOf returns the account of a key or alias ARN, else a placeholder.
func accountOf(key string) string {
	if f := strings.Split(key, ":"); len(f) >= 6 && strings.HasPrefix(key, "arn:") {
		return f[4]
	}
	return "ACCOUNT"
}
