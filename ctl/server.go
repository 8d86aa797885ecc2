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

	mu     sync.Mutex
	conns  map[*net.UnixConn]bool // open connections, so that Close can end idle ones
	closed bool
}

// Listen creates the socket at path (replacing a stale one) and serves h. owner is the
// uid allowed to make changes besides root.
func Listen(path string, h Handler, log *slog.Logger, owner uint32) (*Server, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	if dir == RunDir { // every user who can see a mount may query it: searchable despite the umask
		os.Chmod(dir, 0o755)
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	os.Chmod(path, 0o666)
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{ln: ln, h: h, log: log, owner: owner, path: path, ctx: ctx, stop: stop, conns: map[*net.UnixConn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting, cancels and waits for running requests (their answers are still
// sent), ends the connections of clients that are still attached, and removes the socket.
func (s *Server) Close() error {
	s.stop()
	err := s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for conn := range s.conns {
		conn.CloseRead() // an idle client would otherwise keep its serve loop, and Close, waiting
	}
	s.mu.Unlock()
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
		if !s.track(conn) {
			conn.Close()
			return
		}
		s.wg.Add(1)
		go s.serve(conn)
	}
}

// track records an accepted connection; false once Close has begun.
func (s *Server) track(conn *net.UnixConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.conns[conn] = true
	}
	return !s.closed
}

// serve answers the requests of one connection, one line each.
func (s *Server) serve(conn *net.UnixConn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
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

// allowed reports whether c may run op: queries are open to all, changes need root or
// the owner.
func (s *Server) allowed(c Caller, op string) bool {
	return !IsChange(op) || c.UID == 0 || c.UID == s.owner
}

// call checks the caller's right to req and runs it.
func (s *Server) call(c Caller, req Request) Response {
	if !s.allowed(c, req.Op) {
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
