package keystest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/ezfs/ezfs/keys"
)

// MemStore is an in-memory keys.Store. Update works on a copy that replaces
// the contents only when its function returns nil, so it is atomic like the
// real stores. Its zero value is not usable: call NewMemStore.
type MemStore struct {
	mu   sync.RWMutex
	data map[string][]byte
}

var _ keys.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{data: make(map[string][]byte)} }

// View runs f on a read-only transaction.
func (s *MemStore) View(f func(keys.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f(&memTx{data: s.data})
}

// Update runs f on a copy of the data and keeps the copy if f returns nil.
func (s *MemStore) Update(f func(keys.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{data: maps.Clone(s.data), writable: true}
	if err := f(tx); err != nil {
		return err
	}
	s.data = tx.data
	return nil
}

type memTx struct {
	data     map[string][]byte
	writable bool
}

var errReadOnly = errors.New("keystest: write in a read-only transaction")

func (t *memTx) Get(k string) ([]byte, error) {
	v, ok := t.data[k]
	if !ok {
		return nil, fmt.Errorf("get %q: %w", k, keys.ErrNotFound)
	}
	return slices.Clone(v), nil
}

func (t *memTx) Set(k string, v []byte) error {
	if !t.writable {
		return errReadOnly
	}
	t.data[k] = append([]byte{}, v...)
	return nil
}

func (t *memTx) Delete(k string) error {
	if !t.writable {
		return errReadOnly
	}
	delete(t.data, k)
	return nil
}

func (t *memTx) Keys(prefix string) ([]string, error) {
	var out []string
	for k := range t.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out, nil
}

// FailingStore wraps a Store and makes Update fail after its function has
// run but before the commit, as a crash between the steps of a change
// would. Fail is read at each Update.
type FailingStore struct {
	keys.Store
	Fail bool
}

// ErrInjected is returned by a FailingStore's failed Update.
var ErrInjected = errors.New("keystest: injected failure before commit")

// Update runs f in the wrapped store and then fails if s.Fail is set, so nothing commits.
func (s *FailingStore) Update(f func(keys.Tx) error) error {
	return s.Store.Update(func(tx keys.Tx) error {
		if err := f(tx); err != nil {
			return err
		}
		if s.Fail {
			return ErrInjected
		}
		return nil
	})
}
