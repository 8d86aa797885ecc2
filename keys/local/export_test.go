package local

// Test-only access to the envelope codec and a deterministic seal.
type Envelope = envelope

var (
	DecodeEnvelope = decodeEnvelope
	EncodeEnvelope = (*envelope).encode
	TestKDF        = testKDF
)

func SealEnvelope(mainKey, secret []byte, e *Envelope, nonce [24]byte) ([]byte, error) {
	if err := e.seal(mainKey, secret, nonce); err != nil {
		return nil, err
	}
	return e.encode(), nil
}

func MainKeyBytes(m *MainKey) []byte { return m.key.Bytes() }
