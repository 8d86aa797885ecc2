package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxNameLen is the longest zone-key name.
const MaxNameLen = 64

// Ref names one version of a zone key, written "logs@3".
type Ref struct {
	Name    string
	Version uint32
}

// ParseRef parses "NAME@VERSION" with a valid name and a version of at least 1.
func ParseRef(s string) (Ref, error) {
	name, ver, ok := strings.Cut(s, "@")
	if !ok {
		return Ref{}, fmt.Errorf("parse key ref %q: missing @version", s)
	}
	if err := CheckName(name); err != nil {
		return Ref{}, fmt.Errorf("parse key ref %q: %w", s, err)
	}
	v, err := strconv.ParseUint(ver, 10, 32)
	if err != nil || v == 0 || ver[0] == '0' || ver[0] == '+' {
		return Ref{}, fmt.Errorf("parse key ref %q: version must be a number from 1 to %d", s, uint32(1<<32-1))
	}
	return Ref{Name: name, Version: uint32(v)}, nil
}

// String returns "NAME@VERSION".
func (r Ref) String() string { return r.Name + "@" + strconv.FormatUint(uint64(r.Version), 10) }

// CheckName reports whether name is a valid zone-key name: 1 to 64 of A-Z a-z 0-9 . _ -
func CheckName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen {
		return fmt.Errorf("invalid key name %q: length must be 1 to %d", name, MaxNameLen)
	}
	for _, c := range []byte(name) {
		if !nameByte(c) {
			return fmt.Errorf("invalid key name %q: only A-Z a-z 0-9 . _ - are allowed", name)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// KeyContext is what a [MainKey] binds a wrapped zone-key version to: the
// volume and the key version. An AEAD provider uses [KeyContext.AAD]; a KMS
// provider uses the same fields as its encryption context.
type KeyContext struct {
	VolumeID string
	Key      Ref
}

// zoneKeyLabel starts the additional data of a zone-key version wrapped by an AEAD main key.
const zoneKeyLabel = "ezfs-zonekey-v1"

// AAD returns the additional data an AEAD main key authenticates (FORMAT.md
// "Main-key wrapping"): "ezfs-zonekey-v1" ‖ u8 len ‖ volume id ‖ u8 len ‖ key
// name ‖ u32 BE version.
func (kc KeyContext) AAD() []byte {
	b := make([]byte, 0, len(zoneKeyLabel)+2+len(kc.VolumeID)+len(kc.Key.Name)+4)
	b = append(b, zoneKeyLabel...)
	b = appendShort(b, kc.VolumeID)
	b = appendShort(b, kc.Key.Name)
	return binary.BigEndian.AppendUint32(b, kc.Key.Version)
}

// appendShort appends a u8 length prefix and s; callers validated len(s) <= 255.
func appendShort(b []byte, s string) []byte {
	if len(s) > 255 {
		panic("keys: length-prefixed field longer than 255 bytes")
	}
	return append(append(b, byte(len(s))), s...)
}

// checkVolumeID rejects ids that cannot be length-prefixed in one byte.
func checkVolumeID(id string) error {
	if len(id) == 0 || len(id) > 255 {
		return errors.New("volume id must be 1 to 255 bytes")
	}
	return nil
}
