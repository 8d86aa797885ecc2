package zone

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone/chunk"
)

// The formats of FileMeta (FORMAT.md "File metadata"). Both are read; new files of the
// AES-256-GCM suite are written in format 2, those of XChaCha20-Poly1305 in format 1.
const (
	// FileFormat1: a random file id stored in the xattr and an XChaCha20-Poly1305 EDEK
	// (keys.WrapAEAD); 113 bytes with a 13-byte key name.
	FileFormat1 = FormatVersion
	// FileFormat2: compact, so that the xattr stays inside a 256-byte ext4 inode (up to 60
	// value bytes there) for key names of up to 16 bytes: the chunk size as a power of two,
	// the key version as a varint, an AES-KW EDEK (keys.WrapKW) and a file id derived from
	// the DEK instead of stored; 44 bytes plus the key name for versions below 128.
	FileFormat2 = 2
)

// BindingLen is the length of FileMeta.Binding in format 1: version, suite, chunk size,
// file id. Format 2's binding is its first three bytes.
const BindingLen = 1 + 1 + 4 + IDLen

// fileIDInfo is the HKDF info of a format-2 file id (FileMeta.ContentID).
const fileIDInfo = "ezfs-file-id-v2"

// FileMeta is the value of XattrFile on a regular file in a zone: how its content is sealed
// (suite, chunk size, file id; see package chunk) and its DEK wrapped under a zone key version.
type FileMeta struct {
	Format    uint8 // FileFormat1 or FileFormat2
	Suite     chunk.Suite
	ChunkSize int
	FileID    [IDLen]byte // format 1 only (random, stored); format 2 derives it (ContentID)
	EDEK      keys.EDEK   // Key is the zone key version; Wrap follows Format
}

// EDEKGenerator makes a fresh DEK and its EDEK under the current version of a zone key.
// *keys.Keyring implements it.
type EDEKGenerator interface {
	GenerateEDEK(ctx context.Context, name string, w keys.Wrap, binding []byte) (*keys.Secret, keys.EDEK, error)
}

// EDEKDecrypter unwraps an EDEK bound to the given header bytes. *keys.Keyring implements it.
type EDEKDecrypter interface {
	DecryptEDEK(ctx context.Context, e keys.EDEK, binding []byte) (*keys.Secret, error)
}

// NewFileMeta returns the metadata of a new file sealed with suite and chunkSize under the
// current version of zone key keyName, and its fresh DEK, returned in the clear for the
// caller to use and Wipe. AES-256-GCM files get format 2, whose key wrap is AES too;
// XChaCha20-Poly1305 (the suite of CPUs without AES instructions) keeps format 1, so that
// no table-driven software AES ever handles a zone key. Errors come from the random source
// or the keyring (keys.ErrKeyNotFound for a missing key).
func NewFileMeta(ctx context.Context, kr EDEKGenerator, keyName string, suite chunk.Suite, chunkSize int) (*FileMeta, *keys.Secret, error) {
	m := newMeta(suite, chunkSize)
	if m.Format == FileFormat1 {
		if _, err := rand.Read(m.FileID[:]); err != nil {
			return nil, nil, fmt.Errorf("generate file id: %w", err)
		}
	}
	dek, e, err := kr.GenerateEDEK(ctx, keyName, m.wrap(), m.Binding())
	if err != nil {
		return nil, nil, fmt.Errorf("generate DEK with key %s: %w", keyName, err)
	}
	m.EDEK = e
	return m, dek, nil
}

// newMeta returns the header of a new file of suite: format 2 for AES-256-GCM, else 1.
func newMeta(suite chunk.Suite, chunkSize int) *FileMeta {
	if suite == chunk.AES256GCM {
		return &FileMeta{Format: FileFormat2, Suite: suite, ChunkSize: chunkSize}
	}
	return &FileMeta{Format: FileFormat1, Suite: suite, ChunkSize: chunkSize}
}

// MetaLen returns the length of the xattr that NewFileMeta makes for suite and key name
// keyName, at key versions below 128 (one more byte up to 16383).
func MetaLen(suite chunk.Suite, keyName string) int {
	m := newMeta(suite, chunk.DefaultChunkSize)
	m.EDEK = keys.EDEK{Key: keys.Ref{Name: keyName, Version: 1}, Wrap: m.wrap()}
	m.EDEK.Wrapped = make([]byte, m.EDEK.Wrap.Len())
	return len(m.Encode())
}

// wrap returns the EDEK wrap of m's format.
func (m *FileMeta) wrap() keys.Wrap {
	if m.Format == FileFormat2 {
		return keys.WrapKW
	}
	return keys.WrapAEAD
}

// DEK unwraps the file's DEK. The EDEK authenticates Binding, so an EDEK copied from
// another file (format 1), or a header whose suite or chunk size was changed, fails with
// keys.ErrAuth.
func (m *FileMeta) DEK(ctx context.Context, kr EDEKDecrypter) (*keys.Secret, error) {
	dek, err := kr.DecryptEDEK(ctx, m.EDEK, m.Binding())
	if err != nil {
		return nil, fmt.Errorf("unwrap EDEK with %s: %w", m.EDEK.Key, err)
	}
	return dek, nil
}

