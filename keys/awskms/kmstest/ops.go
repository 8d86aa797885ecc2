package kmstest

import (
	"crypto/rand"
	"encoding/json"
	"time"
)

// symmetricDefault is the only encryption algorithm of a symmetric key.
const symmetricDefault = "SYMMETRIC_DEFAULT"

// maxPlaintext is KMS's limit on Encrypt's plaintext.
const maxPlaintext = 4096

type handler func(s *Server, body []byte) (any, error)

// handle adapts a typed operation to a handler that decodes the JSON request.
func handle[Req any](f func(*Server, *Req) (any, error)) handler {
	return func(s *Server, body []byte) (any, error) {
		var req Req
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, errSerialization(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return f(s, &req)
	}
}

var handlers = map[string]handler{
	"CreateKey":            handle(opCreateKey),
	"DescribeKey":          handle(opDescribeKey),
	"CreateAlias":          handle(opCreateAlias),
	"UpdateAlias":          handle(opUpdateAlias),
	"Encrypt":              handle(opEncrypt),
	"Decrypt":              handle(opDecrypt),
	"ReEncrypt":            handle(opReEncrypt),
	"GenerateDataKey":      handle(opGenerateDataKey),
	"EnableKeyRotation":    handle(opEnableKeyRotation),
	"GetKeyRotationStatus": handle(opGetKeyRotationStatus),
	"RotateKeyOnDemand":    handle(opRotateKeyOnDemand),
	"EnableKey":            handle(opEnableKey),
	"DisableKey":           handle(opDisableKey),
	"ScheduleKeyDeletion":  handle(opScheduleKeyDeletion),
	"CancelKeyDeletion":    handle(opCancelKeyDeletion),
}

func (s *Server) dispatch(op string, body []byte) (any, error) {
	h, ok := handlers[op]
	if !ok {
		return nil, &apiError{"UnknownOperationException", "operation " + op + " is not implemented by kmstest"}
	}
	return h(s, body)
}

type keyIDReq struct {
	KeyID string `json:"KeyId"`
}

// keyMetadata is KMS's KeyMetadata shape (the fields a symmetric key has).
type keyMetadata struct {
	AWSAccountID          string   `json:"AWSAccountId"`
	KeyID                 string   `json:"KeyId"`
	Arn                   string   `json:"Arn"`
	CreationDate          float64  `json:"CreationDate"`
	Enabled               bool     `json:"Enabled"`
	Description           string   `json:"Description"`
	KeyUsage              string   `json:"KeyUsage"`
	KeyState              string   `json:"KeyState"`
	DeletionDate          *float64 `json:"DeletionDate,omitempty"`
	Origin                string   `json:"Origin"`
	KeyManager            string   `json:"KeyManager"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec"`
	KeySpec               string   `json:"KeySpec"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms"`
	MultiRegion           bool     `json:"MultiRegion"`
}

func metadata(k *key) map[string]any {
	m := keyMetadata{
		AWSAccountID: Account, KeyID: k.id, Arn: k.arn, CreationDate: epoch(k.created),
		Enabled: k.state == stateEnabled, Description: k.desc, KeyUsage: "ENCRYPT_DECRYPT",
		KeyState: k.state, Origin: "AWS_KMS", KeyManager: "CUSTOMER",
		CustomerMasterKeySpec: symmetricDefault, KeySpec: symmetricDefault,
		EncryptionAlgorithms: []string{symmetricDefault},
	}
	if !k.deletion.IsZero() {
		d := epoch(k.deletion)
		m.DeletionDate = &d
	}
	return map[string]any{"KeyMetadata": m}
}

func epoch(t time.Time) float64 { return float64(t.Unix()) }

type createKeyReq struct {
	Description string
	KeyUsage    string
	KeySpec     string
}

func opCreateKey(s *Server, r *createKeyReq) (any, error) {
	if r.KeyUsage != "" && r.KeyUsage != "ENCRYPT_DECRYPT" || r.KeySpec != "" && r.KeySpec != symmetricDefault {
		return nil, &apiError{"UnsupportedOperationException", "kmstest supports only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys"}
	}
	return metadata(s.createKeyLocked(r.Description)), nil
}

func opDescribeKey(s *Server, r *keyIDReq) (any, error) {
	k, err := s.resolveLocked(r.KeyID)
	if err != nil {
		return nil, err
	}
	if err := s.allowedLocked(k, "kms:DescribeKey"); err != nil {
		return nil, err
	}
	return metadata(k), nil
}

type aliasReq struct {
	AliasName   string
	TargetKeyID string `json:"TargetKeyId"`
}

func opCreateAlias(s *Server, r *aliasReq) (any, error) {
	return struct{}{}, s.setAliasLocked(r.AliasName, r.TargetKeyID, false)
}

func opUpdateAlias(s *Server, r *aliasReq) (any, error) {
	return struct{}{}, s.setAliasLocked(r.AliasName, r.TargetKeyID, true)
}

type encryptReq struct {
	KeyID               string `json:"KeyId"`
	Plaintext           []byte
	EncryptionContext   map[string]string
	EncryptionAlgorithm string
}

func opEncrypt(s *Server, r *encryptReq) (any, error) {
	if len(r.Plaintext) == 0 || len(r.Plaintext) > maxPlaintext {
		return nil, errValidation("plaintext must be 1 to %d bytes", maxPlaintext)
	}
	if err := checkAlgorithm(r.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	k, err := s.keyFor(r.KeyID, "kms:Encrypt")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"CiphertextBlob":      seal(k, k.current(), r.Plaintext, r.EncryptionContext),
		"KeyId":               k.arn,
		"EncryptionAlgorithm": symmetricDefault,
	}, nil
}

// keyFor resolves a key and checks that action may use it now.
func (s *Server) keyFor(ref, action string) (*key, error) {
	k, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	return k, s.usableLocked(k, action)
}

func checkAlgorithm(alg string) error {
	if alg != "" && alg != symmetricDefault {
		return &apiError{"InvalidKeyUsageException", "encryption algorithm " + alg + " is not valid for a symmetric key"}
	}
	return nil
}

type decryptReq struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	KeyID               string `json:"KeyId"`
	EncryptionAlgorithm string
}

