package main

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// A daemon that exited but was not reaped yet (a zombie) counts as gone:
// `ezfs unmount` must not wait for init to reap it.
func TestExitedSeesZombies(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if exited(pid) {
		t.Fatal("a running process counts as exited")
	}
	cmd.Process.Kill()
	// WNOWAIT: wait until it died, without reaping it.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if !exited(pid) {
		t.Fatal("a zombie counts as running")
	}
	cmd.Wait()
	if !exited(pid) {
		t.Fatal("a reaped process counts as running")
	}
}
