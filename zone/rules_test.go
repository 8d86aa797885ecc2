package zone_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone"
)

func TestCheckMove(t *testing.T) {
	a, b := &zone.Marker{ID: [16]byte{1}, Key: "k"}, &zone.Marker{ID: [16]byte{2}, Key: "k"}
	for _, c := range []struct {
		name          string
		from, to, own *zone.Marker
		cross         bool
	}{
		{"plain-to-plain", nil, nil, nil, false},
		{"within-zone", a, a, nil, false},
		{"into-zone", nil, a, nil, true},
		{"out-of-zone", a, nil, nil, true},
		{"between-zones", a, b, nil, true},
		{"zone-root-outside", nil, nil, a, false},
		{"zone-root-into-zone", nil, b, a, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := zone.CheckMove(c.from, c.to, c.own)
			if errors.Is(err, zone.ErrCrossZone) != c.cross {
				t.Fatalf("CheckMove: %v, want cross=%v", err, c.cross)
			}
		})
	}
}

func TestCheckNew(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"z/sub", "full", "empty", "outer/inner"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "full", "f"), nil, 0o644)
	m := zone.Marker{ID: [16]byte{1}, Key: "k"}
	if err := unix.Setxattr(filepath.Join(root, "z"), zone.XattrZone, m.Encode(), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	reg := []zone.Record{{ID: m.ID, Key: "k", Path: "z"}, {ID: [16]byte{2}, Key: "k", Path: "outer/inner"}}
	for _, c := range []struct {
		rel  string
		want error
	}{{"empty", nil}, {"full", zone.ErrNotEmpty}, {"z/sub", zone.ErrNested}, {"outer", zone.ErrNested}, {".", zone.ErrNested}} {
		t.Run(c.rel, func(t *testing.T) {
			if err := zone.CheckNew(root, c.rel, reg); !errors.Is(err, c.want) && (err != nil || c.want != nil) {
				t.Fatalf("CheckNew(%s): %v, want %v", c.rel, err, c.want)
			}
		})
	}
}
