package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// errorJSON is the object written to stderr for a failure under --json.
type errorJSON struct {
	Error    string   `json:"error"`
	ExitCode int      `json:"exit_code"`
	Hints    []string `json:"hints,omitempty"`
}

// report prints err as `ezfs: error: …` and `ezfs: hint: …` lines on stderr (and, with
// --json, as an errorJSON object after them) and returns the exit status.
func (g *globals) report(cmd *cobra.Command, err error) int {
	code := exitCode(err)
	hints := hintsOf(err)
	if code == exitUsage && len(hints) == 0 && cmd != nil {
		hints = []string{cmd.CommandPath() + " --help"}
	}
	fmt.Fprintf(g.stderr, "ezfs: error: %v\n", err)
	for _, h := range hints {
		fmt.Fprintf(g.stderr, "ezfs: hint: %s\n", h)
	}
	if g.json {
		b, _ := json.Marshal(errorJSON{Error: err.Error(), ExitCode: code, Hints: hints})
		fmt.Fprintf(g.stderr, "%s\n", b)
	}
	return code
}
