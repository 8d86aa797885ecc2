package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ezfs/ezfs/keys"
)

// A key-store backup is the store's records as they are on disk: zone-key versions still
// wrapped under the main key, the main-key envelope, the zone registry and the walk
// records (FORMAT.md "Key-store backups"). It is one JSON object; values are base64.
const (
	BackupFormat  = "ezfs-keystore-backup" // Backup.Format
	BackupVersion = 1                      // Backup.Version this ezfs writes and reads
)

// Backup is a key-store backup file: every record of a volume's key store, exactly as stored.
type Backup struct {
	Format   string         `json:"format"`
	Version  int            `json:"version"`
	VolumeID string         `json:"volume_id"`
	Created  time.Time      `json:"created"`
	Records  []BackupRecord `json:"records"`
}

// BackupRecord is one key-store record of a Backup.
type BackupRecord struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// NewBackup copies every record of s in one read transaction (a consistent snapshot) into
// a backup of volume volumeID made now.
func NewBackup(s keys.Store, volumeID string) (*Backup, error) {
	b := &Backup{Format: BackupFormat, Version: BackupVersion, VolumeID: volumeID,
		Created: time.Now().UTC().Truncate(time.Second), Records: []BackupRecord{}}
	err := s.View(func(tx keys.Tx) error {
		names, err := tx.Keys("")
		for _, k := range names {
			if err != nil {
				break
			}
			var v []byte
			if v, err = tx.Get(k); err == nil {
				b.Records = append(b.Records, BackupRecord{Key: k, Value: v})
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read key store: %w", err)
	}
	return b, nil
}

// ParseBackup decodes a backup file and checks its format, its version and that it holds
// the volume-id record of the volume it names.
func ParseBackup(data []byte) (*Backup, error) {
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("not an ezfs key-store backup: %w", err)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return &b, nil
}

// Encode returns the backup file's bytes: one JSON object and a newline.
func (b *Backup) Encode() ([]byte, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func (b *Backup) check() error {
	if b.Format != BackupFormat {
		return fmt.Errorf("not an ezfs key-store backup (format %q)", b.Format)
	}
	if b.Version != BackupVersion {
		return fmt.Errorf("key-store backup version %d: this ezfs reads version %d", b.Version, BackupVersion)
	}
	for _, r := range b.Records {
		if r.Key == volumeIDKey && string(r.Value) == b.VolumeID {
			return nil
		}
	}
	return fmt.Errorf("key-store backup has no volume id record matching %s", b.VolumeID)
}

// RestoreTo makes s hold exactly the backup's records, in one transaction.
func (b *Backup) RestoreTo(s keys.Store) error {
	keep := map[string]bool{}
	for _, r := range b.Records {
		keep[r.Key] = true
	}
	return s.Update(func(tx keys.Tx) error {
		names, err := tx.Keys("")
		for _, k := range names {
			if err == nil && !keep[k] {
				err = tx.Delete(k)
			}
		}
		for _, r := range b.Records {
			if err == nil {
				err = tx.Set(r.Key, r.Value)
			}
		}
		if err != nil {
			return fmt.Errorf("restore key store: %w", err)
		}
		return nil
	})
}

// Store returns the backup's records as a read-only keys.Store, e.g. for a keys.Keyring
// that lists the key versions the backup holds.
func (b *Backup) Store() keys.Store { return backupStore(b.Records) }

// errReadOnly refuses writes to a backup's Store.
var errReadOnly = errors.New("backup is read-only")

// backupStore is a read-only keys.Store over backup records.
type backupStore []BackupRecord

var (
	_ keys.Store = backupStore(nil)
	_ keys.Tx    = backupStore(nil)
)

func (m backupStore) View(f func(keys.Tx) error) error { return f(m) }
func (m backupStore) Update(func(keys.Tx) error) error { return errReadOnly }
func (m backupStore) Set(string, []byte) error         { return errReadOnly }
func (m backupStore) Delete(string) error              { return errReadOnly }

func (m backupStore) Get(k string) ([]byte, error) {
	for _, r := range m {
		if r.Key == k {
			return slices.Clone(r.Value), nil
		}
	}
	return nil, fmt.Errorf("get %q: %w", k, keys.ErrNotFound)
}

// Keys returns the matching keys sorted, as keys.Tx requires.
func (m backupStore) Keys(prefix string) ([]string, error) {
	var out []string
	for _, r := range m {
		if strings.HasPrefix(r.Key, prefix) {
			out = append(out, r.Key)
		}
	}
	slices.Sort(out)
	return out, nil
}
