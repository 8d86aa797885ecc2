package reencrypt

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestComparePaths(t *testing.T) {
	ordered := []string{"a", "a/b", "a/b/c", "a/c", "a-b", "a.b", "ab", "b"}
	for i := range ordered {
		for j := range ordered {
			if got, want := comparePaths(ordered[i], ordered[j]), cmpInt(i, j); got != want {
				t.Errorf("compare(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestTreeOrderAndCheckpoint(t *testing.T) {
	root := t.TempDir()
	files := []string{"a-b", "a/b/c", "a/c", "b", "b0/x", "c/d/e/f"}
	for _, f := range files {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	os.Mkdir(filepath.Join(root, "empty"), 0o755)
	os.Symlink("b", filepath.Join(root, "link"))
	tr := tree{root: root}
	want := []string{"a/b/c", "a/c", "a-b", "b", "b0/x", "c/d/e/f"}
	for i := -1; i < len(want); i++ {
		after := ""
		if i >= 0 {
			after = want[i]
		}
		var got []string
		for rel, err := range tr.files("", after) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rel)
		}
		if !slices.Equal(got, want[i+1:]) {
			t.Errorf("after %q: %v, want %v", after, got, want[i+1:])
		}
	}
	// A checkpoint whose file is gone still resumes at the right place.
	var got []string
	for rel := range tr.files("", "a/bb") {
		got = append(got, rel)
	}
	if !slices.Equal(got, want[1:]) {
		t.Errorf("after a/bb: %v", got)
	}
}

func TestExpand(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "d/e"), 0o755)
	os.WriteFile(filepath.Join(root, "d/e/f"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "d/g"), nil, 0o644)
	tr := tree{root: root}
	for in, want := range map[string][]string{"d": {"d/e/f", "d/g"}, "d/g": {"d/g"}, "nope": nil, "": {"d/e/f", "d/g"}} {
		var got []string
		for rel := range tr.expand(in) {
			got = append(got, rel)
		}
		if !slices.Equal(got, want) {
			t.Errorf("expand(%q) = %v, want %v", in, got, want)
		}
	}
}
