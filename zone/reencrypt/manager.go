package reencrypt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
)

// Config sets up a Manager.
type Config struct {
	Store   keys.Store   // holds the walk records ("walk/<zone id hex>")
	Keyring Keyring      // re-wraps EDEKs
	Log     *slog.Logger // nil discards
	// Busy reports foreground I/O (see Activity); walks whose Options.Yield is nil pause
	// while it returns true. Nil: walks never pause.
	Busy    func() bool
	Backoff Backoff // retries of provider errors
	Workers int     // goroutines doing xattr I/O per batch; 0 means 4
}

// Manager runs the re-encryption walks of one volume: at most one per zone, each in its own
// goroutine. Its methods are safe for concurrent use.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	backoff Backoff
	workers int
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	walks  map[[zone.IDLen]byte]*walk
	closed bool
	wg     sync.WaitGroup
}

// New returns a Manager with no walks running; call Resume to restart the walks that a
// crash or unmount interrupted.
func New(c Config) *Manager {
	m := &Manager{cfg: c, log: c.Log, backoff: c.Backoff.withDefaults(), workers: c.Workers, walks: make(map[[zone.IDLen]byte]*walk)}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.workers <= 0 {
		m.workers = 4
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Start submits a walk of z to the target version (the current version of z.Key now) and
// returns its status while it runs in the background. If the zone's stored walk was
// cancelled, failed or interrupted and the target is unchanged, the walk carries on from its
// checkpoint with its counts; otherwise it starts afresh. Errors: ErrAlreadyRunning,
// ErrZoneMarker, invalid options, the keyring's (keys.ErrKeyNotFound), the store's.
// ctx bounds only the submission, not the walk.
func (m *Manager) Start(ctx context.Context, z Zone, o Options) (*Status, error) {
	if err := checkOptions(o); err != nil {
		return nil, err
	}
	w, err := m.reserve(z)
	if err != nil {
		return nil, err
	}
	rec, err := m.submission(ctx, z, o)
	if err == nil {
		err = m.launch(w, rec, o.Yield)
	}
	if err != nil {
		m.finished(w)
		return nil, fmt.Errorf("re-encrypt %s: %w", z.Path, err)
	}
	return w.status(), nil
}

func checkOptions(o Options) error {
	if math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0 {
		return fmt.Errorf("rate %v: must be a number of files per second ≥ 0", o.Rate)
	}
	if o.Batch < 0 || o.Batch > MaxBatch {
		return fmt.Errorf("batch %d: must be 1..%d", o.Batch, MaxBatch)
	}
	return nil
}

// submission builds the record a Start stores: the stored walk continued, or a fresh one.
func (m *Manager) submission(ctx context.Context, z Zone, o Options) (*record, error) {
	prev, err := m.load(z.ID)
	if err != nil {
		return nil, err
	}
	md, err := m.cfg.Keyring.Metadata(ctx, z.Key)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", z.Key, err)
	}
	r := &record{Status: Status{ZoneID: z.ID, Key: z.Key, TargetVersion: md.CurrentVersion, Submitted: now()}}
	if prev != nil && prev.State != StateCompleted && prev.Key == z.Key && prev.TargetVersion == md.CurrentVersion {
		r.Status = prev.Status // carry on from the checkpoint
	} else if prev != nil {
		r.Versions, r.LastWalk = prev.Versions, prev.LastWalk
	}
	r.Zone, r.State, r.Error, r.Completed = z.Path, StateSubmitted, "", nil
	r.rate, r.batch = o.Rate, o.Batch
	if r.batch == 0 {
		r.batch = DefaultBatch
	}
	return r, nil
}

// reserve registers a walk of z, refusing a second one.
func (m *Manager) reserve(z Zone) (*walk, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if _, ok := m.walks[z.ID]; ok {
		return nil, fmt.Errorf("re-encrypt %s: %w", z.Path, ErrAlreadyRunning)
	}
	w := &walk{m: m, zone: z, ctx: m.ctx, stop: make(chan struct{}), done: make(chan struct{}), rootfd: -1,
		log: m.log.With("zone", z.Path)}
	w.movable = sync.NewCond(&w.mu)
	w.rec.Status = Status{ZoneID: z.ID, Zone: z.Path, State: StateSubmitted, Key: z.Key, Submitted: now()}
	m.walks[z.ID] = w
	m.wg.Add(1)
	return w, nil
}

// launch opens the zone, stores the submitted record and starts the walk's goroutine.
func (m *Manager) launch(w *walk, r *record, yield func() bool) error {
	fd, root, err := openZone(w.zone)
	if err != nil {
		return err
	}
	if err := m.put(w.zone.ID, r.encode()); err != nil {
		unix.Close(fd)
		return err
	}
	if yield == nil {
		yield = m.cfg.Busy
	}
	w.mu.Lock()
	w.rootfd, w.tree, w.rec = fd, tree{root: root}, *r
	w.opts = Options{Rate: r.rate, Batch: r.batch, Yield: yield}
	w.size = batchFor(r.batch, r.rate)
	w.mu.Unlock()
	go w.run()
	return nil
}

// openZone opens z's root and checks its marker. The walk reaches files through
// /proc/self/fd/N, so that it follows the zone if its root is renamed meanwhile.
func openZone(z Zone) (int, string, error) {
	fd, err := unix.Open(z.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("open zone root: %w", err)
	}
	if err := checkMarker(fd, z); err != nil {
		unix.Close(fd)
		return -1, "", err
	}
	root := fmt.Sprintf("/proc/self/fd/%d", fd)
	if _, err := os.Stat(root); err != nil {
		root = z.Dir // no /proc: renames of the zone root are then not followed
	}
	return fd, root, nil
}

func checkMarker(fd int, z Zone) error {
	buf := make([]byte, 256)
	n, err := unix.Fgetxattr(fd, zone.XattrZone, buf)
	if err != nil {
		return fmt.Errorf("read %s: %w: %w", zone.XattrZone, ErrZoneMarker, err)
	}
	mk, err := zone.ParseMarker(buf[:n])
	if err != nil {
		return fmt.Errorf("%w: %w", ErrZoneMarker, err)
	}
	if mk.ID != z.ID || mk.Key != z.Key {
		return fmt.Errorf("%w: root marks zone %x with key %s, want zone %x with key %s", ErrZoneMarker, mk.ID, mk.Key, z.ID, z.Key)
	}
	return nil
}

// finished forgets a walk that ended (or never launched) and wakes its waiters.
func (m *Manager) finished(w *walk) {
	m.mu.Lock()
	if m.walks[w.zone.ID] == w {
		delete(m.walks, w.zone.ID)
	}
	m.mu.Unlock()
	close(w.done)
	m.wg.Done()
}

// Resume restarts every stored walk that is submitted or processing, the state a crash,
// kill -9 or unmount leaves behind; call it once at mount. resolve finds a zone by id (the
// registry gives its root, the mount its path). A walk whose zone cannot be resolved or
// opened is stored as failed and returned so. It returns the statuses of those walks.
func (m *Manager) Resume(ctx context.Context, resolve func(ctx context.Context, id [zone.IDLen]byte) (Zone, error)) ([]*Status, error) {
	recs, err := m.loadAll()
	if err != nil {
		return nil, err
	}
	var out []*Status
	for _, r := range recs {
		if !r.State.Active() || m.running(r.ZoneID) {
			continue
		}
		st, err := m.resume(ctx, r, resolve)
		if errors.Is(err, ErrAlreadyRunning) {
			continue // started meanwhile
		}
		if err != nil {
			st, err = m.markFailed(r, err)
		}
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (m *Manager) resume(ctx context.Context, r *record, resolve func(context.Context, [zone.IDLen]byte) (Zone, error)) (*Status, error) {
	z, err := resolve(ctx, r.ZoneID)
	if err != nil {
		return nil, err
	}
	if z.Key != r.Key {
		return nil, fmt.Errorf("%w: zone key is %s, walk was for %s", ErrZoneMarker, z.Key, r.Key)
	}
	w, err := m.reserve(z)
	if err != nil {
		return nil, err
	}
	r.Zone = z.Path
	if err := m.launch(w, r, nil); err != nil {
		m.finished(w)
		return nil, err
	}
	return w.status(), nil
}

func (m *Manager) markFailed(r *record, cause error) (*Status, error) {
	m.log.Warn("re-encryption walk cannot resume", "zone", r.Zone, "err", cause)
	r.State, r.Error = StateFailed, cause.Error()
	return r.clone(), m.put(r.ZoneID, r.encode())
}

func (m *Manager) running(id [zone.IDLen]byte) bool { return m.walk(id) != nil }

func (m *Manager) walk(id [zone.IDLen]byte) *walk {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.walks[id]
}

// Status returns the status of zone id's walk, running or stored; ErrNoWalk if it has none.
func (m *Manager) Status(id [zone.IDLen]byte) (*Status, error) {
	if w := m.walk(id); w != nil {
		return w.status(), nil
	}
	r, err := m.load(id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, ErrNoWalk
	}
	return r.clone(), nil
}

// List returns the status of every zone's walk, running or stored, ordered by zone path.
func (m *Manager) List() ([]*Status, error) {
	recs, err := m.loadAll()
	if err != nil {
		return nil, err
	}
	byID := make(map[[zone.IDLen]byte]*Status, len(recs))
	for _, r := range recs {
		byID[r.ZoneID] = r.clone()
	}
	m.mu.Lock()
	for id, w := range m.walks {
		byID[id] = w.status()
	}
	m.mu.Unlock()
	out := slices.Collect(maps.Values(byID))
	slices.SortFunc(out, func(a, b *Status) int { return strings.Compare(a.Zone, b.Zone) })
	return out, nil
}

// Cancel stops zone id's walk at its next batch, waits (within ctx) until it has stored
// state cancelled with its counts and checkpoint, and returns that status. A stored walk
// that is submitted or processing but not running is marked cancelled, so Resume leaves it.
// Errors: ErrNoWalk, ErrNotRunning (completed, cancelled or failed already).
func (m *Manager) Cancel(ctx context.Context, id [zone.IDLen]byte) (*Status, error) {
	if w := m.walk(id); w != nil {
		w.cancel()
		select {
		case <-w.done:
			return w.status(), nil
		case <-ctx.Done():
			return w.status(), ctx.Err()
		}
	}
	r, err := m.load(id)
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return nil, ErrNoWalk
	case !r.State.Active():
		return r.clone(), ErrNotRunning
	}
	r.State = StateCancelled
	return r.clone(), m.put(id, r.encode())
}

// Wait blocks until zone id's walk ends or ctx is done, and returns its status then.
// A walk that is not running returns its stored status at once; ErrNoWalk if none.
func (m *Manager) Wait(ctx context.Context, id [zone.IDLen]byte) (*Status, error) {
	w := m.walk(id)
	if w == nil {
		return m.Status(id)
	}
	select {
	case <-w.done:
		return w.status(), nil
	case <-ctx.Done():
		return w.status(), ctx.Err()
	}
}

// Close stops every walk without storing a final state, so Resume at the next mount carries
// them on from their checkpoints, and waits for them. Later Starts fail with ErrClosed.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

// load returns zone id's stored record, nil if none.
func (m *Manager) load(id [zone.IDLen]byte) (*record, error) {
	var r *record
	err := m.cfg.Store.View(func(tx keys.Tx) error {
		b, err := tx.Get(recordKey(id))
		if errors.Is(err, keys.ErrNotFound) {
			return nil
		}
		if err == nil {
			r, err = decodeRecord(id, b)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read re-encryption record of zone %x: %w", id, err)
	}
	return r, nil
}

// loadAll returns every stored record; a malformed one fails the call (fail closed).
func (m *Manager) loadAll() ([]*record, error) {
	var recs []*record
	err := m.cfg.Store.View(func(tx keys.Tx) error {
		names, err := tx.Keys(RecordPrefix)
		for _, name := range names {
			if err != nil {
				break
			}
			var r *record
			if r, err = getRecord(tx, name); err == nil {
				recs = append(recs, r)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read re-encryption records: %w", err)
	}
	return recs, nil
}

func getRecord(tx keys.Tx, name string) (*record, error) {
	id, err := parseRecordKey(name)
	if err != nil {
		return nil, err
	}
	b, err := tx.Get(name)
	if err != nil {
		return nil, err
	}
	return decodeRecord(id, b)
}

func (m *Manager) put(id [zone.IDLen]byte, b []byte) error {
	return m.cfg.Store.Update(func(tx keys.Tx) error { return tx.Set(recordKey(id), b) })
}
