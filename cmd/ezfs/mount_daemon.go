package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// daemonEnv is set when `ezfs mount` re-executes itself as the background daemon; its
// value is the descriptor on which the daemon reports readiness.
const daemonEnv = "EZFS_DAEMON_READY_FD"

// readyMsg is what the daemon writes on its readiness descriptor: an empty Error when
// the mount is ready, else the error to print (with hints) before exiting 1.
type readyMsg struct {
	Error string   `json:"error,omitempty"`
	Hints []string `json:"hints,omitempty"`
}

// startDaemon re-executes ezfs as a detached daemon and waits until it reports the mount
// ready or failed. A passphrase typed at the terminal reaches it through a pipe.
func startDaemon(ctx context.Context, g *globals, o mountOptions, mountpoint string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd, err := daemonCommand(ctx, g, o, w)
	w.Close()
	if err != nil {
		return err
	}
	err = waitReady(r)
	if err != nil {
		cmd.Wait()
		return err
	}
	cmd.Process.Release()
	g.logger.Debug("mounted", "backing", o.vol.backing, "mountpoint", mountpoint, "pid", cmd.Process.Pid)
	return nil
}

// daemonCommand starts the daemon: same arguments, $EZFS_DAEMON_READY_FD=3, a new
// session, stdio on /dev/null.
func daemonCommand(ctx context.Context, g *globals, o mountOptions, ready *os.File) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, g.args...)
	cmd.ExtraFiles = []*os.File{ready}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	secret, err := promptedSecret(ctx, g, o, cmd)
	if err != nil {
		return nil, err
	}
	err = cmd.Start()
	if secret != nil {
		secret.Close()
	}
	return cmd, err
}

// promptedSecret asks for the passphrase here when only a terminal can give it, and
// hands it to the daemon as descriptor 4 (named by $EZFS_PASSPHRASE_FILE).
func promptedSecret(ctx context.Context, g *globals, o mountOptions, cmd *exec.Cmd) (*os.File, error) {
	s := o.vol.secret
	if s.keyFile != "" || s.passphraseFile != "" || g.getenv(envPassphraseFile) != "" || g.tty == nil || kmsVolume(o.vol) {
		return nil, nil
	}
	b, err := promptPassphrase(ctx, g.tty, false)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go func() { w.Write(append(b[:len(b):len(b)], '\n')); w.Close() }()
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env, envPassphraseFile+"=/proc/self/fd/4")
	return r, nil
}

// waitReady reads the daemon's one readiness message.
func waitReady(r io.Reader) error {
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		return errors.New("the mount daemon exited before the mount was ready (see its log file)")
	}
	var m readyMsg
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("mount daemon: unreadable readiness message: %w", err)
	}
	if m.Error != "" {
		return &hintError{err: errors.New(m.Error), hints: m.Hints}
	}
	return nil
}

// runDaemon is the background daemon: it detaches from the terminal, logs to the log
// file, and serves the volume, reporting readiness on its descriptor.
func runDaemon(ctx context.Context, g *globals, o mountOptions, mountpoint string) error {
	os.Unsetenv(daemonEnv)
	ready := os.NewFile(uintptr(o.readyFd), "ready")
	unix.CloseOnExec(o.readyFd)
	if err := daemonLog(g, o); err != nil {
		reportReady(ready, err)
		return err
	}
	return serveVolume(ctx, g, o, mountpoint, func(err error) { reportReady(ready, err) })
}

// reportReady writes the readiness message once and closes the descriptor.
func reportReady(ready *os.File, err error) {
	var m readyMsg
	if err != nil {
		m = readyMsg{Error: err.Error(), Hints: hintsOf(err)}
	}
	b, _ := json.Marshal(m)
	ready.Write(append(b, '\n'))
	ready.Close()
}

// daemonLog points the logger (JSON, as for any daemon), stdio and descriptor 2 at
// the log file.
func daemonLog(g *globals, o mountOptions) error {
	path := o.logFile
	if path == "" {
		path = o.vol.backing + "/.ezfs/daemon.log"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	g.logFormat = "json"
	g.stdout, g.stderr = f, f
	// Descriptor 2 too: go-fuse's --debug lines and a panic's trace go there.
	if err := unix.Dup3(int(f.Fd()), 2, 0); err != nil {
		return fmt.Errorf("log file as stderr: %w", err)
	}
	if err := g.setupLogger(); err != nil {
		return err
	}
	g.logger = g.logger.With("pid", strconv.Itoa(os.Getpid()))
	return nil
}

// daemonReadyFd returns the readiness descriptor when this process is the daemon, else -1.
func daemonReadyFd(g *globals) int {
	fd, err := strconv.Atoi(g.getenv(daemonEnv))
	if err != nil || fd < 3 {
		return -1
	}
	return fd
}
