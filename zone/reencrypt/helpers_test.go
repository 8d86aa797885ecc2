package reencrypt_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/chunk"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

const keyName = "lakekey"

// env is a zone in a temp dir with a real keyring over an in-memory store.
type env struct {
	t     testing.TB
	store keys.Store
	kr    *keys.Keyring
	zone  reencrypt.Zone
}

func newEnv(t testing.TB) *env {
	return newEnvStore(t, keystest.NewMemStore(), keystest.NewMainKey())
}

func newEnvStore(t testing.TB, s keys.Store, mk keys.MainKey) *env {
	e := &env{t: t, store: s, kr: keys.NewKeyring(s, mk, "vol-test")}
	t.Cleanup(e.kr.Close)
	if _, err := e.kr.CreateKey(context.Background(), keyName); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "zone")
	e.zone = reencrypt.Zone{Key: keyName, Dir: dir, Path: "/mnt/zone"}
	rand.Read(e.zone.ID[:])
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := zone.Marker{ID: e.zone.ID, Key: keyName}
	if err := unix.Setxattr(dir, zone.XattrZone, m.Encode(), 0); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) roll() uint32 {
	md, err := e.kr.RollKey(context.Background(), keyName)
	if err != nil {
		e.t.Fatal(err)
	}
	return md.CurrentVersion
}

// create makes zone file rel with some content and a FileMeta under the current version.
func (e *env) create(rel string) {
	p := filepath.Join(e.zone.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("data of "+rel), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.setMeta(p)
}

func (e *env) setMeta(p string) {
	m, dek, err := zone.NewFileMeta(context.Background(), e.kr, keyName, chunk.XChaCha20Poly1305, chunk.DefaultChunkSize)
	if err != nil {
		e.t.Fatal(err)
	}
	dek.Wipe()
	if err := unix.Setxattr(p, zone.XattrFile, m.Encode(), 0); err != nil {
		e.t.Fatal(err)
	}
}

// populate makes n files in a few nested directories; it returns their paths.
func (e *env) populate(n int) []string {
	var rels []string
	for i := range n {
		rel := fmt.Sprintf("d%02d/s%d/f%05d", i%7, i%3, i)
		if i%10 == 0 {
			rel = fmt.Sprintf("top%05d", i)
		}
		e.create(rel)
		rels = append(rels, rel)
	}
	return rels
}

// snapshot maps each regular file to its content hash and FileMeta.
type fileState struct {
	sum  [32]byte
	meta *zone.FileMeta
}

func (e *env) snapshot() map[string]fileState {
	out := map[string]fileState{}
	filepath.WalkDir(e.zone.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(e.zone.Dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil // deleted meanwhile
		}
		out[rel] = fileState{sum: sha256.Sum256(b), meta: e.meta(p)}
		return nil
	})
	return out
}

func (e *env) meta(p string) *zone.FileMeta {
	buf := make([]byte, 512)
	n, err := unix.Getxattr(p, zone.XattrFile, buf)
	if err != nil {
		return nil
	}
	m, err := zone.ParseFileMeta(buf[:n])
	if err != nil {
		e.t.Fatalf("%s: %v", p, err)
	}
	return m
}

// dek unwraps a file's DEK.
func (e *env) dek(m *zone.FileMeta) []byte {
	s, err := m.DEK(context.Background(), e.kr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer s.Wipe()
	return append([]byte(nil), s.Bytes()...)
}

func (e *env) manager(c reencrypt.Config) *reencrypt.Manager {
	if c.Store == nil {
		c.Store = e.store
	}
	if c.Keyring == nil {
		c.Keyring = e.kr
	}
	if c.Log == nil {
		c.Log = testLogger(e.t)
	}
	if c.Backoff == (reencrypt.Backoff{}) {
		c.Backoff = reencrypt.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}
	}
	m := reencrypt.New(c)
	e.t.Cleanup(m.Close)
	return m
}

func (e *env) resolve(context.Context, [zone.IDLen]byte) (reencrypt.Zone, error) { return e.zone, nil }

// run starts a walk and waits for it.
func (e *env) run(m *reencrypt.Manager, o reencrypt.Options) *reencrypt.Status {
	e.t.Helper()
	if _, err := m.Start(context.Background(), e.zone, o); err != nil {
		e.t.Fatal(err)
	}
	return e.wait(m)
}

func (e *env) wait(m *reencrypt.Manager) *reencrypt.Status {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := m.Wait(ctx, e.zone.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// allOnOrAbove fails unless every zone file is on version v or newer.
func (e *env) allOnOrAbove(v uint32) int {
	e.t.Helper()
	n := 0
	for rel, s := range e.snapshot() {
		if s.meta == nil || s.meta.EDEK.Key.Version < v {
			e.t.Errorf("%s: on %v, want ≥ %d", rel, s.meta, v)
		}
		n++
	}
	return n
}

func (e *env) allOnOrAboveExcept(v uint32, except string) {
	e.t.Helper()
	for rel, s := range e.snapshot() {
		if rel != except && (s.meta == nil || s.meta.EDEK.Key.Version < v) {
			e.t.Errorf("%s: on %v, want ≥ %d", rel, s.meta, v)
		}
	}
}

// hookKeyring wraps a Keyring to count, delay or fail batch calls.
type hookKeyring struct {
	reencrypt.Keyring
	before func(call int, items []keys.Rewrap) error
	calls  atomic.Int64
	items  atomic.Int64
}

func (h *hookKeyring) ReencryptEDEKs(ctx context.Context, items []keys.Rewrap) ([]keys.EDEK, error) {
	n := int(h.calls.Add(1))
	if h.before != nil {
		if err := h.before(n, items); err != nil {
			return nil, err
		}
	}
	out, err := h.Keyring.ReencryptEDEKs(ctx, items)
	if err == nil {
		h.items.Add(int64(len(items)))
	}
	return out, err
}

// testLogger fails the test on a Warn or Error whose message does not contain one of allow.
func testLogger(t testing.TB, allow ...string) *slog.Logger {
	return slog.New(&warnHandler{t: t, allow: allow})
}

type warnHandler struct {
	t     testing.TB
	allow []string
	mu    sync.Mutex
}

func (h *warnHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *warnHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *warnHandler) WithGroup(string) slog.Handler                { return h }

func (h *warnHandler) Handle(_ context.Context, r slog.Record) error {
	for _, a := range h.allow {
		if strings.Contains(r.Message, a) {
			return nil
		}
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	h.t.Errorf("unexpected log: %s: %s", r.Level, msg)
	return nil
}
