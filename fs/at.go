package fs

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxRel is the longest backing-relative path handed to one *at syscall; longer
// paths are opened one directory at a time (PATH_MAX is 4096 with the NUL, and
// /proc/self/fd/N/ must still fit in front for the xattr calls).
const maxRel = 4000

// rel returns n's path relative to the backing root ("." for the root), or ""
// when n is no longer linked into the tree (unlinked while open).
func (n *node) rel() string {
	root := n.root.node.EmbeddedInode()
	var segs []string
	for p := n.EmbeddedInode(); p != root; {
		name, parent := p.Parent()
		if parent == nil {
			return ""
		}
		segs = append(segs, name)
		p = parent
	}
	if len(segs) == 0 {
		return "."
	}
	slices.Reverse(segs)
	return strings.Join(segs, "/")
}

// childRel returns the backing-relative path of name in directory n ("" if n is
// orphaned).
func (n *node) childRel(name string) string {
	switch p := n.rel(); p {
	case "":
		return ""
	case ".":
		return name
	default:
		return p + "/" + name
	}
}

// at resolves a backing-relative path to a directory descriptor and a name in it,
// for the *at syscalls. done closes the descriptor if one was opened.
func (r *Root) at(rel string) (dirfd int, name string, done func(), err error) {
	if rel == "" {
		return -1, "", nil, unix.ENOENT
	}
	if len(rel) < maxRel {
		return r.fd, rel, func() {}, nil
	}
	dir, base := filepath.Split(rel)
	fd, err := r.openLongDir(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return -1, "", nil, err
	}
	return fd, base, func() { unix.Close(fd) }, nil
}

// openLongDir opens a directory whose relative path is too long for one syscall,
// walking it in pieces shorter than maxRel.
func (r *Root) openLongDir(rel string) (int, error) {
	fd, err := unix.Dup(r.fd)
	for err == nil && rel != "" {
		piece := rel
		if len(piece) >= maxRel {
			cut := strings.LastIndexByte(piece[:maxRel], '/')
			piece = piece[:cut]
		}
		rel = strings.TrimPrefix(rel[len(piece):], "/")
		var next int
		next, err = unix.Openat(fd, piece, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		fd = next
	}
	return fd, err
}

// procPath names dirfd/name through /proc, for the xattr calls that have no *at form.
func procPath(dirfd int, name string) string {
	return "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + name
}

// withAt runs fn with rel resolved to a directory descriptor and name.
func (r *Root) withAt(rel string, fn func(dirfd int, name string) error) error {
	dirfd, name, done, err := r.at(rel)
	if err != nil {
		return err
	}
	defer done()
	return fn(dirfd, name)
}
