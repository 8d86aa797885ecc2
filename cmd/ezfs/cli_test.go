package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys"
)

// testGlobals returns globals writing to buffers, with no terminal and no environment.
func testGlobals(t *testing.T) (*globals, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	t.Setenv("EZFS_TEST_FAST_KDF", "1")
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
		mountsFile: filepath.Join(t.TempDir(), "mounts"), logger: slog.New(slog.NewTextHandler(&errb, nil))}
	return g, &out, &errb
}

// fakeTTY answers prompts from a list.
type fakeTTY struct{ answers []string }

func (f *fakeTTY) next() string {
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a
}
func (f *fakeTTY) Password(context.Context, string) ([]byte, error) { return []byte(f.next()), nil }
func (f *fakeTTY) Line(context.Context, string) (string, error)     { return f.next(), nil }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadSecretFile(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"newline":     {"pw\n", "pw"},
		"crlf":        {"pw\r\n", "pw"},
		"two-newline": {"pw\n\n", "pw\n"},
		"bare-cr":     {"pw\r", "pw\r"},
		"none":        {"pw", "pw"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := readSecretFile(writeFile(t, "p", tc.in), true)
			if err != nil || string(b) != tc.want {
				t.Fatalf("got %q, %v; want %q", b, err, tc.want)
			}
		})
	}
	if _, err := readSecretFile(writeFile(t, "p", "\n"), true); !errors.Is(err, errEmptySecret) {
		t.Fatalf("empty passphrase: %v", err)
	}
}

func TestReadSecretOrder(t *testing.T) {
	g, _, _ := testGlobals(t)
	ctx := context.Background()
	if _, err := readSecret(ctx, g, secretFlags{}, false); !errors.Is(err, errNoPassphrase) {
		t.Fatalf("no source: %v", err)
	}
	env := writeFile(t, "env", "from-env\n")
	g.getenv = func(string) string { return env }
	if s, _ := readSecret(ctx, g, secretFlags{}, false); string(s.Passphrase) != "from-env" {
		t.Fatalf("env: %q", s.Passphrase)
	}
	flag := writeFile(t, "flag", "from-flag\n")
	if s, _ := readSecret(ctx, g, secretFlags{passphraseFile: flag}, false); string(s.Passphrase) != "from-flag" {
		t.Fatalf("flag over env: %q", s.Passphrase)
	}
	if s, _ := readSecret(ctx, g, secretFlags{keyFile: flag}, false); string(s.KeyFile) != "from-flag\n" {
		t.Fatalf("key file is used as it is: %q", s.KeyFile)
	}
	_, err := readSecret(ctx, g, secretFlags{keyFile: flag, passphraseFile: flag}, false)
	if exitCode(err) != exitUsage {
		t.Fatalf("both flags: %v", err)
	}
}

func TestInitPromptsTwice(t *testing.T) {
	g, _, _ := testGlobals(t)
	dir := t.TempDir()
	g.tty = &fakeTTY{answers: []string{"one", "two"}}
	err := runInit(context.Background(), g, initOptions{chunkSize: "4096"}, []string{dir})
	if !errors.Is(err, errMismatch) {
		t.Fatalf("mismatched passphrases: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ezfs")); err == nil {
		t.Fatal("a volume was created after a mismatch")
	}
	g.tty = &fakeTTY{answers: []string{"same", "same"}}
	if err := runInit(context.Background(), g, initOptions{chunkSize: "4096"}, []string{dir}); err != nil {
		t.Fatal(err)
	}
}

func TestKeyCommands(t *testing.T) {
	g, out, _ := testGlobals(t)
	ctx := context.Background()
	dir, pass := t.TempDir(), writeFile(t, "pass", "pw\n")
	if err := runInit(ctx, g, initOptions{chunkSize: "16K", secret: secretFlags{passphraseFile: pass}}, []string{dir}); err != nil {
		t.Fatal(err)
	}
	o := keyOptions{vol: volumeFlags{backing: dir, secret: secretFlags{passphraseFile: pass}}}
	for _, step := range []func() error{
		func() error { return runKeyCreate(ctx, g, o, []string{"k"}) },
		func() error { return runKeyRoll(ctx, g, o, []string{"k"}) },
		func() error { g.json = true; return runKeyDescribe(ctx, g, o, []string{"k"}) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), `{"name":"k","current_version":2,"versions":[{"version":1,`) {
		t.Fatalf("output:\n%s", out)
	}
	err := runKeyRoll(ctx, g, o, []string{"missing"})
	if !errors.Is(err, keys.ErrKeyNotFound) || exitCode(err) != exitFailure {
		t.Fatalf("roll of a missing key: %v", err)
	}
	if h := hintsOf(err); len(h) != 1 || !strings.HasPrefix(h[0], "ezfs key create missing --backing ") {
		t.Fatalf("hints %q", h)
	}
}

