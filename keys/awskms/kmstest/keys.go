package kmstest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// Key states, as KMS names them.
const (
	stateEnabled         = "Enabled"
	stateDisabled        = "Disabled"
	statePendingDeletion = "PendingDeletion"
)

// key is one symmetric KMS key: versions of AES-256 material, the newest current.
type key struct {
	id       string
	arn      string
	desc     string
	created  time.Time
	material [][]byte // material[v-1] is material version v
	state    string
	deletion time.Time
	rotation bool
}

func (k *key) current() uint32 { return uint32(len(k.material)) }

func (k *key) addMaterial() {
	m := make([]byte, 32)
	_, _ = rand.Read(m)
	k.material = append(k.material, m)
}

// keyARN returns the ARN of key id.
func keyARN(id string) string {
	return "arn:aws:kms:" + Region + ":" + Account + ":key/" + id
}

// AliasARN returns the ARN of an alias given as "alias/NAME".
func AliasARN(alias string) string {
	return "arn:aws:kms:" + Region + ":" + Account + ":" + alias
}

// CreateKey adds an enabled symmetric key and returns its ARN.
func (s *Server) CreateKey(description string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createKeyLocked(description).arn
}

func (s *Server) createKeyLocked(description string) *key {
	id := newID()
	k := &key{id: id, arn: keyARN(id), desc: description, created: time.Now(), state: stateEnabled}
	k.addMaterial()
	s.keys[id] = k
	return k
}

// CreateAlias points a new alias ("alias/NAME") at a key (id, ARN or alias).
func (s *Server) CreateAlias(alias, keyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setAliasLocked(alias, keyID, false)
}

// UpdateAlias points an existing alias at another key.
func (s *Server) UpdateAlias(alias, keyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setAliasLocked(alias, keyID, true)
}

func (s *Server) setAliasLocked(alias, keyID string, update bool) error {
	name, ok := strings.CutPrefix(alias, "alias/")
	if !ok || name == "" || strings.HasPrefix(name, "aws/") {
		return errValidation("alias name %q must begin with alias/ and not alias/aws/", alias)
	}
	if _, exists := s.aliases[alias]; exists != update {
		if update {
			return &apiError{"NotFoundException", "Alias " + AliasARN(alias) + " is not found."}
		}
		return &apiError{"AlreadyExistsException", "An alias with the name " + AliasARN(alias) + " already exists"}
	}
	k, err := s.resolveLocked(keyID)
	if err != nil {
		return err
	}
	s.aliases[alias] = k.id
	return nil
}

// resolveLocked finds a key by key id, key ARN, alias name or alias ARN.
func (s *Server) resolveLocked(ref string) (*key, error) {
	id := ref
	if rest, ok := strings.CutPrefix(ref, "arn:"); ok {
		var err error
		if id, err = localResource(rest, ref); err != nil {
			return nil, err
		}
	}
	if strings.HasPrefix(id, "alias/") {
		target, ok := s.aliases[id]
		if !ok {
			return nil, &apiError{"NotFoundException", "Alias " + AliasARN(id) + " is not found."}
		}
		id = target
	}
	k, ok := s.keys[id]
	if !ok || id == "" {
		return nil, &apiError{"NotFoundException", "Key '" + keyARN(id) + "' does not exist"}
	}
	return k, nil
}

// localResource returns "key/ID" → "ID" or "alias/NAME" of an ARN in this
// server's region and account; any other ARN names nothing here.
func localResource(rest, ref string) (string, error) {
	f := strings.SplitN(rest, ":", 5) // partition, service, region, account, resource
	if len(f) != 5 || f[1] != "kms" {
		return "", &apiError{"NotFoundException", "Invalid arn " + ref}
	}
	if f[2] != Region || f[3] != Account {
		return "", &apiError{"NotFoundException", fmt.Sprintf("Key '%s' does not exist", ref)}
	}
	if id, ok := strings.CutPrefix(f[4], "key/"); ok {
		return id, nil
	}
	return f[4], nil
}

// usableLocked reports whether the action may use key k now: not denied,
// key enabled. KMS checks authorization before key state.
func (s *Server) usableLocked(k *key, action string) error {
	if err := s.allowedLocked(k, action); err != nil {
		return err
	}
	switch k.state {
	case stateDisabled:
		return &apiError{"DisabledException", k.arn + " is disabled."}
	case statePendingDeletion:
		return &apiError{"KMSInvalidStateException", k.arn + " is pending deletion."}
	}
	return nil
}

func (s *Server) allowedLocked(k *key, action string) error {
	if !s.denied[action] {
		return nil
	}
	return &apiError{"AccessDeniedException", fmt.Sprintf(
		"User: arn:aws:iam::%s:user/kmstest is not authorized to perform: %s on resource: %s "+
			"because no identity-based policy allows the %s action", Account, action, k.arn, action)}
}

// RotateKey gives a key new current material, as KMS's automatic or
// on-demand rotation does; older ciphertexts keep decrypting.
func (s *Server) RotateKey(keyID string) error {
	return s.withKey(keyID, func(k *key) error { k.addMaterial(); return nil })
}

// DisableKey disables a key: KMS then answers DisabledException.
func (s *Server) DisableKey(keyID string) error {
	return s.withKey(keyID, func(k *key) error { return setState(k, stateDisabled) })
}

// EnableKey enables a disabled key.
func (s *Server) EnableKey(keyID string) error {
	return s.withKey(keyID, func(k *key) error { return setState(k, stateEnabled) })
}

// ScheduleDeletion puts a key in PendingDeletion: KMS then answers
// KMSInvalidStateException. Nothing is ever deleted.
func (s *Server) ScheduleDeletion(keyID string) error {
	return s.withKey(keyID, scheduleDeletion)
}

// CancelDeletion cancels a scheduled deletion; the key is then Disabled, as in KMS.
func (s *Server) CancelDeletion(keyID string) error {
	return s.withKey(keyID, cancelDeletion)
}

// scheduleDeletion starts KMS's waiting period (30 days by default).
func scheduleDeletion(k *key) error {
	k.state, k.deletion = statePendingDeletion, time.Now().AddDate(0, 0, 30)
	return nil
}

func cancelDeletion(k *key) error {
	if k.state != statePendingDeletion {
		return &apiError{"KMSInvalidStateException", k.arn + " is not pending deletion."}
	}
	k.state, k.deletion = stateDisabled, time.Time{}
	return nil
}

func setState(k *key, state string) error {
	if k.state == statePendingDeletion {
		return &apiError{"KMSInvalidStateException", k.arn + " is pending deletion."}
	}
	k.state = state
	return nil
}

func (s *Server) withKey(keyID string, f func(*key) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.resolveLocked(keyID)
	if err != nil {
		return err
	}
	return f(k)
}
