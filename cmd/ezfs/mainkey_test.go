package main

import (
	"context"
	"strings"
	"testing"
)

func TestMainkeyPolicyAlone(t *testing.T) {
	g, out, _ := testGlobals(t)
	o := mainkeyPolicyOptions{principal: "arn:aws:iam::111122223333:role/ezfs"}
	if err := runMainkeyPolicy(context.Background(), g, o, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kms:Decrypt"`, `"kms:ReEncryptTo"`, `"arn:aws:iam::111122223333:role/ezfs"`, `"ezfs:version"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("policy lacks %s:\n%s", want, out)
		}
	}
	o.principal = "nobody"
	if err := runMainkeyPolicy(context.Background(), g, o, nil); exitCode(err) != exitUsage {
		t.Errorf("bad principal: %v (exit %d)", err, exitCode(err))
	}
}

func TestParseMainKeySpec(t *testing.T) {
	for spec, want := range map[string]string{
		"passphrase":        "passphrase",
		"keyfile:/k":        "keyfile",
		"awskms:alias/ezfs": "awskms",
		"awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab": "awskms",
		"keyfile:":             "",
		"awskms:alias/aws/ebs": "",
		"awskms:key/1234":      "",
		"gpg":                  "",
	} {
		m, err := parseMainKeySpec("--to", spec)
		if m.provider != want || (err == nil) != (want != "") {
			t.Errorf("%s: provider %q, %v; want %q", spec, m.provider, err, want)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Errorf("%s: exit %d, want usage", spec, exitCode(err))
		}
	}
}

func TestAccountOf(t *testing.T) {
	if a := accountOf("arn:aws:kms:us-east-1:111122223333:alias/x"); a != "111122223333" {
		t.Error(a)
	}
	if a := accountOf("alias/x"); a != "ACCOUNT" {
		t.Error(a)
	}
}
