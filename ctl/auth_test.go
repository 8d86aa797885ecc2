package ctl

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// countHandler counts the requests that reach it.
type countHandler struct{ n int }

func (h *countHandler) Handle(context.Context, Caller, Request) (any, error) {
	h.n++
	return "done", nil
}

// Changes need root or the owner; queries are open to everyone. The test cannot connect as
// another user, so it calls the server's request path with the caller SO_PEERCRED would give.
func TestAuthorization(t *testing.T) {
	const owner = 4242
	tests := []struct {
		name string
		uid  uint32
		op   string
		ok   bool
	}{
		{"root-change", 0, "key.create", true},
		{"owner-change", owner, "zone.create", true},
		{"other-change", 1000, "key.delete", false},
		{"other-backup", 1000, "key.backup", false},
		{"other-rotate", 1000, "mainkey.rotate", false},
		{"other-query", 1000, "key.list", true},
		{"other-unknown-op", 1000, "file.info", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &countHandler{}
			s := &Server{h: h, log: slog.New(slog.NewTextHandler(io.Discard, nil)), owner: owner, ctx: context.Background()}
			c := Caller{UID: tt.uid, GID: tt.uid, PID: 1}
			if got := s.allowed(c, tt.op); got != tt.ok {
				t.Fatalf("allowed = %v, want %v", got, tt.ok)
			}
			resp := s.call(c, Request{Op: tt.op})
			if tt.ok {
				if resp.Error != "" || string(resp.Result) != `"done"` || h.n != 1 {
					t.Fatalf("response %+v, handler ran %d times", resp, h.n)
				}
				return
			}
			if resp.Code != "denied" || resp.Error != ErrDenied.Error() || h.n != 0 {
				t.Fatalf("response %+v, handler ran %d times; want denied before the handler", resp, h.n)
			}
		})
	}
}
