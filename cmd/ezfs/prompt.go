package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// prompter asks the person at the terminal. Commands use it only when globals.tty is set,
// that is when stdin is a terminal; otherwise they need flags (--passphrase-file, --yes).
type prompter interface {
	// Password prints prompt and reads a line without echo. The caller wipes the result.
	Password(ctx context.Context, prompt string) ([]byte, error)
	// Line prints prompt and reads one line with echo.
	Line(ctx context.Context, prompt string) (string, error)
}

// termPrompter prompts on stderr and reads from the terminal on stdin.
type termPrompter struct {
	in  *os.File
	out io.Writer
}

// Password reads without echo. An interrupt cancels ctx; the terminal's state is then
// restored before returning, since term.ReadPassword would leave echo off.
func (p *termPrompter) Password(ctx context.Context, prompt string) ([]byte, error) {
	fmt.Fprint(p.out, prompt)
	fd := int(p.in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() { b, err := term.ReadPassword(fd); done <- result{b, err} }()
	select {
	case r := <-done:
		fmt.Fprintln(p.out)
		return r.b, r.err
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(p.out)
		return nil, ctx.Err()
	}
}

// Line reads one line; an interrupt cancels ctx and returns its error.
func (p *termPrompter) Line(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	done := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(p.in).ReadString('\n')
		done <- strings.TrimRight(s, "\r\n")
	}()
	select {
	case s := <-done:
		return s, nil
	case <-ctx.Done():
		fmt.Fprintln(p.out)
		return "", ctx.Err()
	}
}
