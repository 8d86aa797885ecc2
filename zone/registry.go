package zone

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ezfs/ezfs/keys"
)

// RecordPrefix is the key-store key prefix of zone records: "zone/" ‖ hex zone id.
const RecordPrefix = "zone/"

// recordWhat names zone records in a ParseError.
const recordWhat = "zone record"

// Record is the key store's entry for one zone. The registry lets a mount notice a zone whose
// marker was removed (its files are refused, never served raw) and lets `key delete` refuse
// a key that a zone still uses (DECISIONS.md "Format and crypto").
type Record struct {
	ID      [IDLen]byte
	Key     string    // zone key name
	Path    string    // zone root, relative to the backing directory, slash-separated and clean
	Created time.Time // stored with nanosecond precision, returned in UTC
}

// Register adds r to the registry. It returns ErrZoneExists if r.ID is already registered and
// an error for an invalid key name, path or zero id.
func Register(tx keys.Tx, r Record) error {
	if _, err := Lookup(tx, r.ID); err == nil {
		return fmt.Errorf("register zone %s: %w", r.Path, ErrZoneExists)
	} else if !errors.Is(err, ErrZoneNotFound) {
		return err
	}
	return put(tx, r)
}

// Update replaces the registered record with r.ID, e.g. after the zone root was renamed.
// It returns ErrZoneNotFound if there is none.
func Update(tx keys.Tx, r Record) error {
	if _, err := Lookup(tx, r.ID); err != nil {
		return err
	}
	return put(tx, r)
}

// Remove deletes the record of zone id; ErrZoneNotFound if there is none.
func Remove(tx keys.Tx, id [IDLen]byte) error {
	if _, err := Lookup(tx, id); err != nil {
		return err
	}
	return tx.Delete(recordKey(id))
}

// Lookup returns the record of zone id, ErrZoneNotFound if there is none, or a *ParseError
// if the stored bytes are malformed.
func Lookup(tx keys.Tx, id [IDLen]byte) (Record, error) {
	b, err := tx.Get(recordKey(id))
	if errors.Is(err, keys.ErrNotFound) {
		return Record{}, fmt.Errorf("zone %x: %w", id, ErrZoneNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read zone record %x: %w", id, err)
	}
	return parseRecord(id, b)
}

// Zones returns every registered zone, ordered by path. A malformed record fails the whole
// call with a *ParseError rather than hiding a zone.
func Zones(tx keys.Tx) ([]Record, error) {
	names, err := tx.Keys(RecordPrefix)
	if err != nil {
		return nil, fmt.Errorf("list zone records: %w", err)
	}
	zones := make([]Record, 0, len(names))
	for _, name := range names {
		r, err := lookupName(tx, name)
		if err != nil {
			return nil, err
		}
		zones = append(zones, r)
	}
	sortByPath(zones)
	return zones, nil
}

// KeyInUse returns the zones whose key is name, ordered by path; none means the key may go.
func KeyInUse(tx keys.Tx, name string) ([]Record, error) {
	zones, err := Zones(tx)
	if err != nil {
		return nil, err
	}
	var users []Record
	for _, z := range zones {
		if z.Key == name {
			users = append(users, z)
		}
	}
	return users, nil
}

// lookupName reads the record stored under a full key-store key.
func lookupName(tx keys.Tx, name string) (Record, error) {
	var id [IDLen]byte
	h := strings.TrimPrefix(name, RecordPrefix)
	if n, err := hex.Decode(id[:], []byte(h)); err != nil || n != IDLen || len(h) != 2*IDLen {
		return Record{}, &ParseError{What: recordWhat, Field: "zone id", Err: fmt.Errorf("bad key %q", name)}
	}
	return Lookup(tx, id)
}

func put(tx keys.Tx, r Record) error {
	b, err := encodeRecord(r)
	if err != nil {
		return fmt.Errorf("register zone %s: %w", r.Path, err)
	}
	return tx.Set(recordKey(r.ID), b)
}

func recordKey(id [IDLen]byte) string { return RecordPrefix + hex.EncodeToString(id[:]) }

// encodeRecord returns version ‖ key name length (1) ‖ key name ‖ path length (u16 BE) ‖
// path ‖ created (Unix nanoseconds, i64 BE). The id is the record's key, not part of its value.
func encodeRecord(r Record) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+1+len(r.Key)+2+len(r.Path)+8)
	b = appendName(append(b, FormatVersion), r.Key)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Path)))
	b = append(b, r.Path...)
	return binary.BigEndian.AppendUint64(b, uint64(r.Created.UnixNano())), nil
}

// parseRecord decodes the value stored for zone id, failing closed like the xattr decoders.
func parseRecord(id [IDLen]byte, b []byte) (Record, error) {
	r := Record{ID: id}
	d := NewDecoder(recordWhat, b)
	d.Version(FormatVersion)
	r.Key = d.KeyName("key name")
	r.Path = d.Str16("path")
	d.Check("path", checkPath(r.Path))
	r.Created = time.Unix(0, int64(d.U64("created"))).UTC()
	return r, d.Finish()
}

func checkRecord(r Record) error {
	if r.ID == ([IDLen]byte{}) {
		return errZeroID
	}
	if err := keys.CheckName(r.Key); err != nil {
		return err
	}
	return checkPath(r.Path)
}

// checkPath accepts a clean, local, slash-separated path of at most 65535 bytes ("." is the
// backing root).
func checkPath(p string) error {
	if len(p) > 0xffff || !filepath.IsLocal(p) || filepath.Clean(p) != p {
		return fmt.Errorf("%w: %q", errPath, p)
	}
	return nil
}

func sortByPath(zones []Record) {
	slices.SortFunc(zones, func(a, b Record) int { return strings.Compare(a.Path, b.Path) })
}
