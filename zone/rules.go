package zone

// Zone rules that do not depend on FUSE: which moves cross a zone boundary. The
// checks on the backing tree (empty directory, nesting) are in rules_tree.go.

// CheckMove reports whether an entry may be renamed or hard-linked from a directory
// whose nearest enclosing zone is from to a directory whose nearest enclosing zone is
// to (nil: outside every zone). own is the entry's own marker when the entry is a
// zone root: a zone root may move anywhere outside zones, never into one. Anything
// else must stay in the same zone (or outside zones). The error is ErrCrossZone,
// which the mount reports as EXDEV so that mv falls back to copying.
func CheckMove(from, to, own *Marker) error {
	if own != nil {
		if to != nil {
			return ErrCrossZone
		}
		return nil
	}
	if !Same(from, to) {
		return ErrCrossZone
	}
	return nil
}

// Same reports whether two markers name the same zone (two nils are the same: both
// outside zones).
func Same(a, b *Marker) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID
}
