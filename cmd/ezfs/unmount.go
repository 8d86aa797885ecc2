package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/ctl"
)

// unmountOptions are the flags of `ezfs unmount`.
type unmountOptions struct{ lazy bool }

func newUnmountCmd(g *globals) *cobra.Command {
	var o unmountOptions
	cmd := &cobra.Command{
		Use:   "unmount MOUNTPOINT",
		Short: "Unmount a volume and stop its daemon",
		Long: `Unmount the ezfs mount at MOUNTPOINT with everything flushed, and wait until its daemon
has released the volume. A busy mount is refused unless --lazy detaches it now (it is
unmounted when the last user leaves). Plain umount and fusermount3 -u work too.

Exit status: 0 unmounted, 1 error (e.g. busy), 2 usage error.`,
		Args: exactArgs(1, "MOUNTPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error { return runUnmount(cmd.Context(), g, o, args) },
	}
	cmd.Flags().BoolVar(&o.lazy, "lazy", false, "detach a busy mount now, finish when it is no longer used")
	return cmd
}

// runUnmount unmounts args[0] and waits for its daemon to exit.
func runUnmount(ctx context.Context, g *globals, o unmountOptions, args []string) error {
	mp, err := mountAt(ezfsMounts(g), args[0])
	if err != nil {
		return err
	}
	pid := daemonPID(ctx, g, mp)
	if err := unmountKernel(mp, o.lazy); err != nil {
		return err
	}
	if pid > 0 && !o.lazy {
		waitExit(ctx, pid, 10*time.Second)
	}
	return nil
}

// daemonPID asks the daemon for its process id (0 if it cannot be reached).
func daemonPID(ctx context.Context, g *globals, mp string) int {
	c, err := dialMount(ctx, g, mp)
	if err != nil {
		return 0
	}
	defer c.Close()
	var p pingResult
	if c.Call(ctx, ctl.Request{Op: "ping"}, &p) != nil {
		return 0
	}
	return p.PID
}

// unmountKernel unmounts directly as root, otherwise through fusermount3.
func unmountKernel(mp string, lazy bool) error {
	if os.Geteuid() != 0 {
		args := []string{"-u", mp}
		if lazy {
			args = []string{"-u", "-z", mp}
		}
		if out, err := exec.Command("fusermount3", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("fusermount3 -u %s: %s", mp, out)
		}
		return nil
	}
	flags := 0
	if lazy {
		flags = unix.MNT_DETACH
	}
	err := unix.Unmount(mp, flags)
	if errors.Is(err, unix.EBUSY) {
		return withHint(fmt.Errorf("%s is busy (a process uses a file or directory in it)", mp),
			"ezfs unmount --lazy "+shellQuote(mp), "fuser -vm "+shellQuote(mp))
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", mp, err)
	}
	return nil
}

// waitExit waits until process pid has exited (the daemon flushed and closed
// the volume).
func waitExit(ctx context.Context, pid int, limit time.Duration) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline) && ctx.Err() == nil; {
		if exited(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exited reports whether process pid is gone or a zombie. A daemon that
// exited stays a zombie until its parent reaps it, and the parent of a
// daemon in the background is init, which may take its time.
func exited(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the command name, which ends at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}
