// Package zone holds what marks an encryption zone and its files in the backing tree: the xattr
// names and codecs (zone marker, per-file metadata with the EDEK) and the zone registry kept in
// the key store. FORMAT.md ("Zone marker", "File xattr", "Zone records") describes every byte.
package zone

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
	d := NewDecoder(XattrZone, b)
	d.Version(FormatVersion)
	d.id("zone id", &m.ID)
	m.Key = d.KeyName("key name")
	return m, d.Finish()
}

// appendName appends a key name with its one-byte length.
func appendName(b []byte, name string) []byte {
	if len(name) > 255 {
		panic("zone: key name longer than 255 bytes")
	}
	b = append(b, byte(len(name)))
	return append(b, name...)
}
