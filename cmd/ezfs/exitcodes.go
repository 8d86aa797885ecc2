package main

import (
	"context"
	"errors"
	"fmt"
)

// Exit statuses of ezfs. They are API: scripts branch on them, README lists them, and a
// retired number stays reserved (STYLE.md "CLI").
const (
	exitOK          = 0   // success
	exitFailure     = 1   // a user error: wrong passphrase, missing key, not a volume, ...
	exitUsage       = 2   // a usage error: unknown command or flag, wrong arguments, bad value
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM
)

// exitCode maps an error to the process's exit status; it is the only such mapping.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitFailure
	}
}

// usageError marks a wrong command line: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...)}
}

// hintError gives an error the exact one-line message main prints (when msg is set) and
// hints, each a command the user can paste.
type hintError struct {
	err   error
	msg   string
	hints []string
}

func (e *hintError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.err.Error()
}

func (e *hintError) Unwrap() error { return e.err }

// withHint adds hints to err, keeping its message.
func withHint(err error, hints ...string) error {
	return &hintError{err: err, hints: hints}
}

// restate replaces err's message, keeping it for errors.Is, and adds hints.
func restate(err error, msg string, hints ...string) error {
	return &hintError{err: err, msg: msg, hints: hints}
}

// interruptedError reports a command stopped by a signal.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return "interrupted" }
func (e *interruptedError) Unwrap() error { return context.Canceled }

func interrupted(err error) error { return &interruptedError{err: err} }

// hintsOf collects the hints of every hintError in err's chain.
func hintsOf(err error) []string {
	var hints []string
	for err != nil {
		if he, ok := err.(*hintError); ok {
			hints = append(hints, he.hints...)
		}
		err = errors.Unwrap(err)
	}
	return hints
}
