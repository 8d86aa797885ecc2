package awskms_test

import (
	"errors"
	"testing"

	"github.com/ezfs/ezfs/keys/awskms"
)

func TestParseSpec(t *testing.T) {
	const keyARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	good := map[string]awskms.Spec{
		"key-arn":     {KeyID: keyARN, Region: "eu-west-1"},
		"alias-arn":   {KeyID: "arn:aws:kms:us-gov-west-1:111122223333:alias/ezfs/prod", Region: "us-gov-west-1"},
		"alias":       {KeyID: "alias/ezfs-main_1"},
		"mrk-key-arn": {KeyID: "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", Region: "cn-north-1"},
	}
	for name, want := range good {
		t.Run(name, func(t *testing.T) {
			got, err := awskms.ParseSpec(awskms.SpecPrefix + want.KeyID)
			if err != nil || got != want || got.String() != awskms.SpecPrefix+want.KeyID {
				t.Errorf("ParseSpec = %+v, %v; want %+v", got, err, want)
			}
		})
	}
	bad := map[string]string{
		"no-prefix":     keyARN,
		"empty":         "awskms:",
		"bare-key-id":   "awskms:1234abcd-12ab-34cd-56ef-1234567890ab",
		"aws-managed":   "awskms:alias/aws/ebs",
		"other-service": "awskms:arn:aws:s3:eu-west-1:111122223333:key/x",
		"short-account": "awskms:arn:aws:kms:eu-west-1:1111:key/x",
		"no-region":     "awskms:arn:aws:kms::111122223333:key/x",
		"bad-resource":  "awskms:arn:aws:kms:eu-west-1:111122223333:keys/x",
		"alias-space":   "awskms:alias/a b",
		"empty-key-id":  "awskms:arn:aws:kms:eu-west-1:111122223333:key/",
		"alias-arn-aws": "awskms:arn:aws:kms:eu-west-1:111122223333:alias/aws/s3",
		"passphrase":    "passphrase",
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			if sp, err := awskms.ParseSpec(s); !errors.Is(err, awskms.ErrInvalidSpec) || sp != (awskms.Spec{}) {
				t.Errorf("ParseSpec(%q) = %+v, %v; want ErrInvalidSpec", s, sp, err)
			}
		})
	}
}

// FuzzParseSpec: whatever parses re-encodes to the same spec string.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"awskms:alias/x", "awskms:arn:aws:kms:us-east-1:111122223333:key/abc",
		"awskms:arn:aws:kms:us-east-1:111122223333:alias/x", "awskms:arn:aws:kms:us-east-1:1:key/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := awskms.ParseSpec(s)
		if err != nil {
			return
		}
		if sp.String() != s {
			t.Fatalf("ParseSpec(%q).String() = %q", s, sp.String())
		}
		if again, err := awskms.ParseSpec(sp.String()); err != nil || again != sp {
			t.Fatalf("reparse of %q = %+v, %v", s, again, err)
		}
	})
}
