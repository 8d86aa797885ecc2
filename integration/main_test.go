// Package integration builds ezfs, mounts volumes for real and drives them with
// ordinary tools (cp, ls, mv, dd, cmp, tar, setfattr). It needs root and /dev/fuse;
// without them every test is skipped.
package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin is the ezfs binary built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ezfs-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "ezfs")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ezfs/ezfs/cmd/ezfs").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build ezfs: %v\n%s", err, out)
		return 1
	}
	before := ezfsMounts()
	code := m.Run()
	if leaks := leftovers(before); leaks != "" {
		fmt.Fprintln(os.Stderr, "left behind after the tests:\n"+leaks)
		return 1
	}
	return code
}

// leftovers lists the fuse.ezfs mounts that were not there before the tests, and live
// ezfs processes started from bin.
func leftovers(before map[string]bool) string {
	var b strings.Builder
	for line := range ezfsMounts() {
		if !before[line] {
			fmt.Fprintf(&b, "mount: %s\n", line)
		}
	}
	for _, pid := range ezfsPIDs() {
		fmt.Fprintf(&b, "process: %d\n", pid)
	}
	return b.String()
}

// ezfsMounts returns the fuse.ezfs lines of /proc/mounts.
func ezfsMounts() map[string]bool {
	lines := map[string]bool{}
	mounts, _ := os.ReadFile("/proc/mounts")
	for line := range strings.SplitSeq(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "fuse.ezfs" {
			lines[line] = true
		}
	}
	return lines
}

// ezfsPIDs lists running (not zombie) processes whose executable is bin.
func ezfsPIDs() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && exe == bin && !bytes.Contains(stat, []byte(") Z ")) {
			pids = append(pids, pid)
		}
	}
	return pids
}
