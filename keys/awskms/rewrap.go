package awskms

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/ezfs/ezfs/keys"
)

// Rewrap re-encrypts a blob made by WrapKey under the key's current material
// with KMS ReEncrypt (the plaintext never leaves KMS), keeping kc's context.
// `ezfs mainkey rewrap` calls it for every wrapped zone-key version after a
// KMS rotation. Errors are as UnwrapKey's.
func (m *MainKey) Rewrap(ctx context.Context, wrapped []byte, kc keys.KeyContext) ([]byte, error) {
	return m.reEncrypt(ctx, wrapped, kc, m)
}

// RewrapTo moves a blob made by WrapKey under dst's key, keeping kc's context
// (`ezfs mainkey rotate --to awskms:...`). When both keys are reached through
// the same region and endpoint it is one KMS ReEncrypt made with m's client
// (needing kms:ReEncryptFrom on m's key and kms:ReEncryptTo on dst's);
// otherwise it unwraps with m and wraps with dst.
func (m *MainKey) RewrapTo(ctx context.Context, wrapped []byte, kc keys.KeyContext, dst *MainKey) ([]byte, error) {
	if m.region == dst.region && m.endpoint() == dst.endpoint() {
		return m.reEncrypt(ctx, wrapped, kc, dst)
	}
	key, err := m.UnwrapKey(ctx, wrapped, kc)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return dst.WrapKey(ctx, key, kc)
}

func (m *MainKey) reEncrypt(ctx context.Context, wrapped []byte, kc keys.KeyContext, dst *MainKey) ([]byte, error) {
	ec, err := encryptionContext(kc)
	if err != nil {
		return nil, err
	}
	if len(wrapped) == 0 || len(wrapped) > maxBlob {
		return nil, m.authError("kms:ReEncryptFrom", fmt.Sprintf("wrapped key of %d bytes is not a KMS ciphertext blob", len(wrapped)))
	}
	out, err := m.client.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob: wrapped, SourceEncryptionContext: ec, SourceKeyId: aws.String(m.spec.KeyID),
		DestinationKeyId: aws.String(dst.spec.KeyID), DestinationEncryptionContext: ec,
	})
	if err != nil {
		return nil, m.classify("kms:ReEncryptFrom", err)
	}
	if err := m.checkKeyID("kms:ReEncryptFrom", out.SourceKeyId); err != nil {
		return nil, err
	}
	if err := dst.checkKeyID("kms:ReEncryptTo", out.KeyId); err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}
