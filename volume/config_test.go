package volume_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/volume"
)

const goodConfig = `{
  "format": 1,
  "volume_id": "0123456789abcdef0123456789abcdef",
  "cipher": "aes-256-gcm",
  "chunk_size": 4096,
  "main_key": {
    "provider": "passphrase"
  }
}
`

func TestConfigRoundTrip(t *testing.T) {
	c, err := volume.ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Encode(); string(got) != goodConfig {
		t.Fatalf("Encode:\n%s\nwant\n%s", got, goodConfig)
	}
	c.Keystore = "/var/lib/ezfs/ks"
	again, err := volume.ParseConfig(c.Encode())
	if err != nil || *again != *c {
		t.Fatalf("with keystore: %+v, %v", again, err)
	}
}

// kmsConfig is an AWS KMS volume's config (FORMAT.md "Volume config").
var kmsConfig = strings.Replace(goodConfig, `"provider": "passphrase"`,
	`"provider": "awskms",`+"\n    "+`"key": "arn:aws:kms:us-east-1:111122223333:alias/ezfs"`, 1)

func TestKMSConfigRoundTrip(t *testing.T) {
	c, err := volume.ParseConfig([]byte(kmsConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := volume.MainKeyConfig{Provider: "awskms", Key: "arn:aws:kms:us-east-1:111122223333:alias/ezfs"}
	if c.MainKey != want || c.MainKey.Spec() != "awskms:"+want.Key {
		t.Fatalf("main key %+v", c.MainKey)
	}
	if got := c.Encode(); string(got) != kmsConfig {
		t.Fatalf("Encode:\n%s\nwant\n%s", got, kmsConfig)
	}
}

func TestConfigErrorsNameField(t *testing.T) {
	edit := func(old, new string) string { return strings.Replace(goodConfig, old, new, 1) }
	for field, doc := range map[string]string{
		"format":            edit(`"format": 1`, `"format": 2`),
		"volume_id":         edit(`0123456789abcdef0123`, `0123456789ABCDEF0123`),
		"cipher":            edit(`aes-256-gcm`, `rot13`),
		"chunk_size":        edit(`4096`, `4097`),
		"main_key.provider": edit(`passphrase`, `gpg`),
		"main_key.key":      edit(`passphrase`, `awskms`),
		"main_key.key ":     edit(`"passphrase"`, `"passphrase", "key": "alias/x"`),
		"main_key.key  ":    strings.Replace(kmsConfig, `alias/ezfs`, `alias/aws/ebs`, 1),
		"keystore":          edit(`"chunk_size"`, `"keystore": "rel/path", "chunk_size"`),
		"extra":             edit(`"format": 1,`, `"format": 1, "extra": true,`),
		"Format":            edit(`"format": 1,`, `"format": 1, "Format": 1,`),
		"main_key.x":        edit(`"provider"`, `"x": 1, "provider"`),
		"cipher ":           edit(`"chunk_size"`, `"cipher": "aes-256-gcm", "chunk_size"`),
		"(document)":        goodConfig + "{}",
		"main_key":          edit("{\n    \"provider\": \"passphrase\"\n  }", `[1]`),
	} {
		field = strings.TrimSpace(field)
		_, err := volume.ParseConfig([]byte(doc))
		var pe *keys.ParseError
		if !errors.As(err, &pe) || pe.Field != field {
			t.Errorf("%s: error = %v, want a ParseError naming it", field, err)
		}
	}
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte(strings.Replace(goodConfig, `"chunk_size"`, `"keystore": "/k", "chunk_size"`, 1)))
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(kmsConfig))
	f.Add([]byte(strings.Replace(kmsConfig, `arn:aws:kms:us-east-1:111122223333:alias/ezfs`, `alias/ezfs`, 1)))
	f.Add([]byte(strings.Replace(kmsConfig, `alias/ezfs`, `key/1234abcd-12ab-34cd-56ef-1234567890ab`, 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := volume.ParseConfig(b)
		if err != nil {
			var pe *keys.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a ParseError", err)
			}
			return
		}
		enc := c.Encode()
		again, err := volume.ParseConfig(enc)
		if err != nil || *again != *c || !bytes.Equal(again.Encode(), enc) {
			t.Fatalf("decode→encode→decode changed %+v to %+v (%v)", c, again, err)
		}
	})
}
