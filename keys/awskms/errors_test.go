package awskms_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
)

// TestErrors checks that each KMS failure gives its sentinel and a message
// naming the key and what to do.
func TestErrors(t *testing.T) {
	missing := "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name   string
		key    string // key id; "" means the fixture's key ARN
		fault  func(f *fixture)
		op     string // wrap, unwrap, rewrap
		want   error
		substr []string
	}{
		{"deny-decrypt", "", func(f *fixture) { f.srv.Deny("kms:Decrypt") }, "unwrap",
			awskms.ErrAccessDenied, []string{"kms:Decrypt on arn:aws:kms:", "access denied: allow kms:Decrypt", "mainkey policy"}},
		{"deny-encrypt", "alias/ezfs", func(f *fixture) { f.srv.Deny("kms:Encrypt") }, "wrap",
			awskms.ErrAccessDenied, []string{"kms:Encrypt on alias/ezfs", "allow kms:Encrypt"}},
		{"deny-reencrypt-to", "", func(f *fixture) { f.srv.Deny("kms:ReEncryptTo") }, "rewrap",
			awskms.ErrAccessDenied, []string{"kms:ReEncryptTo on", "allow kms:ReEncryptTo"}},
		{"disabled", "", func(f *fixture) { _ = f.srv.DisableKey(f.keyARN) }, "unwrap",
			awskms.ErrKeyDisabled, []string{"key is disabled: enable it (aws kms enable-key --key-id arn:aws:kms:us-east-1:"}},
		{"pending-deletion", "alias/ezfs", func(f *fixture) { _ = f.srv.ScheduleDeletion(f.keyARN) }, "wrap",
			awskms.ErrPendingDeletion, []string{"key is pending deletion: cancel the deletion"}},
		{"key-not-found", missing, nil, "wrap",
			awskms.ErrKeyNotFound, []string{"key not found in region us-east-1: check the key ARN or alias and the region"}},
		{"alias-not-found", "alias/nope", nil, "wrap",
			awskms.ErrKeyNotFound, []string{"kms:Encrypt on alias/nope: key not found"}},
		{"endpoint-in-other-region", strings.Replace(missing, "us-east-1", "eu-west-1", 1), nil, "wrap",
			awskms.ErrWrongRegion, []string{"wrong region: requests are signed for region eu-west-1 but the KMS endpoint http://127.0.0.1:"}},
		{"throttled", "", func(f *fixture) { f.srv.Throttle(100) }, "wrap",
			awskms.ErrThrottled, []string{"throttled by KMS after 3 attempts"}},
		{"down", "", func(f *fixture) { f.srv.Down() }, "wrap",
			awskms.ErrUnreachable, []string{"cannot reach KMS at http://127.0.0.1:", "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.key == "" {
				tt.key = f.keyARN
			}
			m := f.key(t, tt.key)
			var w []byte
			if tt.op != "wrap" {
				w = wrap(t, m)
			}
			if tt.fault != nil {
				tt.fault(f)
			}
			err := run(m, tt.op, w)
			checkError(t, err, tt.want, tt.substr)
		})
	}
}

func run(m *awskms.MainKey, op string, w []byte) error {
	ctx := context.Background()
	var err error
	switch op {
	case "wrap":
		_, err = m.WrapKey(ctx, zoneKey(), kc)
	case "unwrap":
		_, err = m.UnwrapKey(ctx, w, kc)
	case "rewrap":
		_, err = m.Rewrap(ctx, w, kc)
	}
	return err
}

func checkError(t *testing.T, err, want error, substr []string) {
	t.Helper()
	t.Logf("error: %v", err)
	var e *awskms.Error
	if !errors.Is(err, want) || !errors.As(err, &e) {
		t.Fatalf("error %v, want *Error matching %v", err, want)
	}
	for _, s := range substr {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "0102030405") {
		t.Errorf("error shows key material: %q", err)
	}
}

func TestNewRegionErrors(t *testing.T) {
	f := newFixture(t)
	spec, _ := awskms.ParseSpec("awskms:arn:aws:kms:us-west-2:111122223333:key/abc")
	_, err := awskms.New(context.Background(), spec, f.options()) // options ask for us-east-1
	if !errors.Is(err, awskms.ErrWrongRegion) || !strings.Contains(err.Error(), "is in region us-west-2 but region us-east-1") {
		t.Errorf("New with conflicting regions: %v", err)
	}
	o := f.options()
	o.Region = ""
	alias, _ := awskms.ParseSpec("awskms:alias/ezfs")
	if _, err := awskms.New(context.Background(), alias, o); !errors.Is(err, awskms.ErrNoRegion) {
		t.Errorf("New without any region: %v", err)
	}
}

func TestNoCredentials(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.Credentials = nil // the chain: empty environment, no files, IMDS disabled
	m := f.keyWith(t, f.keyARN, o)
	_, err := m.WrapKey(context.Background(), zoneKey(), kc)
	checkError(t, err, awskms.ErrNoCredentials, []string{"no AWS credentials found"})
	if n := f.srv.TotalCalls(); n != 0 {
		t.Errorf("%d KMS calls without credentials", n)
	}
}

func TestShortBlobNeedsNoCall(t *testing.T) {
	f := newFixture(t)
	m := f.key(t, f.keyARN)
	checkError(t, run(m, "unwrap", nil), keys.ErrAuth, []string{"not a KMS ciphertext blob"})
	if n := f.srv.TotalCalls(); n != 0 {
		t.Errorf("%d KMS calls for an empty blob", n)
	}
}
