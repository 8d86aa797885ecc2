package zone

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ezfs/ezfs/keys"
)

// Decoder reads the big-endian fields of one encoded structure in order and keeps the first
// failure as a *ParseError naming the structure and the field. After a failure every read
// returns the zero value (nil for bytes), so a parser reads all its fields straight through
// and asks Finish once. zone's xattr and registry codecs and the walk records of package
// reencrypt share it, so that they all fail closed the same way (STYLE.md "Errors").
type Decoder struct {
	what string // ParseError.What
	b    []byte // the bytes not read yet
	err  error
}

// NewDecoder returns a Decoder over b; what names the structure in its errors, e.g. XattrZone.
// Slices returned by Take alias b.
func NewDecoder(what string, b []byte) *Decoder { return &Decoder{what: what, b: b} }

// Fail records reason against field, unless an earlier field already failed.
func (d *Decoder) Fail(field string, reason error) {
	if d.err == nil {
		d.err = &ParseError{What: d.what, Field: field, Err: reason}
	}
}

// Check records err against field unless err is nil or an earlier field already failed.
func (d *Decoder) Check(field string, err error) {
	if err != nil {
		d.Fail(field, err)
	}
}

// Require records reason against field unless ok or an earlier field already failed.
func (d *Decoder) Require(field string, ok bool, reason error) {
	if !ok {
		d.Fail(field, reason)
	}
}

// Err returns the first failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns how many bytes are left to read.
func (d *Decoder) Len() int { return len(d.b) }

// Take returns the next n bytes, which alias the input, or nil after a failure. Fewer than n
// bytes left fail field with ErrTruncated.
func (d *Decoder) Take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.Fail(field, ErrTruncated)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

// U8 reads one byte.
func (d *Decoder) U8(field string) uint8 {
	if p := d.Take(field, 1); p != nil {
		return p[0]
	}
	return 0
}

// U16 reads a big-endian uint16.
func (d *Decoder) U16(field string) uint16 {
	if p := d.Take(field, 2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

// U32 reads a big-endian uint32.
func (d *Decoder) U32(field string) uint32 {
	if p := d.Take(field, 4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

// U64 reads a big-endian uint64.
func (d *Decoder) U64(field string) uint64 {
	if p := d.Take(field, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// Str16 reads a u16 length, named field+" length", and that many bytes as a string.
func (d *Decoder) Str16(field string) string {
	return string(d.Take(field, int(d.U16(field+" length"))))
}

// KeyName reads a one-byte length, named field+" length", and a key name that passes
// keys.CheckName.
func (d *Decoder) KeyName(field string) string {
	s := string(d.Take(field, int(d.U8(field+" length"))))
	d.Check(field, keys.CheckName(s))
	return s
}

// Version reads the format version byte, fails with ErrFormatVersion unless it is one of
// want, and returns it.
func (d *Decoder) Version(want ...uint8) uint8 {
	v := d.U8("format version")
	if d.err == nil && !slices.Contains(want, v) {
		known := make([]string, len(want))
		for i, w := range want {
			known[i] = fmt.Sprint(w)
		}
		d.Fail("format version", fmt.Errorf("%w %d (this ezfs reads %s)", ErrFormatVersion, v, strings.Join(known, " and ")))
	}
	return v
}

// Uvarint reads an unsigned LEB128 varint (encoding/binary's Uvarint) of at most 32 bits in
// its one shortest encoding; a longer form of the same number is refused.
func (d *Decoder) Uvarint(field string) uint32 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.Fail(field, ErrTruncated)
	case n < 0 || v > math.MaxUint32:
		d.Fail(field, errVarint)
	case n != len(binary.AppendUvarint(nil, v)):
		d.Fail(field, errVarint)
	default:
		d.b = d.b[n:]
		return uint32(v)
	}
	return 0
}

// Finish returns the first failure, or a failure of field "end" with ErrTrailing for bytes
// left after the last field.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.b) > 0 {
		d.Fail("end", ErrTrailing)
	}
	return d.err
}

// id reads a 16-byte id; all zero bytes are refused, since they mark a wiped attribute.
func (d *Decoder) id(field string, dst *[IDLen]byte) {
	copy(dst[:], d.Take(field, IDLen))
	d.Require(field, *dst != ([IDLen]byte{}), errZeroID)
}
