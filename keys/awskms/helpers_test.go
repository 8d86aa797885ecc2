package awskms_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/keys/awskms/kmstest"
)

var kc = keys.KeyContext{VolumeID: "0123456789abcdef0123456789abcdef", Key: keys.Ref{Name: "logs", Version: 3}}

// isolate points the AWS configuration chain at nothing on this machine:
// no shared files, no profile, no instance metadata (DECISIONS.md "Tests and CI").
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CA_BUNDLE"} {
		t.Setenv(v, "")
	}
}

// fixture is a KMS test server with one key and aliases of it.
type fixture struct {
	srv    *kmstest.Server
	keyARN string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	isolate(t)
	srv := kmstest.Start(t)
	arn := srv.CreateKey("ezfs test")
	if err := srv.CreateAlias("alias/ezfs", arn); err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, keyARN: arn}
}

// options returns test options: the server's endpoint, static credentials,
// quick bounded retries.
func (f *fixture) options() awskms.Options {
	return awskms.Options{
		Region:      kmstest.Region,
		Endpoint:    f.srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		MaxAttempts: 3,
		MaxBackoff:  5 * time.Millisecond,
	}
}

// key returns a MainKey for the spec "awskms:"+keyID with the fixture's options.
func (f *fixture) key(t *testing.T, keyID string) *awskms.MainKey {
	t.Helper()
	return f.keyWith(t, keyID, f.options())
}

func (f *fixture) keyWith(t *testing.T, keyID string, o awskms.Options) *awskms.MainKey {
	t.Helper()
	spec, err := awskms.ParseSpec(awskms.SpecPrefix + keyID)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Region != "" {
		o.Region = ""
	}
	m, err := awskms.New(context.Background(), spec, o)
	if err != nil {
		t.Fatalf("New(%s): %v", spec, err)
	}
	return m
}

func zoneKey() []byte {
	b := make([]byte, keys.KeyLen)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

func wrap(t *testing.T, m *awskms.MainKey) []byte {
	t.Helper()
	w, err := m.WrapKey(context.Background(), zoneKey(), kc)
	if err != nil {
		t.Fatalf("WrapKey: %v", err)
	}
	return w
}
