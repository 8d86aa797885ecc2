package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
)

// globals is what every command shares: output streams, the logger, the global flags and,
// when stdin is a terminal, a prompter. Tests build one with buffers instead of stdio.
type globals struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	tty            prompter            // nil when stdin is not a terminal
	getenv         func(string) string // os.Getenv; tests replace it
	mountsFile     string              // the mount table, /proc/self/mounts

	args      []string // the command line after the program name, for hints
	json      bool     // --json of the running command: errors are JSON on stderr too
	logFormat string   // --log-format: text or json
	logLevel  string   // --log-level: debug, info, warn or error
	started   bool     // the command line parsed and a command began to run
}

// newGlobals returns globals over the process's stdio.
func newGlobals(stdin *os.File, stdout, stderr io.Writer) *globals {
	g := &globals{stdout: stdout, stderr: stderr, getenv: os.Getenv, mountsFile: "/proc/self/mounts"}
	if term.IsTerminal(int(stdin.Fd())) {
		g.tty = &termPrompter{in: stdin, out: stderr}
	}
	return g
}

// setupLogger builds the one logger of the process from --log-format and --log-level:
// text by default (for a person at a terminal), JSON for log collectors.
func (g *globals) setupLogger() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return usagef("invalid --log-level %q: use debug, info, warn or error", g.logLevel)
	}
	o := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(g.logFormat) {
	case "text":
		g.logger = slog.New(slog.NewTextHandler(g.stderr, o))
	case "json":
		g.logger = slog.New(slog.NewJSONHandler(g.stderr, o))
	default:
		return usagef("invalid --log-format %q: use text or json", g.logFormat)
	}
	return nil
}

// printf writes human output to stdout.
func (g *globals) printf(format string, a ...any) {
	fmt.Fprintf(g.stdout, format, a...)
}
