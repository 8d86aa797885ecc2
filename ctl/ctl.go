// Package ctl is the control socket of a mount's daemon: JSON lines over a unix socket,
// one request and one response per line. Read-only queries are open to every user who
// can reach the socket; changes need root or the user who mounted (SO_PEERCRED).
//
// # Socket
//
// A daemon running as root listens on /run/ezfs/<id>.sock, where id is derived from
// the absolute backing directory (see [SocketPaths]); the directory is world-searchable
// and the socket mode 0666, so that any user who can see the mount can query it. A
// daemon of an ordinary user listens on BACKING/.ezfs/ctl.sock. Clients try both.
package ctl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
)

// RunDir is where a root daemon puts its socket.
const RunDir = "/run/ezfs"

// Request is one call. Op names the operation; the other fields are its arguments.
type Request struct {
	Op       string       `json:"op"`
	Name     string       `json:"name,omitempty"`      // key name
	Path     string       `json:"path,omitempty"`      // an absolute path inside the mount
	ShowEDEK bool         `json:"show_edek,omitempty"` // file.info: include the EDEK
	MainKey  *MainKeyArgs `json:"mainkey,omitempty"`   // mainkey.rotate
	Rate     float64      `json:"rate,omitempty"`      // reencrypt.start: files per second, 0 = no cap
	Batch    int          `json:"batch,omitempty"`     // reencrypt.start: files per batch, 0 = default
	Below    uint32       `json:"below,omitempty"`     // key.prune: delete versions below this one
	Check    bool         `json:"check,omitempty"`     // key.prune: only check that it may go ahead
}

// MainKeyArgs are the secrets of mainkey.rotate: the current secret of a passphrase or
// key-file volume, and the new main key (exactly one of To, NewPassphrase, NewKeyFile).
// The daemon wipes them after use and never logs them.
type MainKeyArgs struct {
	Passphrase    []byte `json:"passphrase,omitempty"`
	KeyFile       []byte `json:"key_file,omitempty"`
	To            string `json:"to,omitempty"` // "awskms:ARN" or "awskms:alias/NAME"
	NewPassphrase []byte `json:"new_passphrase,omitempty"`
	NewKeyFile    []byte `json:"new_key_file,omitempty"`
}

// Response is the answer to one Request: Result on success, else Error (the message
// to print), Code (a stable name the client maps back to a sentinel error) and Hints.
type Response struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Code   string          `json:"code,omitempty"`
	Hints  []string        `json:"hints,omitempty"`
}

// Ops that change the volume; every other op is a read-only query.
var changeOps = map[string]bool{"key.create": true, "key.roll": true, "key.delete": true, "zone.create": true,
	"mainkey.rotate": true, "mainkey.rewrap": true, "mainkey.check": true,
	"reencrypt.start": true, "reencrypt.cancel": true, "key.prune": true, "key.backup": true} // key.backup: wrapped keys stay with the owner

// IsChange reports whether op changes the volume (and so needs root or the mounting user).
func IsChange(op string) bool { return changeOps[op] }

// SocketPaths returns where the daemon of the volume in backing (absolute) may listen,
// in the order clients try them.
func SocketPaths(backing string) []string {
	sum := sha256.Sum256([]byte(backing))
	return []string{
		filepath.Join(RunDir, hex.EncodeToString(sum[:10])+".sock"),
		filepath.Join(backing, ".ezfs", "ctl.sock"),
	}
}
