package awskms

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/ezfs/ezfs/keys"
)

// WrapKey encrypts key (1 to 4096 bytes; a zone-key version is 32) with KMS
// Encrypt under the configured key and kc's encryption context, and returns
// the KMS ciphertext blob. Errors are *Error.
func (m *MainKey) WrapKey(ctx context.Context, key []byte, kc keys.KeyContext) ([]byte, error) {
	ec, err := encryptionContext(kc)
	if err != nil {
		return nil, err
	}
	if len(key) == 0 || len(key) > maxPlaintext {
		return nil, fmt.Errorf("awskms: wrap %s: key must be 1 to %d bytes", kc.Key, maxPlaintext)
	}
	out, err := m.client.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String(m.spec.KeyID), Plaintext: key, EncryptionContext: ec,
	})
	if err != nil {
		return nil, m.classify("kms:Encrypt", err)
	}
	if err := m.checkKeyID("kms:Encrypt", out.KeyId); err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

// UnwrapKey decrypts a blob made by WrapKey with KMS Decrypt, naming the
// configured key and kc's encryption context, and returns the key, which the
// caller owns (and should wipe). A blob that was tampered with, bound to
// another context or made under another key fails with an error matching
// keys.ErrAuth; other errors are *Error.
func (m *MainKey) UnwrapKey(ctx context.Context, wrapped []byte, kc keys.KeyContext) ([]byte, error) {
	ec, err := encryptionContext(kc)
	if err != nil {
		return nil, err
	}
	if len(wrapped) == 0 || len(wrapped) > maxBlob {
		return nil, m.authError("kms:Decrypt", fmt.Sprintf("wrapped key of %d bytes is not a KMS ciphertext blob", len(wrapped)))
	}
	out, err := m.client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: wrapped, EncryptionContext: ec, KeyId: aws.String(m.spec.KeyID),
	})
	if err != nil {
		return nil, m.classify("kms:Decrypt", err)
	}
	if err := m.checkKeyID("kms:Decrypt", out.KeyId); err != nil {
		clear(out.Plaintext)
		return nil, err
	}
	return out.Plaintext, nil
}

func (m *MainKey) authError(action, detail string) error {
	return &Error{Action: action, Key: m.spec.KeyID, Kind: keys.ErrAuth, Detail: detail}
}

// checkKeyID checks the key ARN KMS says it used: equal to the configured
// key ARN, or, for an alias (which KMS resolved), a key ARN in our region.
func (m *MainKey) checkKeyID(action string, got *string) error {
	arn := aws.ToString(got)
	ok := arn == m.spec.KeyID
	if m.spec.IsAlias() {
		ok = strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":kms:"+m.region+":") &&
			strings.Contains(arn, ":key/")
	}
	if !ok {
		return &Error{Action: action, Key: m.spec.KeyID, Kind: ErrWrongKey,
			Detail: fmt.Sprintf("KMS used key %q, not the configured key: %v", arn, ErrWrongKey)}
	}
	return nil
}
