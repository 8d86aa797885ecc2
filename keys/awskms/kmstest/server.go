package kmstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Region and Account are where every key of the double lives.
const (
	Region  = "us-east-1"
	Account = "111122223333"
)

// targetPrefix starts the X-Amz-Target header of every KMS operation.
const targetPrefix = "TrentService."

// maxBody bounds a request body; KMS requests are small.
const maxBody = 1 << 20

// Server is a running KMS test double. It is safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	keys     map[string]*key   // by key id (uuid)
	aliases  map[string]string // "alias/NAME" -> key id
	denied   map[string]bool   // "kms:Decrypt" -> denied
	throttle int               // calls still to throttle
	calls    map[string]int    // operation -> requests received

	netMu  sync.Mutex
	addr   string
	hs     *http.Server
	ln     net.Listener
	served chan struct{} // closed when hs.Serve returned
}

// New starts a server on 127.0.0.1 with no keys. Close stops it.
func New() (*Server, error) {
	s := &Server{
		keys:    map[string]*key{},
		aliases: map[string]string{},
		denied:  map[string]bool{},
		calls:   map[string]int{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kmstest: listen: %w", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	return s, nil
}

// Start is New for tests: it fails tb on error and closes the server in tb.Cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// URL returns the server's endpoint, "http://127.0.0.1:PORT", for the SDK's
// BaseEndpoint or AWS_ENDPOINT_URL_KMS.
func (s *Server) URL() string { return "http://" + s.addr }

// Close stops the server and drops its connections; it stays down.
func (s *Server) Close() { s.Down() }

// Down closes the listener and every open connection, so clients get
// "connection refused" until Up. It does nothing when already down.
func (s *Server) Down() {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	if s.hs != nil {
		_ = s.hs.Close()
		_ = s.ln.Close() // Serve may not have taken the listener yet
		<-s.served
		s.hs, s.ln = nil, nil
	}
}

// Up listens again on the same address after Down, keeping every key.
func (s *Server) Up() error {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	if s.hs != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("kmstest: listen again on %s: %w", s.addr, err)
	}
	s.serveLocked(ln)
	return nil
}

func (s *Server) serve(ln net.Listener) {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.serveLocked(ln)
}

func (s *Server) serveLocked(ln net.Listener) {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	s.hs, s.ln, s.served = hs, ln, served
	go func() {
		defer close(served)
		_ = hs.Serve(ln)
	}()
}

// ServeHTTP answers one KMS JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, err := s.admit(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, errSerialization(err))
		return
	}
	out, err := s.dispatch(op, body)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// admit checks the request envelope, counts the call and applies throttling.
func (s *Server) admit(r *http.Request) (string, error) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if r.Method != http.MethodPost || !ok || op == "" {
		return "", &apiError{"UnknownOperationException", "expected POST with X-Amz-Target TrentService.<Op>"}
	}
	if err := checkAuth(r.Header.Get("Authorization")); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if s.throttle > 0 {
		s.throttle--
		return "", &apiError{"ThrottlingException", "Rate exceeded"}
	}
	return op, nil
}

// checkAuth requires an Authorization header and, for SigV4, a credential
// scope in the server's region, as KMS does; it does not verify signatures.
func checkAuth(auth string) error {
	if auth == "" {
		return &apiError{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return nil
	}
	scope := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(scope) >= 3 && scope[2] != Region {
		return &apiError{"InvalidSignatureException", fmt.Sprintf(
			"Credential should be scoped to a valid region, not '%s'. ", scope[2])}
	}
	return nil
}

// apiError is a KMS error response.
type apiError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errSerialization(err error) error {
	return &apiError{"SerializationException", err.Error()}
}

func errValidation(format string, a ...any) error {
	return &apiError{"ValidationException", fmt.Sprintf(format, a...)}
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{"KMSInternalException", err.Error()}
		writeJSON(w, http.StatusInternalServerError, ae)
		return
	}
	writeJSON(w, http.StatusBadRequest, ae)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("kmstest: marshal response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", newID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns a random UUID (version 4), as KMS key ids are.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("kmstest: random: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
