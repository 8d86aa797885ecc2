package awskms_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys/awskms"
)

func TestCheck(t *testing.T) {
	f := newFixture(t)
	m := f.key(t, "alias/ezfs")
	info, err := m.Check(context.Background())
	if err != nil || info.ARN != f.keyARN || info.State != "Enabled" || info.Region != "us-east-1" {
		t.Fatalf("Check = %+v, %v", info, err)
	}
	for _, op := range []string{"DescribeKey", "Encrypt", "Decrypt", "ReEncrypt"} {
		if n := f.srv.Calls(op); n != 1 {
			t.Errorf("Check made %d %s calls, want 1", n, op)
		}
	}
}

func TestCheckNamesDeniedActions(t *testing.T) {
	f := newFixture(t)
	f.srv.Deny("kms:DescribeKey")
	f.srv.Deny("kms:ReEncryptFrom")
	_, err := f.key(t, f.keyARN).Check(context.Background())
	if !errors.Is(err, awskms.ErrAccessDenied) {
		t.Fatalf("Check: %v, want ErrAccessDenied", err)
	}
	for _, want := range []string{"allow kms:DescribeKey", "allow kms:ReEncryptFrom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "allow kms:Decrypt") || strings.Contains(err.Error(), "allow kms:Encrypt") {
		t.Errorf("Check names an allowed action: %v", err)
	}
}

func TestCheckKeyStates(t *testing.T) {
	for name, tt := range map[string]struct {
		fault func(*fixture) error
		want  error
	}{
		"disabled":         {func(f *fixture) error { return f.srv.DisableKey(f.keyARN) }, awskms.ErrKeyDisabled},
		"pending-deletion": {func(f *fixture) error { return f.srv.ScheduleDeletion(f.keyARN) }, awskms.ErrPendingDeletion},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if err := tt.fault(f); err != nil {
				t.Fatal(err)
			}
			info, err := f.key(t, "alias/ezfs").Check(context.Background())
			if !errors.Is(err, tt.want) || info.ARN != f.keyARN {
				t.Errorf("Check = %+v, %v; want %v", info, err, tt.want)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	b, err := awskms.Policy("arn:aws:iam::111122223333:role/ezfs")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Effect    string
		Principal map[string]string
		Action    []string
		Resource  string
		Condition map[string]map[string][]string
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, b)
	}
	want := []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
	if !slices.Equal(st.Action, want) || st.Effect != "Allow" || st.Principal["AWS"] != "arn:aws:iam::111122223333:role/ezfs" {
		t.Errorf("policy statement:\n%s", b)
	}
	keysCond := st.Condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]
	if !slices.Equal(keysCond, []string{awskms.ContextVolume, awskms.ContextKey, awskms.ContextVersion}) {
		t.Errorf("condition keys = %v", keysCond)
	}
	for _, bad := range []string{"", "role/ezfs", "arn:aws:iam::1:role/x\"", "*"} {
		if _, err := awskms.Policy(bad); err == nil {
			t.Errorf("Policy(%q) accepted", bad)
		}
	}
}
