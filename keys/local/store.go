package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
)

// ErrLocked means another process has the key store open (a mounted volume, say).
var ErrLocked = errors.New("key store is in use by another process")

// ErrRemoved means the key store's directory was removed or replaced while
// the store was open.
var ErrRemoved = errors.New("its directory was removed while it was open")

// Store is a keys.Store in a badger database with synchronous writes: an
// Update that returned nil is on disk.
type Store struct {
	db  *badger.DB
	dir string
	id  dirID // of dir when opened
}

// dirID identifies a directory across renames and replacements.
type dirID struct{ dev, ino uint64 }

func statDir(dir string) (dirID, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return dirID{}, err
	}
	return dirID{st.Dev, st.Ino}, nil
}

var _ keys.Store = (*Store)(nil)

// Options tunes Open.
type Options struct {
	// Logger receives badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// ReadOnly opens an existing store without writing to its directory
	// (volume.Open reads the envelope this way before the secret is checked).
	// It shares the lock with other readers but not with a writer, and
	// Update fails.
	ReadOnly bool
}

// Open opens or creates the store in dir (mode 0700). It fails with ErrLocked
// if another process holds it.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith is Open with options.
func OpenWith(dir string, o Options) (*Store, error) {
	if !o.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open key store: %w", err)
		}
	}
	db, err := badger.Open(badgerOptions(dir, o))
	if isLockError(err) {
		return nil, fmt.Errorf("open key store %s: %w", dir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open key store %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	var id dirID
	if err == nil {
		id, err = statDir(abs)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open key store %s: %w", dir, err)
	}
	return &Store{db: db, dir: abs, id: id}, nil
}

// badgerOptions keeps memory small (tests open many stores; key records are
// tiny) and writes synchronous (DECISIONS.md: a roll that returned is on disk).
func badgerOptions(dir string, o Options) badger.Options {
	return badger.DefaultOptions(dir).
		WithReadOnly(o.ReadOnly).
		WithSyncWrites(true).
		WithLogger(logger{o.Logger}).
		WithNumVersionsToKeep(1).
		WithMemTableSize(1 << 20).
		WithValueThreshold(1 << 16).
		WithValueLogFileSize(1 << 20).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithNumMemtables(1).
		WithNumLevelZeroTables(1).
		WithNumLevelZeroTablesStall(2).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
}

// isLockError recognises badger's directory-lock failure, which it reports
// as text (flock's EWOULDBLOCK is not kept in the chain).
func isLockError(err error) bool {
	return err != nil && (errors.Is(err, unix.EWOULDBLOCK) ||
		strings.Contains(err.Error(), "Cannot acquire directory lock"))
}

// Close closes the database. If its directory was removed or replaced while
// open, Close leaves the database as it is and returns ErrRemoved: badger
// would retry for ever to flush its last writes there (they are in its
// write-ahead log already, synced, and went with the directory).
func (s *Store) Close() error {
	if id, err := statDir(s.dir); err != nil || id != s.id {
		return fmt.Errorf("close key store %s: %w", s.dir, ErrRemoved)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close key store: %w", err)
	}
	return nil
}

// View runs f in a read-only transaction.
func (s *Store) View(f func(keys.Tx) error) error {
	return s.db.View(func(txn *badger.Txn) error { return f(tx{txn}) })
}

// Update runs f in a read-write transaction committed (and synced) if f returns nil.
func (s *Store) Update(f func(keys.Tx) error) error {
	return s.db.Update(func(txn *badger.Txn) error { return f(tx{txn}) })
}

type tx struct{ txn *badger.Txn }

func (t tx) Get(k string) ([]byte, error) {
	item, err := t.txn.Get([]byte(k))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("get %q: %w", k, keys.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", k, err)
	}
	return item.ValueCopy(nil)
}

func (t tx) Set(k string, v []byte) error {
	if err := t.txn.Set([]byte(k), append([]byte{}, v...)); err != nil {
		return fmt.Errorf("set %q: %w", k, err)
	}
	return nil
}

func (t tx) Delete(k string) error {
	if err := t.txn.Delete([]byte(k)); err != nil {
		return fmt.Errorf("delete %q: %w", k, err)
	}
	return nil
}

func (t tx) Keys(prefix string) ([]string, error) {
	it := t.txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte(prefix)})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, string(it.Item().Key()))
	}
	return out, nil
}

// logger routes badger's log lines to slog (warnings and errors only).
type logger struct{ l *slog.Logger }

func (l logger) Errorf(f string, a ...any)   { l.log(slog.LevelError, f, a) }
func (l logger) Warningf(f string, a ...any) { l.log(slog.LevelWarn, f, a) }
func (l logger) Infof(string, ...any)        {}
func (l logger) Debugf(string, ...any)       {}

func (l logger) log(level slog.Level, f string, a []any) {
	if l.l != nil {
		l.l.Log(context.Background(), level, "key store: "+strings.TrimSpace(fmt.Sprintf(f, a...)))
	}
}
