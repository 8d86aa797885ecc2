package keys_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys"
)

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{
		"logs@3": "logs@3", "a.b_c-D9@4294967295": "a.b_c-D9@4294967295",
	} {
		r, err := keys.ParseRef(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRef(%q) = %v, %v", in, r, err)
		}
	}
	for _, in := range []string{"logs", "logs@0", "logs@01", "logs@+1", "logs@-1", "logs@4294967296",
		"@1", "lo gs@1", "logs@1@2", strings.Repeat("a", 65) + "@1", "logs@"} {
		if r, err := keys.ParseRef(in); err == nil {
			t.Errorf("ParseRef(%q) = %v, want error", in, r)
		}
	}
}

func TestCheckName(t *testing.T) {
	if err := keys.CheckName(strings.Repeat("z", 64)); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "a/b", "ä", "a b", "a@b", strings.Repeat("z", 65)} {
		if keys.CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := keys.NewSecret([]byte("TOPSECRETBYTES!!"))
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "k", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%x %d %#v %+v %q", s, s, s, s, s), logged.String()} {
		if strings.Contains(out, "TOPSECRET") || strings.Contains(out, "544f50") {
			t.Errorf("secret bytes printed: %s", out)
		}
	}
	b := s.Bytes()
	s.Wipe()
	s.Wipe()
	if s.Bytes() != nil || strings.Trim(string(b), "\x00") != "" {
		t.Error("Wipe did not zero the bytes")
	}
}
