package zone

import (
	"errors"
	"fmt"
)

// Sentinel errors of the zone package; callers branch on them with errors.Is.
var (
	// ErrNotEmpty is returned when a zone is requested on a directory that has entries.
	ErrNotEmpty = errors.New("directory is not empty")
	// ErrNested is returned when a zone would sit inside another zone or contain one.
	ErrNested = errors.New("zones cannot be nested")
	// ErrCrossZone is returned for a rename or link across a zone boundary (EXDEV in fs).
	ErrCrossZone = errors.New("rename or link across a zone boundary")
	// ErrZoneExists is returned by Register for a zone id that is already registered.
	ErrZoneExists = errors.New("zone already registered")
	// ErrZoneNotFound is returned by Lookup, Update and Remove for an unregistered zone id.
	ErrZoneNotFound = errors.New("zone not registered")
	// ErrFormatVersion is wrapped by a ParseError for bytes of an unknown format version.
	ErrFormatVersion = errors.New("unsupported format version")
	// ErrTruncated is wrapped by a ParseError for bytes that end inside a field.
	ErrTruncated = errors.New("truncated")
	// ErrTrailing is wrapped by a ParseError for bytes left over after the last field.
	ErrTrailing = errors.New("trailing bytes")

	// errZeroID rejects an all-zero zone or file id; random ids are never zero in practice,
	// while zeroed bytes are what a wiped or forged attribute looks like.
	errZeroID = errors.New("all-zero id")
	errSuite  = errors.New("unknown cipher suite")
	errKeyVer = errors.New("key version 0 does not exist")
	errEDEK   = errors.New("empty wrapped key")
	errVarint = errors.New("not the shortest varint of a 32-bit number")
	errPath   = errors.New("not a clean backing-relative path")
)

// ParseError reports bytes that a zone decoder rejected: which structure, which field, and why.
// Every decoder in this package fails closed with a *ParseError (STYLE.md "Errors").
type ParseError struct {
	What  string // the structure: an xattr name or "zone record"
	Field string // the field that was rejected, as named in FORMAT.md
	Err   error  // the reason; one of the sentinels above or a validation error
}

// Error returns "malformed <what>: <field>: <reason>".
func (e *ParseError) Error() string {
	return fmt.Sprintf("malformed %s: %s: %v", e.What, e.Field, e.Err)
}

// Unwrap returns the reason, so errors.Is(err, ErrFormatVersion) works through a ParseError.
func (e *ParseError) Unwrap() error { return e.Err }
