package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
)

// daemonHandler answers control-socket requests inside the mount's daemon, which holds
// the key store (issue 3 "Zones").
type daemonHandler struct {
	g *globals
	m *mounted
}

var _ ctl.Handler = (*daemonHandler)(nil)

// startControl listens on the control socket of m.
func startControl(g *globals, m *mounted) (*ctl.Server, error) {
	paths := ctl.SocketPaths(m.vol.Backing)
	path := paths[1]
	if os.Geteuid() == 0 {
		path = paths[0]
	}
	return ctl.Listen(path, &daemonHandler{g: g, m: m}, g.logger, uint32(os.Getuid()))
}

// Handle runs one request.
func (h *daemonHandler) Handle(ctx context.Context, c ctl.Caller, r ctl.Request) (any, error) {
	kr := h.m.vol.Keyring
	var out any
	var err error
	switch r.Op {
	case "ping":
		out = pingResult{PID: os.Getpid(), Backing: h.m.vol.Backing, Mountpoint: h.m.mountp}
	case "key.list":
		out, err = kr.ListKeys(ctx)
	case "key.describe":
		out, err = kr.Metadata(ctx, r.Name)
	case "key.create":
		out, err = kr.CreateKey(ctx, r.Name)
	case "key.roll":
		out, err = kr.RollKey(ctx, r.Name)
	case "key.zones":
		out, err = h.zonesUsing(r.Name)
	case "key.delete":
		err = h.deleteKey(ctx, r.Name)
	case "zone.create":
		out, err = h.createZone(ctx, r.Path, r.Name)
	case "zone.list":
		out, err = h.listZones(ctx)
	case "file.info":
		out, err = h.fileInfo(r.Path, r.ShowEDEK)
	case "mainkey.info", "mainkey.rotate", "mainkey.rewrap", "mainkey.check":
		out, err = h.mainkey(ctx, r)
	case "reencrypt.start", "reencrypt.status", "reencrypt.cancel":
		out, err = h.reencrypt(ctx, r) // ctl_reencrypt.go
	case "key.prune", "key.backup":
		out, err = h.keyOp(ctx, r)
	default:
		err = fmt.Errorf("unknown control operation %q", r.Op)
	}
	return out, coded(err)
}

// pingResult identifies the daemon.
type pingResult struct {
	PID        int    `json:"pid"`
	Backing    string `json:"backing"`
	Mountpoint string `json:"mountpoint"`
}

// errorCodes name the sentinels a client maps back (ctl.Response.Code).
var errorCodes = []struct {
	code string
	err  error
}{
	{"key_not_found", keys.ErrKeyNotFound}, {"key_exists", keys.ErrKeyExists}, {"key_in_use", keys.ErrKeyInUse},
	{"not_empty", zone.ErrNotEmpty}, {"nested", zone.ErrNested}, {"outside", errOutsideMount},
	{"version_not_found", keys.ErrVersionNotFound},
}

// errOutsideMount is a path that is not inside the mount.
var errOutsideMount = errors.New("not inside an ezfs mount")

// codedError carries a stable code over the socket.
type codedError struct {
	error
	code string
}

func (e codedError) Code() string  { return e.code }
func (e codedError) Unwrap() error { return e.error }

// coded attaches the code of the first sentinel err matches.
func coded(err error) error {
	if err == nil {
		return nil
	}
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return codedError{err, c.code}
		}
	}
	return err
}

// rel turns an absolute path inside the mount into a backing-relative one.
func (h *daemonHandler) rel(p string) (string, error) {
	r, err := filepath.Rel(h.m.mountp, filepath.Clean(p))
	if err != nil || !filepath.IsLocal(r) && r != "." {
		return "", fmt.Errorf("%s: %w %s", p, errOutsideMount, h.m.mountp)
	}
	if r == ".ezfs" || strings.HasPrefix(r, ".ezfs/") {
		return "", fmt.Errorf("%s: no such file or directory", p)
	}
	return r, nil
}

// registered lists the zone registry.
func (h *daemonHandler) registered() ([]zone.Record, error) {
	var zones []zone.Record
	err := h.m.vol.Store.View(func(tx keys.Tx) (err error) {
		zones, err = zone.Zones(tx)
		return err
	})
	return zones, err
}

// zonesUsing lists the mount paths of the zones whose key is name.
func (h *daemonHandler) zonesUsing(name string) ([]string, error) {
	var paths []string
	err := h.m.vol.Store.View(func(tx keys.Tx) error {
		users, err := zone.KeyInUse(tx, name)
		for _, z := range users {
			paths = append(paths, filepath.Join(h.m.mountp, z.Path))
		}
		return err
	})
	return paths, err
}

// deleteKey refuses while a zone uses name.
func (h *daemonHandler) deleteKey(ctx context.Context, name string) error {
	paths, err := h.zonesUsing(name)
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		return &keyInUseError{Name: name, Zones: paths}
	}
	return h.m.vol.Keyring.DeleteKey(ctx, name)
}

