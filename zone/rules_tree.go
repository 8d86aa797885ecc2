package zone

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Enclosing returns the nearest zone enclosing backing-relative path rel (rel itself
// included), reading markers in the backing tree rooted at backing: the zone root's
// relative path and its marker, or "", nil outside every zone. A corrupt marker is an
// error: the zone's files must not be served raw.
func Enclosing(backing, rel string) (string, *Marker, error) {
	for p := path.Clean(rel); ; p = path.Dir(p) {
		m, err := ReadMarker(path.Join(backing, p))
		if err != nil || m != nil {
			return p, m, err
		}
		if p == "." || p == "/" {
			return "", nil, nil
		}
	}
}

// ReadMarker reads the zone marker of directory dir; nil, nil when it has none.
func ReadMarker(dir string) (*Marker, error) {
	buf := make([]byte, 512)
	n, err := unix.Lgetxattr(dir, XattrZone, buf)
	if errors.Is(err, unix.ENODATA) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read zone marker of %s: %w", dir, err)
	}
	m, err := ParseMarker(buf[:n])
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// CheckNew reports whether backing-relative directory rel may become a zone: it must be
// an empty directory (ErrNotEmpty), with no zone above it or below it (ErrNested; the
// registered zones tell which zones exist below).
func CheckNew(backing, rel string, registered []Record) error {
	rel = path.Clean(rel)
	if rel == "." {
		return fmt.Errorf("the volume's root cannot be a zone: %w", ErrNested)
	}
	if at, m, err := Enclosing(backing, rel); err != nil {
		return err
	} else if m != nil {
		return fmt.Errorf("%s is inside zone %s: %w", rel, at, ErrNested)
	}
	for _, r := range registered {
		if strings.HasPrefix(r.Path, rel+"/") {
			return fmt.Errorf("%s contains zone %s: %w", rel, r.Path, ErrNested)
		}
	}
	return checkEmpty(path.Join(backing, rel))
}

// checkEmpty fails with ErrNotEmpty unless dir is an empty directory.
func checkEmpty(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if _, err := f.Readdirnames(1); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	}
	return nil
}
