package awskms_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/keys/awskms/kmstest"
	"github.com/ezfs/ezfs/keys/keystest"
)

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	for name, id := range map[string]string{
		"key-arn":   f.keyARN,
		"alias":     "alias/ezfs",
		"alias-arn": kmstest.AliasARN("alias/ezfs"),
	} {
		t.Run(name, func(t *testing.T) {
			f.srv.ResetCalls()
			m := f.key(t, id)
			got, err := m.UnwrapKey(context.Background(), wrap(t, m), kc)
			if err != nil || !bytes.Equal(got, zoneKey()) {
				t.Fatalf("UnwrapKey = %x, %v", got, err)
			}
			if e, d := f.srv.Calls("Encrypt"), f.srv.Calls("Decrypt"); e != 1 || d != 1 || f.srv.TotalCalls() != 2 {
				t.Errorf("KMS calls: Encrypt %d, Decrypt %d, total %d; want 1, 1, 2", e, d, f.srv.TotalCalls())
			}
		})
	}
}

func TestMainKeySuite(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{f.keyARN, "alias/ezfs"} {
		t.Run(id, func(t *testing.T) {
			keystest.TestMainKey(t, func(t *testing.T) keys.MainKey { return f.key(t, id) })
		})
	}
}

func TestWrongContextRejected(t *testing.T) {
	f := newFixture(t)
	m := f.key(t, f.keyARN)
	w := wrap(t, m)
	vol, name, ver := kc, kc, kc
	vol.VolumeID = "other-volume"
	name.Key.Name = "logs2"
	ver.Key.Version = 4
	for _, other := range []keys.KeyContext{vol, name, ver} {
		_, err := m.UnwrapKey(context.Background(), w, other)
		if !errors.Is(err, keys.ErrAuth) || !strings.Contains(err.Error(), "failed authentication") {
			t.Errorf("UnwrapKey with %+v: %v, want ErrAuth", other, err)
		}
	}
}

func TestOtherKeyRejected(t *testing.T) {
	f := newFixture(t)
	w := wrap(t, f.key(t, f.keyARN))
	other := f.srv.CreateKey("other")
	if err := f.srv.CreateAlias("alias/other", other); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{other, "alias/other"} {
		_, err := f.key(t, id).UnwrapKey(context.Background(), w, kc)
		if !errors.Is(err, keys.ErrAuth) || !errors.Is(err, awskms.ErrWrongKey) {
			t.Errorf("UnwrapKey under %s: %v, want ErrWrongKey", id, err)
		}
	}
}

func TestRotationThenRewrap(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := f.key(t, "alias/ezfs")
	old := wrap(t, m)
	if err := f.srv.RotateKey(f.keyARN); err != nil {
		t.Fatal(err)
	}
	if got, err := m.UnwrapKey(ctx, old, kc); err != nil || !bytes.Equal(got, zoneKey()) {
		t.Fatalf("old blob after rotation: %x, %v", got, err)
	}
	f.srv.ResetCalls()
	re, err := m.Rewrap(ctx, old, kc)
	if err != nil || bytes.Equal(re, old) || f.srv.Calls("ReEncrypt") != 1 {
		t.Fatalf("Rewrap: %v (ReEncrypt calls %d)", err, f.srv.Calls("ReEncrypt"))
	}
	if got, err := m.UnwrapKey(ctx, re, kc); err != nil || !bytes.Equal(got, zoneKey()) {
		t.Fatalf("rewrapped blob: %x, %v", got, err)
	}
	if _, err := m.Rewrap(ctx, re, keys.KeyContext{VolumeID: "x", Key: kc.Key}); !errors.Is(err, keys.ErrAuth) {
		t.Errorf("Rewrap with wrong context: %v, want ErrAuth", err)
	}
}

func TestRewrapTo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src := f.key(t, f.keyARN)
	dst := f.key(t, f.srv.CreateKey("new main key"))
	f.srv.ResetCalls()
	moved, err := src.RewrapTo(ctx, wrap(t, src), kc, dst)
	if err != nil || f.srv.Calls("ReEncrypt") != 1 || f.srv.Calls("Decrypt") != 0 {
		t.Fatalf("RewrapTo: %v; ReEncrypt %d Decrypt %d", err, f.srv.Calls("ReEncrypt"), f.srv.Calls("Decrypt"))
	}
	if got, err := dst.UnwrapKey(ctx, moved, kc); err != nil || !bytes.Equal(got, zoneKey()) {
		t.Fatalf("moved blob under new key: %x, %v", got, err)
	}
	if _, err := src.UnwrapKey(ctx, moved, kc); !errors.Is(err, keys.ErrAuth) {
		t.Errorf("moved blob under old key: %v, want ErrAuth", err)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	f := newFixture(t)
	t.Setenv("AWS_ENDPOINT_URL_KMS", f.srv.URL())
	t.Setenv("AWS_REGION", kmstest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	m := f.keyWith(t, "alias/ezfs", awskms.Options{MaxAttempts: 1})
	if m.Region() != kmstest.Region {
		t.Errorf("Region() = %q", m.Region())
	}
	if _, err := m.UnwrapKey(context.Background(), wrap(t, m), kc); err != nil {
		t.Fatal(err)
	}
}

func TestThrottlingRetried(t *testing.T) {
	f := newFixture(t)
	m := f.key(t, f.keyARN)
	f.srv.Throttle(2)
	f.srv.ResetCalls()
	wrap(t, m)
	if n := f.srv.Calls("Encrypt"); n != 3 {
		t.Errorf("Encrypt calls = %d, want 3 (two throttled, one retry succeeded)", n)
	}
}

func TestRetriesLogged(t *testing.T) {
	f := newFixture(t)
	var log bytes.Buffer
	o := f.options()
	o.Logger = newTextLogger(&log)
	m := f.keyWith(t, f.keyARN, o)
	f.srv.Throttle(1)
	secret := zoneKey()
	if _, err := m.WrapKey(context.Background(), secret, kc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "ThrottlingException") {
		t.Errorf("retry not logged: %q", log.String())
	}
}

func TestServerDown(t *testing.T) {
	f := newFixture(t)
	m := f.key(t, f.keyARN)
	w := wrap(t, m)
	f.srv.Down()
	start := time.Now()
	_, err := m.UnwrapKey(context.Background(), w, kc)
	if !errors.Is(err, awskms.ErrUnreachable) || !strings.Contains(err.Error(), "cannot reach KMS at "+f.srv.URL()) {
		t.Fatalf("UnwrapKey with KMS down: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v", d)
	}
	if err := f.srv.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.UnwrapKey(context.Background(), w, kc); err != nil {
		t.Errorf("UnwrapKey after KMS is back: %v", err)
	}
}

func TestHTTPClientOption(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	m := f.keyWith(t, f.keyARN, o)
	if _, err := m.UnwrapKey(context.Background(), wrap(t, m), kc); err != nil {
		t.Fatal(err)
	}
}

// TestCABundle: the default HTTP client accepts AWS_CA_BUNDLE, as the SDK's own does.
func TestCABundle(t *testing.T) {
	f := newFixture(t)
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(bundle, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	m := f.key(t, f.keyARN)
	if _, err := m.UnwrapKey(context.Background(), wrap(t, m), kc); err != nil {
		t.Fatal(err)
	}
}
