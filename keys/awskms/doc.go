// Package awskms is the AWS KMS main-key provider: it wraps and unwraps
// zone-key versions with a customer-managed KMS key named by ARN or alias.
//
// # Wrapping
//
// [MainKey.WrapKey] is one KMS Encrypt of the 32-byte zone-key version under
// the configured key, with the encryption context
//
//	ezfs:volume  = volume id
//	ezfs:key     = zone-key name
//	ezfs:version = zone-key version, decimal
//
// and the KMS ciphertext blob it returns is the wrapped key the key store
// keeps. [MainKey.UnwrapKey] is one Decrypt naming the same key and context,
// so a blob cannot be replayed for another volume, key or version, nor
// decrypted under another KMS key. The provider holds no key material and no
// cache: the keyring unwraps each version once and keeps it for the life of
// the mount, so KMS is never on the file-create or read path. See FORMAT.md
// ("AWS KMS main key").
//
// # Configuration
//
// A key spec is "awskms:" followed by a key ARN, an alias ARN or "alias/NAME"
// ([ParseSpec]). The region comes from the ARN, else from the standard AWS
// chain; credentials and endpoint come from the standard chain
// (environment, shared config and profiles, web identity, instance
// metadata), including AWS_ENDPOINT_URL_KMS. Throttling and connection
// errors are retried with exponential backoff and jitter.
//
// # Errors
//
// Every failed KMS call returns an [*Error] that names the kms: action, the
// key and what to do; it matches one of the sentinels ([ErrAccessDenied],
// [ErrKeyDisabled], [ErrPendingDeletion], [ErrKeyNotFound], [ErrWrongRegion],
// [ErrThrottled], [ErrUnreachable], [ErrNoCredentials]) or, for a blob that
// fails authentication, keys.ErrAuth. Errors never carry key material.
package awskms
