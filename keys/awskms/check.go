package awskms

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/ezfs/ezfs/keys"
)

// actions are exactly the kms: actions this package calls: DescribeKey
// (Check), Encrypt (WrapKey), Decrypt (UnwrapKey) and ReEncrypt (Rewrap,
// RewrapTo), which KMS authorizes as ReEncryptFrom and ReEncryptTo.
var actions = []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"}

// checkContext is the context of Check's round trip: the same context keys
// as real wrapping (so policies conditioned on them allow it), no real volume.
var checkContext = keys.KeyContext{VolumeID: "ezfs-mainkey-check", Key: keys.Ref{Name: "check", Version: 1}}

// KeyInfo is what Check learned about the key from DescribeKey.
type KeyInfo struct {
	ARN         string `json:"arn"`
	Region      string `json:"region"`
	State       string `json:"state"`
	Description string `json:"description"`
}

// Check verifies access to the key: DescribeKey, then a round trip of a
// random 32-byte key through Encrypt, Decrypt and ReEncrypt. It tries every
// step it can and returns the joined *Error of each failure, naming the
// denied action; info is filled as far as DescribeKey succeeded.
func (m *MainKey) Check(ctx context.Context) (KeyInfo, error) {
	info, err := m.describe(ctx)
	if err != nil && !errors.Is(err, ErrAccessDenied) {
		return info, err
	}
	probe := make([]byte, keys.KeyLen)
	_, _ = rand.Read(probe)
	wrapped, werr := m.WrapKey(ctx, probe, checkContext)
	if werr != nil {
		return info, errors.Join(err, werr)
	}
	got, uerr := m.UnwrapKey(ctx, wrapped, checkContext)
	if uerr == nil && !bytes.Equal(got, probe) {
		uerr = &Error{Action: "kms:Decrypt", Key: m.spec.KeyID, Detail: "round trip returned other bytes"}
	}
	clear(got)
	_, rerr := m.Rewrap(ctx, wrapped, checkContext)
	return info, errors.Join(err, uerr, rerr)
}

// describe runs DescribeKey and reports a key that cannot wrap: not a
// symmetric encryption key, disabled or pending deletion.
func (m *MainKey) describe(ctx context.Context) (KeyInfo, error) {
	out, err := m.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(m.spec.KeyID)})
	if err != nil {
		return KeyInfo{}, m.classify("kms:DescribeKey", err)
	}
	md := out.KeyMetadata
	info := KeyInfo{ARN: aws.ToString(md.Arn), Region: m.region, State: string(md.KeyState),
		Description: aws.ToString(md.Description)}
	if md.KeyUsage != types.KeyUsageTypeEncryptDecrypt || md.KeySpec != types.KeySpecSymmetricDefault {
		return info, &Error{Action: "kms:DescribeKey", Key: m.spec.KeyID, Detail: fmt.Sprintf(
			"key is %s %s, not a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)", md.KeySpec, md.KeyUsage)}
	}
	return info, m.checkState("kms:DescribeKey", info.ARN, md.KeyState)
}

func (m *MainKey) checkState(action, arn string, st types.KeyState) error {
	switch st {
	case types.KeyStateEnabled:
		return nil
	case types.KeyStateDisabled:
		return &Error{Action: action, Key: m.spec.KeyID, Kind: ErrKeyDisabled,
			Detail: "key is disabled: enable it (aws kms enable-key --key-id " + arn + ")"}
	case types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion:
		return &Error{Action: action, Key: m.spec.KeyID, Kind: ErrPendingDeletion, Detail: pendingDeletionHint(arn)}
	}
	return &Error{Action: action, Key: m.spec.KeyID, Detail: "key is in state " + string(st) + ", not Enabled"}
}

// statement is one key-policy statement.
type statement struct {
	Sid       string
	Effect    string
	Principal map[string]string
	Action    []string
	Resource  string
	Condition map[string]map[string][]string
}

// Policy returns the key-policy statement (indented JSON) that lets
// principalARN (an IAM role or user ARN) use a key as an ezfs main key: the
// kms: actions ezfs calls and nothing more, limited to encryption contexts
// made only of ezfs's keys.
func Policy(principalARN string) ([]byte, error) {
	if !strings.HasPrefix(principalARN, "arn:") || strings.ContainsAny(principalARN, " \t\n\"*") {
		return nil, fmt.Errorf("principal %q is not an IAM ARN (arn:aws:iam::ACCOUNT:role/NAME)", principalARN)
	}
	st := statement{
		Sid: "AllowEzfsMainKey", Effect: "Allow",
		Principal: map[string]string{"AWS": principalARN},
		Action:    actions, Resource: "*",
		Condition: map[string]map[string][]string{"ForAllValues:StringEquals": {
			"kms:EncryptionContextKeys": {ContextVolume, ContextKey, ContextVersion}}},
	}
	return json.MarshalIndent(st, "", "  ")
}