// createZone makes directory p (empty, not nested) a zone keyed by key: marker xattr on
// the backing directory, then the registry record.
func (h *daemonHandler) createZone(ctx context.Context, p, key string) (*zoneItem, error) {
	rel, err := h.rel(p)
	if err != nil {
		return nil, err
	}
	md, err := h.m.vol.Keyring.Metadata(ctx, key)
	if err != nil {
		return nil, err
	}
	zones, err := h.registered()
	if err == nil {
		err = zone.CheckNew(h.m.vol.Backing, rel, zones)
	}
	if err != nil {
		return nil, err
	}
	rec := zone.Record{Key: key, Path: rel, Created: time.Now().UTC()}
	rand.Read(rec.ID[:])
	if err := h.mark(rec); err != nil {
		return nil, err
	}
	h.g.logger.Info("zone created", "zone", rel, "key", key)
	return &zoneItem{Path: p, ZoneID: hex.EncodeToString(rec.ID[:]), Key: key, CurrentVersion: md.CurrentVersion, Versions: map[string]int{}}, nil
}

// mark sets the zone marker and registers the zone; the marker goes if registering fails.
func (h *daemonHandler) mark(rec zone.Record) error {
	m := zone.Marker{ID: rec.ID, Key: rec.Key}
	if err := h.m.root.MakeZone(rec.Path, m); err != nil { // emptiness check and marker in one step
		return fmt.Errorf("set zone marker on %s: %w", rec.Path, err)
	}
	err := h.m.vol.Store.Update(func(tx keys.Tx) error { return zone.Register(tx, rec) })
	if err != nil {
		h.m.root.UnmakeZone(rec.Path)
		return err
	}
	return nil
}

// zoneItem is one `zone list` item (DECISIONS.md "CLI").
type zoneItem struct {
	Path           string         `json:"path"`
	ZoneID         string         `json:"zone_id"`
	Key            string         `json:"key"`
	CurrentVersion uint32         `json:"current_version"`
	Versions       map[string]int `json:"versions"`
	LastWalk       *time.Time     `json:"last_walk"`
}

// listZones lists every registered zone with its key's current version. Version counts
// and the last walk come from the re-encryption walker; without one they are empty.
func (h *daemonHandler) listZones(ctx context.Context) ([]zoneItem, error) {
	zones, err := h.registered()
	if err != nil {
		return nil, err
	}
	items := []zoneItem{}
	for _, z := range zones {
		it := zoneItem{Path: filepath.Join(h.m.mountp, z.Path), ZoneID: hex.EncodeToString(z.ID[:]), Key: z.Key, Versions: map[string]int{}}
		if md, err := h.m.vol.Keyring.Metadata(ctx, z.Key); err == nil {
			it.CurrentVersion = md.CurrentVersion
		}
		h.fillWalk(&it, z.ID)
		items = append(items, it)
	}
	return items, nil
}

// fileInfo describes how file p is stored (issue 3 "Zones").
type fileInfo struct {
	Path       string          `json:"path"`
	Zone       string          `json:"zone,omitempty"`
	Key        string          `json:"key,omitempty"`
	KeyVersion uint32          `json:"key_version,omitempty"`
	Cipher     string          `json:"cipher,omitempty"`
	ChunkSize  int             `json:"chunk_size,omitempty"`
	Format     uint8           `json:"format,omitempty"` // of the xattr (FORMAT.md "File metadata")
	Encrypted  bool            `json:"encrypted"`
	EDEK       json.RawMessage `json:"edek,omitempty"`
}

// fileInfo reads p's ezfs xattr from the backing tree.
func (h *daemonHandler) fileInfo(p string, showEDEK bool) (*fileInfo, error) {
	rel, err := h.rel(p)
	if err != nil {
		return nil, err
	}
	backing := filepath.Join(h.m.vol.Backing, rel)
	if _, err := os.Lstat(backing); err != nil {
		return nil, fmt.Errorf("%s: %w", p, errors.Unwrap(err))
	}
	zroot, _, err := zone.Enclosing(h.m.vol.Backing, filepath.Dir(rel))
	if err != nil {
		return nil, err
	}
	info := &fileInfo{Path: p}
	if zroot != "" {
		info.Zone = filepath.Join(h.m.mountp, zroot)
	}
	return info, h.fillMeta(info, backing, showEDEK)
}

// fillMeta adds what the file's xattr says; a file in a zone without one is an error.
func (h *daemonHandler) fillMeta(info *fileInfo, backing string, showEDEK bool) error {
	buf := make([]byte, 4096)
	n, err := unix.Lgetxattr(backing, zone.XattrFile, buf)
	if errors.Is(err, unix.ENODATA) {
		if info.Zone != "" && isRegular(backing) {
			return fmt.Errorf("%s is in zone %s but has no encryption metadata (it cannot be read)", info.Path, info.Zone)
		}
		return nil
	}
	if err != nil {
		return err
	}
	meta, err := zone.ParseFileMeta(buf[:n])
	if err != nil {
		return fmt.Errorf("%s: %w", info.Path, err)
	}
	info.Key, info.KeyVersion = meta.EDEK.Key.Name, meta.EDEK.Key.Version
	info.Cipher, info.ChunkSize, info.Format, info.Encrypted = meta.Suite.String(), meta.ChunkSize, meta.Format, true
	if showEDEK {
		info.EDEK, _ = json.Marshal(map[string]string{"key": meta.EDEK.Key.String(), "wrapped": hex.EncodeToString(meta.EDEK.Wrapped)})
	}
	return nil
}

// isRegular reports whether p is a regular file.
func isRegular(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode().IsRegular()
}
