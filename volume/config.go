package volume

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/zone/chunk"
)

// Names inside the backing directory (FORMAT.md "Volume layout").
const (
	Dir         = ".ezfs"       // BACKING/.ezfs, mode 0700
	ConfigFile  = "config.json" // BACKING/.ezfs/config.json, mode 0600
	KeystoreDir = "keystore"    // default key store: BACKING/.ezfs/keystore
	Format      = 1             // the config format this code writes and reads
)

// Main-key providers named in config.json.
const (
	ProviderPassphrase = "passphrase"
	ProviderKeyFile    = "keyfile"
	ProviderAWSKMS     = "awskms" // main_key.key names the KMS key
)

// Config is BACKING/.ezfs/config.json.
type Config struct {
	Format    int
	VolumeID  string // 32 lower-case hex digits, bound into every wrapped key
	Cipher    chunk.Suite
	ChunkSize int
	Keystore  string // absolute key store directory; "" means BACKING/.ezfs/keystore
	MainKey   MainKeyConfig
}

// MainKeyConfig says which provider guards the volume's zone keys.
// The key store's main-key record is authoritative (FORMAT.md "Main-key
// rotation"); Open repairs a config that disagrees with it.
type MainKeyConfig struct {
	Provider string // ProviderPassphrase, ProviderKeyFile or ProviderAWSKMS
	// Key is the KMS key for ProviderAWSKMS: a key ARN, alias ARN or
	// alias/NAME (the spec without "awskms:"); empty for the other providers.
	Key string
}

// configJSON is the wire form; its field names are FORMAT.md's.
type configJSON struct {
	Format    int         `json:"format"`
	VolumeID  string      `json:"volume_id"`
	Cipher    string      `json:"cipher"`
	ChunkSize int         `json:"chunk_size"`
	Keystore  string      `json:"keystore,omitempty"`
	MainKey   mainKeyJSON `json:"main_key"`
}

type mainKeyJSON struct {
	Provider string `json:"provider"`
	Key      string `json:"key,omitempty"`
}

var (
	topFields     = []string{"format", "volume_id", "cipher", "chunk_size", "keystore", "main_key"}
	mainKeyFields = []string{"provider", "key"}
	volumeIDRE    = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Encode returns the canonical JSON of c (two-space indent, trailing newline).
func (c *Config) Encode() []byte {
	j := configJSON{Format: c.Format, VolumeID: c.VolumeID, Cipher: c.Cipher.String(),
		ChunkSize: c.ChunkSize, Keystore: c.Keystore, MainKey: mainKeyJSON{c.MainKey.Provider, c.MainKey.Key}}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		panic("volume: marshal config: " + err.Error())
	}
	return append(b, '\n')
}

func configErr(field string, err error) error {
	return &keys.ParseError{Record: "config.json", Field: field, Err: err}
}

// ParseConfig decodes and validates config.json strictly: field names are
// case-sensitive, unknown or repeated fields and trailing data are errors,
// and each error is a *keys.ParseError naming its field.
func ParseConfig(b []byte) (*Config, error) {
	if err := checkFields(b, "", topFields); err != nil {
		return nil, err
	}
	var j configJSON
	if err := decodeStrict(b, &j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, configErr(te.Field, fmt.Errorf("wrong type %s", te.Value))
		}
		return nil, configErr(docField(""), err)
	}
	c := &Config{Format: j.Format, VolumeID: j.VolumeID, ChunkSize: j.ChunkSize,
		Keystore: j.Keystore, MainKey: MainKeyConfig{j.MainKey.Provider, j.MainKey.Key}}
	if c.Format == Format { // a newer format may name ciphers this one does not know
		suite, err := chunk.ParseSuite(j.Cipher)
		if err != nil {
			return nil, configErr("cipher", err)
		}
		c.Cipher = suite
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks every field of c, naming the first bad one.
func (c *Config) Validate() error {
	switch {
	case c.Format != Format:
		return configErr("format", fmt.Errorf("unknown format %d", c.Format))
	case !volumeIDRE.MatchString(c.VolumeID):
		return configErr("volume_id", errors.New("must be 32 lower-case hex digits"))
	case !c.Cipher.Valid():
		return configErr("cipher", fmt.Errorf("unknown cipher %s", c.Cipher))
	case c.Keystore != "" && (!filepath.IsAbs(c.Keystore) || filepath.Clean(c.Keystore) != c.Keystore):
		return configErr("keystore", fmt.Errorf("%q must be a clean absolute path", c.Keystore))
	}
	if err := c.MainKey.validate(); err != nil {
		return err
	}
	if err := chunk.CheckChunkSize(c.ChunkSize); err != nil {
		return configErr("chunk_size", err)
	}
	return nil
}

// decodeStrict decodes one JSON value with no unknown fields or trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// checkFields rejects object members that are not in allowed (matching
// exactly, unlike encoding/json) or appear twice, and recurses into main_key.
func checkFields(b []byte, path string, allowed []string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return configErr(docField(path), errors.New("not a JSON object"))
	}
	if err := checkDuplicates(b, path); err != nil {
		return err
	}
	for name := range m {
		if !slices.Contains(allowed, name) {
			return configErr(path+name, errors.New("unknown field"))
		}
	}
	if raw, ok := m["main_key"]; ok && path == "" {
		return checkFields(raw, "main_key.", mainKeyFields)
	}
	return nil
}

// checkDuplicates fails if the top-level object of b repeats a member name.
func checkDuplicates(b []byte, path string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	seen := map[string]bool{}
	dec.Token() // '{'
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return configErr(docField(path), err)
		}
		name, _ := t.(string)
		if seen[name] {
			return configErr(path+name, errors.New("repeated field"))
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return configErr(path+name, err)
		}
	}
	return nil
}

// docField names a whole object in errors: "(document)" or "main_key".
func docField(path string) string {
	if path == "" {
		return "(document)"
	}
	return strings.TrimSuffix(path, ".")
}

// validate checks the provider and that a KMS provider, and only it, names a key.
func (m MainKeyConfig) validate() error {
	switch m.Provider {
	case ProviderPassphrase, ProviderKeyFile:
		if m.Key != "" {
			return configErr("main_key.key", fmt.Errorf("provider %s takes no key", m.Provider))
		}
	case ProviderAWSKMS:
		if _, err := awskms.ParseSpec(awskms.SpecPrefix + m.Key); err != nil {
			return configErr("main_key.key", err)
		}
	default:
		return configErr("main_key.provider", fmt.Errorf("unknown provider %q", m.Provider))
	}
	return nil
}

// Spec returns the main-key spec as `ezfs init --main-key` takes it:
// "passphrase", "keyfile" or "awskms:KEY".
func (m MainKeyConfig) Spec() string {
	if m.Provider == ProviderAWSKMS {
		return awskms.SpecPrefix + m.Key
	}
	return m.Provider
}
