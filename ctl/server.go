package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Caller is the peer of a connection, from SO_PEERCRED.
type Caller struct {
	UID, GID uint32
	PID      int32
}

// Handler answers requests; the daemon implements it. An error may carry a Code and
// Hints through [Coded] and [Hinted].
type Handler interface {
	Handle(ctx context.Context, c Caller, r Request) (any, error)
}

// Coded is an error with a stable code for the client (see Response.Code).
type Coded interface{ Code() string }

// Hinted is an error with hints (commands the user can paste).
type Hinted interface{ Hints() []string }

// ErrDenied refuses a change to a caller that is neither root nor the mounting user.
var ErrDenied = errors.New("only root or the user who mounted the volume may change it")

// Server accepts connections on the control socket.
type Server struct {
	ln    *net.UnixListener
	h     Handler
	log   *slog.Logger
	owner uint32
	path  string
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
}

// Listen creates the socket at path (replacing a stale one) and serves h. owner is the
// uid allowed to make changes besides root.
func Listen(path string, h Handler, log *slog.Logger, owner uint32) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	os.Chmod(path, 0o666)
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{ln: ln, h: h, log: log, owner: owner, path: path, ctx: ctx, stop: stop}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting, waits for running requests and removes the socket.
func (s *Server) Close() error {
	s.stop()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.serve(conn)
	}
}

// serve answers the requests of one connection, one line each.
func (s *Server) serve(conn *net.UnixConn) {
	defer s.wg.Done()
	defer conn.Close()
	c, err := peer(conn)
	if err != nil {
		return
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	enc := json.NewEncoder(conn)
	for sc.Scan() {
		var req Request
		resp := Response{}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = "malformed request: " + err.Error()
		} else {
			resp = s.call(c, req)
		}
		if enc.Encode(resp) != nil {
			return
		}
	}
}

// call checks the caller's right to req and runs it.
func (s *Server) call(c Caller, req Request) Response {
	if IsChange(req.Op) && c.UID != 0 && c.UID != s.owner {
		return errorResponse(ErrDenied)
	}
	s.log.Debug("control request", "op", req.Op, "uid", c.UID, "pid", c.PID)
	out, err := s.h.Handle(s.ctx, c, req)
	if err != nil {
		return errorResponse(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return errorResponse(err)
	}
	return Response{Result: b}
}

// errorResponse carries err's message, code and hints.
func errorResponse(err error) Response {
	r := Response{Error: err.Error(), Code: "error"}
	var c Coded
	if errors.As(err, &c) {
		r.Code = c.Code()
	}
	if errors.Is(err, ErrDenied) {
		r.Code = "denied"
	}
	var h Hinted
	if errors.As(err, &h) {
		r.Hints = h.Hints()
	}
	return r
}

// peer returns the credentials of the process at the other end.
func peer(conn *net.UnixConn) (Caller, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return Caller{}, err
	}
	var cred *unix.Ucred
	var cerr error
	raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cerr != nil {
		return Caller{}, cerr
	}
	return Caller{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}, nil
}
