// Package zone holds what marks an encryption zone and its files in the backing tree: the xattr
// names and codecs (zone marker, per-file metadata with the EDEK) and the zone registry kept in
// the key store. FORMAT.md ("Zone marker", "File xattr", "Zone records") describes every byte.
package zone

import (
	"encoding/binary"

	"github.com/ezfs/ezfs/keys"
)

// Xattr names ezfs writes on backing files and directories. Everything under XattrPrefix is
// ezfs's own and hidden from (and refused to) users of the mount.
const (
	XattrPrefix = "user.ezfs."
	XattrZone   = XattrPrefix + "zone" // on a zone's root directory: an encoded Marker
	XattrFile   = XattrPrefix + "file" // on every regular file in a zone: an encoded FileMeta
)

// FormatVersion is the first byte of every structure this package encodes. A reader rejects
// any other value with ErrFormatVersion; a change to any layout bumps it (FORMAT.md "Versions").
const FormatVersion = 1

// IDLen is the length of a zone id and of a file id, in bytes.
const IDLen = 16

// markerLen is the fixed part of an encoded Marker: version, zone id, key name length.
const markerLen = 1 + IDLen + 1

// Marker is the value of XattrZone on a zone's root directory: the zone's random id and the
// name of its zone key. Files in the zone carry their own key version in their FileMeta.
type Marker struct {
	ID  [IDLen]byte
	Key string // zone key name; valid per keys.CheckName
}

// Encode returns the marker's bytes: version ‖ zone id ‖ key name length (1) ‖ key name.
// It panics if the key name is longer than 255 bytes, which keys.CheckName never allows.
func (m Marker) Encode() []byte {
	b := make([]byte, 0, markerLen+len(m.Key))
	b = append(b, FormatVersion)
	b = append(b, m.ID[:]...)
	return appendName(b, m.Key)
}

// ParseMarker decodes the value of XattrZone. It fails closed with a *ParseError naming the
// field for an unknown version, an all-zero zone id, an invalid key name, or a wrong length.
func ParseMarker(b []byte) (Marker, error) {
	var m Marker
	d := decoder{what: XattrZone, b: b}
	d.version()
	d.id("zone id", &m.ID)
	m.Key = d.name("key name")
	return m, d.finish()
}

// appendName appends a key name with its one-byte length.
func appendName(b []byte, name string) []byte {
	if len(name) > 255 {
		panic("zone: key name longer than 255 bytes")
	}
	b = append(b, byte(len(name)))
	return append(b, name...)
}

// decoder reads fixed fields from b and remembers the first failure as a *ParseError.
type decoder struct {
	what string
	b    []byte
	err  error
}

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = &ParseError{What: d.what, Field: field, Err: err}
	}
}

// take returns the next n bytes, or nil after a failure.
func (d *decoder) take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(field, ErrTruncated)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8(field string) uint8 {
	if p := d.take(field, 1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16(field string) uint16 {
	if p := d.take(field, 2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32(field string) uint32 {
	if p := d.take(field, 4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(field string) uint64 {
	if p := d.take(field, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// version reads the format version byte and rejects anything but FormatVersion.
func (d *decoder) version() {
	if v := d.u8("format version"); d.err == nil && v != FormatVersion {
		d.fail("format version", versionError(v))
	}
}

// id reads a 16-byte id; all zero bytes are refused, since they mark a wiped attribute.
func (d *decoder) id(field string, dst *[IDLen]byte) {
	p := d.take(field, IDLen)
	copy(dst[:], p)
	if d.err == nil && *dst == ([IDLen]byte{}) {
		d.fail(field, errZeroID)
	}
}

// name reads a one-byte length and a key name that passes keys.CheckName.
func (d *decoder) name(field string) string {
	n := d.u8(field + " length")
	s := string(d.take(field, int(n)))
	if d.err == nil {
		if err := keys.CheckName(s); err != nil {
			d.fail(field, err)
		}
	}
	return s
}

// finish reports the first failure, or trailing bytes after the last field.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("end", ErrTrailing)
	}
	return d.err
}

// check records err against field unless an earlier field already failed.
func (d *decoder) check(field string, err error) {
	if d.err == nil && err != nil {
		d.fail(field, err)
	}
}
