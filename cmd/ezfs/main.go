// Command ezfs creates, administers and mounts ezfs volumes: directories whose encryption
// zones hold only ciphertext, with keys in a versioned key store (see README.md and FORMAT.md).
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "devel"

func main() {
	os.Exit(mainRun())
}

// mainRun runs ezfs with the process's arguments and stdio and returns the exit status.
// SIGINT and SIGTERM cancel the command's context; a command that stops because of them
// exits with exitInterrupted.
func mainRun() int {
	// Whatever ezfs creates for itself (key-store files at init, on a roll, a walk
	// checkpoint or a memtable flush; backups) is private: badger creates its files
	// 0666 less the umask. Entries made through a mount get exactly the caller's mode
	// regardless (fs exactMode).
	unix.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := newGlobals(os.Stdin, os.Stdout, os.Stderr)
	return run(ctx, g, programArgs(os.Args))
}

// programArgs returns the arguments for the root command. Called as mount.fuse.ezfs by
// mount(8) (`mount.fuse.ezfs SOURCE DIR -o OPTS`), ezfs runs its mount command
// (DECISIONS.md "CLI").
func programArgs(argv []string) []string {
	if filepath.Base(argv[0]) == "mount.fuse.ezfs" {
		return append([]string{"mount"}, argv[1:]...)
	}
	return argv[1:]
}

// run executes one command line and reports its error; it returns the exit status.
func run(ctx context.Context, g *globals, args []string) int {
	g.args = args
	root := newRootCmd(g)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if !g.started {
		err = &usageError{err: err} // cobra failed on the command line itself
	}
	if ctx.Err() != nil {
		err = interrupted(err)
	}
	return g.report(cmd, err)
}
