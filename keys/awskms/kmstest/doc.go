// Package kmstest is a test double of AWS KMS: an HTTP server on 127.0.0.1
// that speaks KMS's JSON 1.1 wire protocol, so tests can drive the real AWS
// SDK client (and so the production provider in keys/awskms) without AWS.
//
// It is not KMS and not a security boundary. It does real cryptography
// (AES-256-GCM under per-key material, with the encryption context as
// additional data) so that tampering, a wrong context or a wrong key fail as
// they would in KMS, but its key material lives in process memory, it checks
// only that an Authorization header is present (and its SigV4 credential
// scope names the server's region), never the signature itself.
//
// # Protocol
//
// Requests are POST / with X-Amz-Target "TrentService.<Op>" and Content-Type
// application/x-amz-json-1.1. Errors are HTTP 400 with a JSON body
// {"__type":"AccessDeniedException","message":"..."}. Implemented operations:
// CreateKey, DescribeKey, CreateAlias, UpdateAlias, Encrypt, Decrypt,
// ReEncrypt, GenerateDataKey, EnableKeyRotation, GetKeyRotationStatus,
// RotateKeyOnDemand, EnableKey, DisableKey, ScheduleKeyDeletion and
// CancelKeyDeletion.
//
// # Keys
//
// Keys have ARNs arn:aws:kms:us-east-1:111122223333:key/<uuid> and may have
// aliases (alias/NAME, or the alias ARN). Rotation adds new backing material;
// ciphertexts made under older material keep decrypting, as in KMS. A
// ciphertext blob carries the key id and the material version.
//
// # Faults
//
// Tests inject what KMS does when things go wrong: [Server.Deny] an action
// (AccessDeniedException naming it), [Server.DisableKey] (DisabledException),
// [Server.ScheduleDeletion] (KMSInvalidStateException), [Server.Throttle] the
// next N calls (ThrottlingException), and [Server.Down] (connections refused
// until [Server.Up]). [Server.Calls] counts requests per operation.
package kmstest