func TestKeyDeleteConfirm(t *testing.T) {
	g, _, _ := testGlobals(t)
	ctx := context.Background()
	dir, pass := t.TempDir(), writeFile(t, "pass", "pw")
	runInit(ctx, g, initOptions{chunkSize: "4096", secret: secretFlags{passphraseFile: pass}}, []string{dir})
	o := keyDeleteOptions{keyOptions: keyOptions{vol: volumeFlags{backing: dir, secret: secretFlags{passphraseFile: pass}}}}
	if err := runKeyCreate(ctx, g, o.keyOptions, []string{"k"}); err != nil {
		t.Fatal(err)
	}
	g.tty = &fakeTTY{answers: []string{"not-k"}}
	if err := runKeyDelete(ctx, g, o, []string{"k"}); !errors.Is(err, errNotConfirmed) {
		t.Fatalf("wrong name typed: %v", err)
	}
	g.tty = &fakeTTY{answers: []string{"k"}}
	if err := runKeyDelete(ctx, g, o, []string{"k"}); err != nil {
		t.Fatal(err)
	}
}

func TestKeyInUseError(t *testing.T) {
	err := inUse("logs", []string{"data/a", "data/b"})
	if !errors.Is(err, keys.ErrKeyInUse) || err.Error() != "key logs is used by zone data/a, data/b: it cannot be deleted" {
		t.Fatalf("got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"4096": 4096, "16K": 16384, "16kib": 16384, "1M": 1 << 20, "1MiB": 1 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K", "-1", "4x", "99999999999M"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

func TestMountDiscovery(t *testing.T) {
	g, _, _ := testGlobals(t)
	table := "/dev/sda1 / ext4 rw 0 0\n/srv/back /mnt/a fuse.ezfs rw 0 0\n/srv/my\\040vol /mnt/b\\040c fuse.ezfs rw 0 0\n"
	os.WriteFile(g.mountsFile, []byte(table), 0o600)
	ms := ezfsMounts(g)
	if len(ms) != 2 || ms[1].source != "/srv/my vol" || ms[1].dir != "/mnt/b c" {
		t.Fatalf("mounts %+v", ms)
	}
	if mp, err := findMount(g, "", "/mnt/a/x/y"); err != nil || mp != "/mnt/a" {
		t.Fatalf("path inside a mount: %q, %v", mp, err)
	}
	if _, err := findMount(g, "", "/mnt/ab"); err == nil {
		t.Fatal("/mnt/ab is not inside /mnt/a")
	}
	g.args = []string{"key", "list", "--backing", "/srv/back"}
	err := explainLocked(g, volumeFlags{backing: "/srv/back"}, errors.New("locked"))
	if !strings.Contains(err.Error(), "mounted at /mnt/a") || hintsOf(err)[0] != "ezfs key list --mount /mnt/a" {
		t.Fatalf("locked: %v, hints %q", err, hintsOf(err))
	}
	if _, err := findMount(g, "", ""); err == nil || len(hintsOf(err)) != 2 {
		t.Fatalf("several mounts: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/a/b": "/a/b", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSpeedAndVersion(t *testing.T) {
	g, out, _ := testGlobals(t)
	g.json = true
	if err := runSpeed(context.Background(), g, speedOptions{chunkSize: "4K", duration: 1e6}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"cipher":"xchacha20-poly1305"`) || !strings.Contains(out.String(), `"avx512":`) {
		t.Fatalf("speed: %s", out)
	}
	out.Reset()
	if err := runVersion(context.Background(), g, struct{}{}, nil); err != nil || !strings.Contains(out.String(), `"format":1`) {
		t.Fatalf("version: %s %v", out, err)
	}
}
