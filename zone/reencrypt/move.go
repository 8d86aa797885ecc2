package reencrypt

import (
	"encoding/hex"
	"fmt"
	"path"
	"sync"

	"github.com/ezfs/ezfs/zone"
)

// BeginMove tells zone id's walk, if one is running, that a rename or link within the zone
// is about to happen. The caller must call the returned function exactly once afterwards,
// with the entry's new path relative to the zone root ("" if the rename failed). The walk
// checks that entry (a directory: everything below it) before it may complete, so a file
// moved from a place the walk has not reached to one it has passed cannot escape; and the
// walk does not complete while a move is between the two calls. Cheap when no walk runs.
func (m *Manager) BeginMove(id [zone.IDLen]byte) (end func(rel string)) {
	w := m.walk(id)
	if w == nil || !w.beginMove() {
		return func(string) {}
	}
	var once sync.Once
	return func(rel string) { once.Do(func() { w.endMove(rel) }) }
}

// Touch reports an entry of zone id, relative to the zone root, that a rename or link has
// just put in place: BeginMove(id)(rel). Prefer BeginMove, which also covers the moment
// between the rename and the report.
func (m *Manager) Touch(id [zone.IDLen]byte, rel string) { m.BeginMove(id)(rel) }

func (w *walk) beginMove() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.draining && !w.closing {
		w.movable.Wait()
	}
	if w.closing {
		return false
	}
	w.moving++
	return true
}

func (w *walk) endMove(rel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.moving--
	if rel == "" {
		return
	}
	if rel = path.Clean(rel); checkRel(rel) != nil || rel == "." {
		rel = "" // not a zone-relative path: check the whole zone
	}
	w.touched = append(w.touched, rel)
}

// parseRecordKey returns the zone id of a "walk/<hex>" key.
func parseRecordKey(name string) ([zone.IDLen]byte, error) {
	var id [zone.IDLen]byte
	h := name[len(RecordPrefix):]
	if n, err := hex.Decode(id[:], []byte(h)); err != nil || n != zone.IDLen || len(h) != 2*zone.IDLen {
		return id, &zone.ParseError{What: recordWhat, Field: "zone id", Err: fmt.Errorf("bad key %q", name)}
	}
	return id, nil
}