// ContentID returns the file id that every chunk's AAD carries: the stored FileID in
// format 1; in format 2 the first 16 bytes of HKDF-SHA256(dek, info "ezfs-file-id-v2"),
// unique per file as the DEK is and unchanged when the EDEK is re-wrapped.
func (m *FileMeta) ContentID(dek []byte) ([IDLen]byte, error) {
	if m.Format != FileFormat2 {
		return m.FileID, nil
	}
	var id [IDLen]byte
	b, err := hkdf.Key(sha256.New, dek, nil, fileIDInfo, IDLen)
	copy(id[:], b)
	return id, err
}

// Binding returns the header bytes bound into the EDEK: in format 1 the first BindingLen
// bytes of Encode (format version ‖ suite ‖ chunk size (u32 BE) ‖ file id), in format 2
// its first three (format version ‖ suite ‖ chunk shift). The keyring binds the key name
// and version itself.
func (m *FileMeta) Binding() []byte {
	if m.Format == FileFormat2 {
		return []byte{FileFormat2, byte(m.Suite), byte(bits.TrailingZeros(uint(m.ChunkSize)))}
	}
	b := make([]byte, 0, BindingLen)
	b = append(b, FileFormat1, byte(m.Suite))
	b = binary.BigEndian.AppendUint32(b, uint32(m.ChunkSize))
	return append(b, m.FileID[:]...)
}

// Encode returns the xattr bytes. Format 1: Binding ‖ key name length (1) ‖ key name ‖ key
// version (u32 BE) ‖ wrapped length (1) ‖ wrapped EDEK. Format 2: Binding ‖ key version
// (uvarint) ‖ wrapped EDEK (40) ‖ key name (the rest). It panics if the key name or the
// wrapped EDEK is longer than 255 bytes, which no valid FileMeta has.
func (m *FileMeta) Encode() []byte {
	if len(m.EDEK.Wrapped) > 255 {
		panic("zone: wrapped EDEK longer than 255 bytes")
	}
	b := m.Binding()
	if m.Format == FileFormat2 {
		b = binary.AppendUvarint(b, uint64(m.EDEK.Key.Version))
		b = append(b, m.EDEK.Wrapped...)
		return append(b, m.EDEK.Key.Name...)
	}
	b = appendName(b, m.EDEK.Key.Name)
	b = binary.BigEndian.AppendUint32(b, m.EDEK.Key.Version)
	b = append(b, byte(len(m.EDEK.Wrapped)))
	return append(b, m.EDEK.Wrapped...)
}

// ParseFileMeta decodes the value of XattrFile, of either format. It fails closed with a
// *ParseError naming the field for an unknown version or suite, an invalid chunk size, an
// all-zero file id, an invalid key name, key version 0, a wrapped EDEK of the wrong length,
// or a wrong length. The result owns its bytes.
func ParseFileMeta(b []byte) (*FileMeta, error) {
	m := &FileMeta{}
	d := NewDecoder(XattrFile, b)
	m.Format = d.Version(FileFormat1, FileFormat2)
	m.Suite = chunk.Suite(d.U8("suite"))
	d.Check("suite", checkSuite(m.Suite))
	if m.Format == FileFormat2 {
		m.parse2(d)
	} else {
		m.parse1(d)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *FileMeta) parse1(d *Decoder) {
	m.ChunkSize = int(d.U32("chunk size"))
	d.Check("chunk size", chunk.CheckChunkSize(m.ChunkSize))
	d.id("file id", &m.FileID)
	m.EDEK.Key.Name = d.KeyName("key name")
	m.EDEK.Key.Version = d.U32("key version")
	d.Require("key version", m.EDEK.Key.Version != 0, errKeyVer)
	m.EDEK.Wrapped = append([]byte(nil), d.Take("wrapped EDEK", int(d.U8("wrapped EDEK length")))...)
	d.Require("wrapped EDEK", len(m.EDEK.Wrapped) != 0, errEDEK)
}

func (m *FileMeta) parse2(d *Decoder) {
	m.EDEK.Wrap = keys.WrapKW
	shift := d.U8("chunk size")
	if shift < 32 {
		m.ChunkSize = 1 << shift
	}
	d.Check("chunk size", chunk.CheckChunkSize(m.ChunkSize))
	m.EDEK.Key.Version = d.Uvarint("key version")
	d.Require("key version", m.EDEK.Key.Version != 0, errKeyVer)
	m.EDEK.Wrapped = append([]byte(nil), d.Take("wrapped EDEK", keys.KWLen)...)
	m.EDEK.Key.Name = string(d.Take("key name", d.Len()))
	d.Check("key name", keys.CheckName(m.EDEK.Key.Name))
}

// checkSuite accepts the suites package chunk defines.
func checkSuite(s chunk.Suite) error {
	if !s.Valid() {
		return fmt.Errorf("%w %d", errSuite, uint8(s))
	}
	return nil
}
