package zone

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone/chunk"
)

// BindingLen is the length of FileMeta.Binding: version, suite, chunk size, file id.
const BindingLen = 1 + 1 + 4 + IDLen

// FileMeta is the value of XattrFile on a regular file in a zone: how its content is sealed
// (suite, chunk size, file id; see package chunk) and its DEK wrapped under a zone key version.
type FileMeta struct {
	Suite     chunk.Suite
	ChunkSize int
	FileID    [IDLen]byte
	EDEK      keys.EDEK // Key is the zone key version; Wrapped is 1 to 255 bytes
}

// EDEKGenerator makes a fresh DEK and its EDEK under the current version of a zone key.
// *keys.Keyring implements it.
type EDEKGenerator interface {
	GenerateEDEK(ctx context.Context, name string, binding []byte) (*keys.Secret, keys.EDEK, error)
}

// EDEKDecrypter unwraps an EDEK bound to the given header bytes. *keys.Keyring implements it.
type EDEKDecrypter interface {
	DecryptEDEK(ctx context.Context, e keys.EDEK, binding []byte) (*keys.Secret, error)
}

// NewFileMeta returns the metadata of a new file sealed with suite and chunkSize under the
// current version of zone key keyName: a random file id and a fresh DEK, returned in the
// clear for the caller to use and Wipe. Errors come from the random source or the keyring
// (keys.ErrKeyNotFound for a missing key).
func NewFileMeta(ctx context.Context, kr EDEKGenerator, keyName string, suite chunk.Suite, chunkSize int) (*FileMeta, *keys.Secret, error) {
	m := &FileMeta{Suite: suite, ChunkSize: chunkSize}
	if _, err := rand.Read(m.FileID[:]); err != nil {
		return nil, nil, fmt.Errorf("generate file id: %w", err)
	}
	dek, e, err := kr.GenerateEDEK(ctx, keyName, m.Binding())
	if err != nil {
		return nil, nil, fmt.Errorf("generate DEK with key %s: %w", keyName, err)
	}
	m.EDEK = e
	return m, dek, nil
}

// DEK unwraps the file's DEK. The EDEK authenticates Binding, so an EDEK copied from
// another file, or a header whose suite or chunk size was changed, fails with keys.ErrAuth.
func (m *FileMeta) DEK(ctx context.Context, kr EDEKDecrypter) (*keys.Secret, error) {
	dek, err := kr.DecryptEDEK(ctx, m.EDEK, m.Binding())
	if err != nil {
		return nil, fmt.Errorf("unwrap EDEK with %s: %w", m.EDEK.Key, err)
	}
	return dek, nil
}

// Binding returns the header bytes bound into the EDEK's AAD: format version ‖ suite ‖
// chunk size (u32 BE) ‖ file id, the first BindingLen bytes of Encode. The keyring binds
// the key name and version itself.
func (m *FileMeta) Binding() []byte {
	b := make([]byte, 0, BindingLen)
	b = append(b, FormatVersion, byte(m.Suite))
	b = binary.BigEndian.AppendUint32(b, uint32(m.ChunkSize))
	return append(b, m.FileID[:]...)
}

// Encode returns the xattr bytes: Binding ‖ key name length (1) ‖ key name ‖ key version
// (u32 BE) ‖ wrapped length (1) ‖ wrapped EDEK. It panics if the key name or the wrapped
// EDEK is longer than 255 bytes, which no valid FileMeta has.
func (m *FileMeta) Encode() []byte {
	if len(m.EDEK.Wrapped) > 255 {
		panic("zone: wrapped EDEK longer than 255 bytes")
	}
	b := m.Binding()
	b = appendName(b, m.EDEK.Key.Name)
	b = binary.BigEndian.AppendUint32(b, m.EDEK.Key.Version)
	b = append(b, byte(len(m.EDEK.Wrapped)))
	return append(b, m.EDEK.Wrapped...)
}

// ParseFileMeta decodes the value of XattrFile. It fails closed with a *ParseError naming the
// field for an unknown version or suite, an invalid chunk size, an all-zero file id, an invalid
// key name, key version 0, an empty wrapped EDEK, or a wrong length. The result owns its bytes.
func ParseFileMeta(b []byte) (*FileMeta, error) {
	m := &FileMeta{}
	d := NewDecoder(XattrFile, b)
	d.Version(FormatVersion)
	m.Suite = chunk.Suite(d.U8("suite"))
	d.Check("suite", checkSuite(m.Suite))
	m.ChunkSize = int(d.U32("chunk size"))
	d.Check("chunk size", chunk.CheckChunkSize(m.ChunkSize))
	d.id("file id", &m.FileID)
	m.EDEK.Key.Name = d.KeyName("key name")
	m.EDEK.Key.Version = d.U32("key version")
	d.Require("key version", m.EDEK.Key.Version != 0, errKeyVer)
	m.EDEK.Wrapped = append([]byte(nil), d.Take("wrapped EDEK", int(d.U8("wrapped EDEK length")))...)
	d.Require("wrapped EDEK", len(m.EDEK.Wrapped) != 0, errEDEK)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkSuite accepts the suites package chunk defines.
func checkSuite(s chunk.Suite) error {
	if !s.Valid() {
		return fmt.Errorf("%w %d", errSuite, uint8(s))
	}
	return nil
}