func opDecrypt(s *Server, r *decryptReq) (any, error) {
	k, plain, err := s.decryptLocked(r.CiphertextBlob, r.EncryptionContext, r.KeyID, "kms:Decrypt")
	if err != nil {
		return nil, err
	}
	return map[string]any{"Plaintext": plain, "KeyId": k.arn, "EncryptionAlgorithm": symmetricDefault}, nil
}

// decryptLocked opens a blob under the key it names. A non-empty keyRef must
// name that same key (else IncorrectKeyException); a wrong context or a
// tampered blob is InvalidCiphertextException.
func (s *Server) decryptLocked(b []byte, ec map[string]string, keyRef, action string) (*key, []byte, error) {
	bl, err := parseBlob(b)
	k, ok := s.keys[bl.keyID]
	if err != nil || !ok {
		return nil, nil, &apiError{"InvalidCiphertextException", ""}
	}
	if keyRef != "" {
		want, err := s.resolveLocked(keyRef)
		if err != nil {
			return nil, nil, err
		}
		if want != k {
			return nil, nil, &apiError{"IncorrectKeyException",
				"The key ID in the request does not identify a KMS key that can perform this operation."}
		}
	}
	if err := s.usableLocked(k, action); err != nil {
		return nil, nil, err
	}
	plain, err := open(k, bl, ec)
	if err != nil {
		return nil, nil, &apiError{"InvalidCiphertextException", ""}
	}
	return k, plain, nil
}

type reEncryptReq struct {
	CiphertextBlob               []byte
	SourceEncryptionContext      map[string]string
	SourceKeyID                  string `json:"SourceKeyId"`
	DestinationKeyID             string `json:"DestinationKeyId"`
	DestinationEncryptionContext map[string]string
}

