package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var updateScripts = flag.Bool("update", false, "rewrite the expected output in testdata/script")

// TestMain lets the test binary run as ezfs inside the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"ezfs": func() { os.Exit(mainRun()) }})
}

// TestScripts runs the CLI golden tests in testdata/script: each is a txtar archive of
// commands with their expected stdout, stderr and exit status (`status N ezfs ARGS`).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EZFS_TEST_FAST_KDF", "1") // argon2 parameters for tests only
			env.Setenv("EZFS_PASSPHRASE_FILE", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"status": cmdStatus},
	})
}

// cmdStatus runs `status N PROGRAM ARGS...` and fails unless PROGRAM exits with N.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
