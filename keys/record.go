package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Key records live in the store under "key/<name>" (FORMAT.md "Key record").
const (
	recordPrefix  = "key/"
	recordFormat  = 1
	maxVersions   = 1<<16 - 1
	maxWrappedLen = 4096
)

// keyRecord is the stored form of one zone key: every kept version, wrapped by the main key.
type keyRecord struct {
	Name     string
	Current  uint32
	Versions []storedVersion // strictly increasing; the last one is Current
}

type storedVersion struct {
	Version uint32
	Created time.Time // stored as Unix nanoseconds, UTC
	Wrapped []byte
}

func recordKey(name string) string { return recordPrefix + name }

// encode returns the v1 bytes: format u8 ‖ name_len u8 ‖ name ‖ current u32 ‖
// count u16 ‖ count × (version u32 ‖ created i64 ‖ wrapped_len u16 ‖ wrapped), big endian.
func (r *keyRecord) encode() []byte {
	b := []byte{recordFormat, byte(len(r.Name))}
	b = append(b, r.Name...)
	b = binary.BigEndian.AppendUint32(b, r.Current)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Versions)))
	for _, v := range r.Versions {
		b = binary.BigEndian.AppendUint32(b, v.Version)
		b = binary.BigEndian.AppendUint64(b, uint64(v.Created.UnixNano()))
		b = binary.BigEndian.AppendUint16(b, uint16(len(v.Wrapped)))
		b = append(b, v.Wrapped...)
	}
	return b
}

// reader consumes big-endian fields and turns a short read into a ParseError naming the field.
type reader struct {
	b      []byte
	record string
	err    error
}

func (r *reader) fail(field string, err error) {
	if r.err == nil {
		r.err = &ParseError{Record: r.record, Field: field, Err: err}
	}
}

func (r *reader) bytes(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail(field, errors.New("truncated"))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(field string) uint8 {
	if v := r.bytes(field, 1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16(field string) uint16 {
	if v := r.bytes(field, 2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if v := r.bytes(field, 4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if v := r.bytes(field, 8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// end fails if bytes remain.
func (r *reader) end() error {
	if r.err == nil && len(r.b) > 0 {
		r.fail("end", fmt.Errorf("%d trailing bytes", len(r.b)))
	}
	return r.err
}

// decodeKeyRecord parses and validates a key record; it fails closed on any
// unknown format, bad field or trailing byte. The result shares no memory with b.
func decodeKeyRecord(b []byte) (*keyRecord, error) {
	r := &reader{b: b, record: "key record"}
	if f := r.u8("format"); r.err == nil && f != recordFormat {
		return nil, &ParseError{"key record", "format", fmt.Errorf("unknown format %d", f)}
	}
	rec := &keyRecord{Name: string(r.bytes("name", int(r.u8("name_len"))))}
	if err := CheckName(rec.Name); r.err == nil && err != nil {
		r.fail("name", err)
	}
	rec.Current = r.u32("current_version")
	n := int(r.u16("count"))
	for i := 0; i < n && r.err == nil; i++ {
		rec.Versions = append(rec.Versions, readVersion(r))
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return rec, rec.check()
}

func readVersion(r *reader) storedVersion {
	v := storedVersion{Version: r.u32("version")}
	v.Created = time.Unix(0, int64(r.u64("created"))).UTC()
	v.Wrapped = append([]byte(nil), r.bytes("wrapped", int(r.u16("wrapped_len")))...)
	return v
}

// check validates the invariants encode relies on.
func (rec *keyRecord) check() error {
	bad := func(field, msg string, args ...any) error {
		return &ParseError{"key record", field, fmt.Errorf(msg, args...)}
	}
	if len(rec.Versions) == 0 || len(rec.Versions) > maxVersions {
		return bad("count", "must be 1 to %d, got %d", maxVersions, len(rec.Versions))
	}
	prev := uint32(0)
	for _, v := range rec.Versions {
		if v.Version <= prev {
			return bad("version", "versions must increase from 1, got %d after %d", v.Version, prev)
		}
		if len(v.Wrapped) == 0 || len(v.Wrapped) > maxWrappedLen {
			return bad("wrapped_len", "must be 1 to %d, got %d", maxWrappedLen, len(v.Wrapped))
		}
		prev = v.Version
	}
	if rec.Current != prev {
		return bad("current_version", "must be the last version %d, got %d", prev, rec.Current)
	}
	return nil
}

// find returns the stored version v or ErrVersionNotFound.
func (rec *keyRecord) find(v uint32) (*storedVersion, error) {
	for i := range rec.Versions {
		if rec.Versions[i].Version == v {
			return &rec.Versions[i], nil
		}
	}
	return nil, fmt.Errorf("%s: %w", Ref{rec.Name, v}, ErrVersionNotFound)
}

func (rec *keyRecord) metadata() Metadata {
	m := Metadata{Name: rec.Name, CurrentVersion: rec.Current}
	for _, v := range rec.Versions {
		m.Versions = append(m.Versions, VersionInfo{Version: v.Version, Created: v.Created})
	}
	return m
}

// getRecord reads the record of name in tx; a missing record is ErrKeyNotFound.
func getRecord(tx Tx, name string) (*keyRecord, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	b, err := tx.Get(recordKey(name))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("key %q: %w", name, ErrKeyNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read key %q: %w", name, err)
	}
	rec, err := decodeKeyRecord(b)
	if err == nil && rec.Name != name {
		err = &ParseError{"key record", "name", fmt.Errorf("record %q stored under key %q", rec.Name, name)}
	}
	return rec, err
}

func putRecord(tx Tx, rec *keyRecord) error {
	if err := rec.check(); err != nil {
		return fmt.Errorf("keys: refusing to store invalid record: %w", err)
	}
	return tx.Set(recordKey(rec.Name), rec.encode())
}
