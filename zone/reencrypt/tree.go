package reencrypt

import (
	"errors"
	"io/fs"
	"iter"
	"maps"
	"os"
	"slices"
	"strings"
)

// comparePaths orders zone-relative paths as the walk visits them: depth-first, with the
// names in each directory sorted bytewise, so a directory comes right before its contents
// ("a" < "a/b" < "a-b", which plain string order gets wrong).
func comparePaths(a, b string) int {
	for {
		ah, ar, amore := strings.Cut(a, "/")
		bh, br, bmore := strings.Cut(b, "/")
		if c := strings.Compare(ah, bh); c != 0 {
			return c
		}
		if !amore || !bmore {
			return boolCompare(amore, bmore)
		}
		a, b = ar, br
	}
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// within reports whether p lies strictly below directory dir.
func within(p, dir string) bool {
	return len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir)
}

// join appends name to a zone-relative directory ("" is the zone root).
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// tree lists the regular files below a root directory in walk order.
type tree struct{ root string }

// files yields the zone-relative paths of regular files after checkpoint `after` ("" for
// all), in walk order, skipping whole directories that the checkpoint has passed. A directory
// that cannot be read is yielded with its error; one that vanished is skipped.
func (t tree) files(dir, after string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) { t.visit(dir, after, yield) }
}

func (t tree) visit(dir, after string, yield func(string, error) bool) bool {
	entries, err := os.ReadDir(t.abs(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return yield(dir, err)
	}
	for _, e := range entries {
		if !t.entry(join(dir, e.Name()), e, after, yield) {
			return false
		}
	}
	return true
}

func (t tree) entry(rel string, e fs.DirEntry, after string, yield func(string, error) bool) bool {
	typ := e.Type() // os.ReadDir asks lstat when d_type is unknown
	switch {
	case typ.IsDir():
		if after != "" && comparePaths(rel, after) < 0 && !within(after, rel) {
			return true // everything below rel is at or before the checkpoint
		}
		return t.visit(rel, after, yield)
	case typ.IsRegular():
		return (after != "" && comparePaths(rel, after) <= 0) || yield(rel, nil)
	}
	return true
}

// expand yields rel itself if it is a regular file, or every file below it if it is a
// directory (a touched entry).
func (t tree) expand(rel string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		fi, err := os.Lstat(t.abs(rel))
		switch {
		case err != nil:
		case fi.Mode().IsRegular():
			yield(rel, nil)
		case fi.IsDir():
			t.visit(rel, "", yield)
		}
	}
}

func (t tree) abs(rel string) string {
	if rel == "" {
		return t.root
	}
	return t.root + "/" + rel
}

func sortedVersions(m map[uint32]uint64) []uint32 { return slices.Sorted(maps.Keys(m)) }