func opReEncrypt(s *Server, r *reEncryptReq) (any, error) {
	src, plain, err := s.decryptLocked(r.CiphertextBlob, r.SourceEncryptionContext, r.SourceKeyID, "kms:ReEncryptFrom")
	if err != nil {
		return nil, err
	}
	dst, err := s.keyFor(r.DestinationKeyID, "kms:ReEncryptTo")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"CiphertextBlob":                 seal(dst, dst.current(), plain, r.DestinationEncryptionContext),
		"KeyId":                          dst.arn,
		"SourceKeyId":                    src.arn,
		"SourceEncryptionAlgorithm":      symmetricDefault,
		"DestinationEncryptionAlgorithm": symmetricDefault,
	}, nil
}

type generateDataKeyReq struct {
	KeyID             string `json:"KeyId"`
	KeySpec           string
	NumberOfBytes     int
	EncryptionContext map[string]string
}

func opGenerateDataKey(s *Server, r *generateDataKeyReq) (any, error) {
	n, err := dataKeyLen(r.KeySpec, r.NumberOfBytes)
	if err != nil {
		return nil, err
	}
	k, err := s.keyFor(r.KeyID, "kms:GenerateDataKey")
	if err != nil {
		return nil, err
	}
	plain := make([]byte, n)
	_, _ = rand.Read(plain)
	return map[string]any{
		"CiphertextBlob": seal(k, k.current(), plain, r.EncryptionContext),
		"Plaintext":      plain,
		"KeyId":          k.arn,
	}, nil
}

func dataKeyLen(spec string, n int) (int, error) {
	switch {
	case spec == "AES_256" && n == 0:
		return 32, nil
	case spec == "AES_128" && n == 0:
		return 16, nil
	case spec == "" && n >= 1 && n <= 1024:
		return n, nil
	}
	return 0, errValidation("give exactly one of KeySpec (AES_128, AES_256) or NumberOfBytes (1 to 1024)")
}

type rotationReq struct {
	KeyID                string `json:"KeyId"`
	RotationPeriodInDays int
}

func opEnableKeyRotation(s *Server, r *rotationReq) (any, error) {
	k, err := s.keyFor(r.KeyID, "kms:EnableKeyRotation")
	if err != nil {
		return nil, err
	}
	k.rotation = true
	return struct{}{}, nil
}

func opGetKeyRotationStatus(s *Server, r *keyIDReq) (any, error) {
	k, err := s.resolveLocked(r.KeyID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyRotationEnabled": k.rotation, "KeyId": k.arn}, s.allowedLocked(k, "kms:GetKeyRotationStatus")
}

func opRotateKeyOnDemand(s *Server, r *keyIDReq) (any, error) {
	k, err := s.keyFor(r.KeyID, "kms:RotateKeyOnDemand")
	if err != nil {
		return nil, err
	}
	k.addMaterial()
	return map[string]any{"KeyId": k.arn}, nil
}

func opEnableKey(s *Server, r *keyIDReq) (any, error) {
	return s.changeState(r.KeyID, "kms:EnableKey", func(k *key) error { return setState(k, stateEnabled) })
}

func opDisableKey(s *Server, r *keyIDReq) (any, error) {
	return s.changeState(r.KeyID, "kms:DisableKey", func(k *key) error { return setState(k, stateDisabled) })
}

func opScheduleKeyDeletion(s *Server, r *keyIDReq) (any, error) {
	return s.changeState(r.KeyID, "kms:ScheduleKeyDeletion", scheduleDeletion)
}

func opCancelKeyDeletion(s *Server, r *keyIDReq) (any, error) {
	return s.changeState(r.KeyID, "kms:CancelKeyDeletion", cancelDeletion)
}

// changeState applies an administrative state change; the response names the key.
func (s *Server) changeState(ref, action string, f func(*key) error) (any, error) {
	k, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	if err := s.allowedLocked(k, action); err != nil {
		return nil, err
	}
	if err := f(k); err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": k.arn}, nil
}
