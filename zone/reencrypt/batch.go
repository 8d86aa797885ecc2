package reencrypt

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
)

// result is what became of one file in a batch.
type result uint8

const (
	resPending result = iota // below the target: to re-wrap
	resSkipped               // on the target or newer, or not a zone file
	resGone                  // deleted during the walk
	resDone                  // re-wrapped
	resFailed                // see item.err
	resChanged               // its xattr changed under the walk: look again
)

// item is one file of a batch.
type item struct {
	rel    string // relative to the zone root
	walked bool   // reached in walk order (counts as seen and skipped), not touched
	old    []byte // the xattr as read
	meta   *zone.FileMeta
	edek   keys.EDEK // the re-wrapped EDEK
	result result
	err    error
}

func (it *item) fail(err error) { it.result, it.err = resFailed, err }

// version returns the key version the file is on after the batch, 0 if unknown.
func (it *item) version() uint32 {
	switch {
	case it.result == resDone:
		return it.edek.Key.Version
	case it.meta != nil && it.result != resGone && it.result != resChanged:
		return it.meta.EDEK.Key.Version
	}
	return 0
}

// process reads every unresolved item, re-wraps those below the target and writes them back.
func (w *walk) process(items []*item) error {
	w.parallel(items, w.read)
	var pending []*item
	for _, it := range items {
		if it.result == resPending && it.meta != nil {
			pending = append(pending, it)
		}
	}
	return w.rewrite(pending)
}

// rewrite re-wraps pending items (already read) in provider batches and writes them back.
func (w *walk) rewrite(pending []*item) error {
	for i := 0; i < len(pending); i += w.opts.Batch {
		if err := w.rewrap(pending[i:min(i+w.opts.Batch, len(pending))]); err != nil {
			return err
		}
	}
	w.parallel(pending, w.write)
	return nil
}

// read classifies one file by its xattr.
func (w *walk) read(it *item) {
	if it.result != resPending {
		return // a directory that could not be read
	}
	b, err := readMeta(w.tree.abs(it.rel))
	switch {
	case gone(err):
		it.result = resGone
	case noMeta(err):
		it.result = resSkipped
	case err != nil:
		it.fail(fmt.Errorf("read %s: %w", zone.XattrFile, err))
	default:
		w.classify(it, b)
	}
}

func (w *walk) classify(it *item, b []byte) {
	m, err := zone.ParseFileMeta(b)
	switch {
	case err != nil:
		it.fail(err)
	case m.EDEK.Key.Name != w.zone.Key:
		it.fail(fmt.Errorf("wrapped under key %s, not the zone key %s", m.EDEK.Key, w.zone.Key))
	case m.EDEK.Key.Version >= w.target():
		it.meta, it.result = m, resSkipped
	default:
		it.old, it.meta, it.result = b, m, resPending
	}
}

// write replaces the xattr of a re-wrapped file.
func (w *walk) write(it *item) {
	if it.result != resPending {
		return
	}
	m := *it.meta
	m.EDEK = it.edek
	err := replaceMeta(w.tree.abs(it.rel), it.old, m.Encode())
	switch {
	case err == nil:
		it.result = resDone
	case err == errChanged:
		it.result = resChanged
	case gone(err):
		it.result = resGone
	default:
		it.fail(fmt.Errorf("replace %s: %w", zone.XattrFile, err))
	}
}

// parallel runs f on the unresolved items with the configured number of goroutines: the
// xattr calls are syscalls that block, so a few more goroutines than cores keep them busy.
func (w *walk) parallel(items []*item, f func(*item)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(w.m.workers, len(items)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(items)); i = next.Add(1) - 1 {
				f(items[i])
			}
		})
	}
	wg.Wait()
}
