package ctl_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ezfs/ezfs/ctl"
)

// hintedError is a daemon error with a code and hints, as the ezfs daemon returns them.
type hintedError struct{}

func (hintedError) Error() string   { return "zone is busy" }
func (hintedError) Code() string    { return "walk_running" }
func (hintedError) Hints() []string { return []string{"ezfs reencrypt status /m/z"} }

// echoResult is what the fake handler answers to "echo".
type echoResult struct {
	Name string     `json:"name"`
	Who  ctl.Caller `json:"who"`
}

// fakeHandler answers "echo" with the request's name and its caller, "fail" with a
// hintedError, "plain" with an error that has no code, and "block" only when the server
// stops.
type fakeHandler struct {
	mu  sync.Mutex
	ops []string
}

func (h *fakeHandler) Handle(ctx context.Context, c ctl.Caller, r ctl.Request) (any, error) {
	h.mu.Lock()
	h.ops = append(h.ops, r.Op)
	h.mu.Unlock()
	switch r.Op {
	case "echo", "key.create":
		return echoResult{Name: r.Name, Who: c}, nil
	case "fail":
		return nil, fmt.Errorf("start walk: %w", hintedError{})
	case "plain":
		return nil, errors.New("disk full")
	case "block":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("unknown op %q", r.Op)
}

// listen serves h on a socket in a fresh directory and stops it at the end of the test.
func listen(t *testing.T, h ctl.Handler, owner uint32) *ctl.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := ctl.Listen(filepath.Join(t.TempDir(), "run", "ctl.sock"), h, log, owner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func dial(t *testing.T, srv *ctl.Server) *ctl.Client {
	t.Helper()
	c, err := ctl.Dial(context.Background(), []string{srv.Path()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRoundTrip(t *testing.T) {
	srv := listen(t, &fakeHandler{}, 4242)
	// The first path does not exist: Dial goes on to the next, as clients try both.
	c, err := ctl.Dial(context.Background(), []string{filepath.Join(t.TempDir(), "none.sock"), srv.Path()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got echoResult
	if err := c.Call(context.Background(), ctl.Request{Op: "echo", Name: "logs"}, &got); err != nil {
		t.Fatal(err)
	}
	want := echoResult{Name: "logs", Who: ctl.Caller{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), PID: int32(os.Getpid())}}
	if got != want {
		t.Fatalf("echo = %+v, want %+v", got, want)
	}
	if err := c.Call(context.Background(), ctl.Request{Op: "echo"}, nil); err != nil {
		t.Fatalf("call with nil out: %v", err)
	}
	if fi, err := os.Stat(srv.Path()); err != nil || fi.Mode().Perm() != 0o666 {
		t.Fatalf("socket: %v %v, want mode 0666", fi, err)
	}
}

func TestRemoteErrors(t *testing.T) {
	c := dial(t, listen(t, &fakeHandler{}, 4242))
	tests := []struct {
		op, msg, code string
		hints         []string
	}{
		{"fail", "start walk: zone is busy", "walk_running", []string{"ezfs reencrypt status /m/z"}},
		{"plain", "disk full", "error", nil},
		{"nope", `unknown op "nope"`, "error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			err := c.Call(context.Background(), ctl.Request{Op: tt.op}, nil)
			var re *ctl.RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want a RemoteError", err)
			}
			if re.Msg != tt.msg || re.CodeName != tt.code || !slices.Equal(re.Hint, tt.hints) {
				t.Fatalf("got %+v, want %q %q %q", re, tt.msg, tt.code, tt.hints)
			}
			if !ctl.IsCode(err, tt.code) || ctl.IsCode(err, "denied") {
				t.Fatalf("IsCode(%v) is wrong", err)
			}
		})
	}
}

// Root may always change the volume; the test runs as root when it can mount, as the
// integration tests do. Refusals of other users are tested on the predicate itself.
func TestRootMayChange(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	c := dial(t, listen(t, &fakeHandler{}, 4242))
	if err := c.Call(context.Background(), ctl.Request{Op: "key.create", Name: "k"}, nil); err != nil {
		t.Fatalf("root refused: %v", err)
	}
}

// A line that is not a request is answered with an error, and the connection goes on.
func TestMalformedRequest(t *testing.T) {
	srv := listen(t, &fakeHandler{}, 4242)
	conn, err := net.Dial("unix", srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(conn)
	for _, line := range []string{"not json", `{"op":`, `["echo"]`, `{"op":"echo","name":"again"}`} {
		if _, err := conn.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		b, err := rd.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after %q: %v", line, err)
		}
		var resp ctl.Response
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("response %q: %v", b, err)
		}
		ok := strings.HasPrefix(line, `{"op":"echo"`)
		if ok != (resp.Error == "") || !ok && !strings.HasPrefix(resp.Error, "malformed request: ") {
			t.Fatalf("%q answered %+v", line, resp)
		}
	}
}

// Many clients at once, and one client shared by many goroutines, each get their own
// answers.
func TestConcurrentClients(t *testing.T) {
	srv := listen(t, &fakeHandler{}, 4242)
	shared := dial(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c, err := ctl.Dial(context.Background(), []string{srv.Path()})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			errs <- callEcho(c, fmt.Sprintf("own-%d", i), 10)
		}()
		go func() {
			defer wg.Done()
			errs <- callEcho(shared, fmt.Sprintf("shared-%d", i), 10)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// callEcho calls echo n times and checks that every answer is its own.
func callEcho(c *ctl.Client, name string, n int) error {
	for j := range n {
		want := fmt.Sprintf("%s/%d", name, j)
		var got echoResult
		if err := c.Call(context.Background(), ctl.Request{Op: "echo", Name: want}, &got); err != nil {
			return err
		}
		if got.Name != want {
			return fmt.Errorf("asked %s, answered %s", want, got.Name)
		}
	}
	return nil
}

// A client deadline ends a call the daemon does not answer; Close stops the request
// (its context is cancelled), waits for it and removes the socket.
func TestDeadlineAndClose(t *testing.T) {
	h := &fakeHandler{}
	srv := listen(t, h, 4242)
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, ctl.Request{Op: "block"}, nil); err == nil {
		t.Fatal("call past its deadline succeeded")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after Close: %v", err)
	}
	if _, err := ctl.Dial(context.Background(), []string{srv.Path()}); err == nil {
		t.Fatal("dialled a closed server")
	}
}

// Listen replaces a stale socket file left by a daemon that died.
func TestListenReplacesStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := ctl.Listen(path, &fakeHandler{}, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := dial(t, srv)
	if err := c.Call(context.Background(), ctl.Request{Op: "echo"}, nil); err != nil {
		t.Fatal(err)
	}
}
