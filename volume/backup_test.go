package volume_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/volume"
)

const backupVolID = "0123456789abcdef0123456789abcdef"

// backupStore returns a store holding the records a small volume has.
func backupStore(t testing.TB) *keystest.MemStore {
	s := keystest.NewMemStore()
	err := s.Update(func(tx keys.Tx) error {
		for k, v := range map[string]string{"volume-id": backupVolID, "mainkey": "\x01envelope", "key/logs": "\x01\x04logs", "zone/00": ""} {
			if err := tx.Set(k, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validBackup returns the encoded backup of backupStore.
func validBackup(t testing.TB) []byte {
	b, err := volume.NewBackup(backupStore(t), backupVolID)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBackupRestore(t *testing.T) {
	b, err := volume.ParseBackup(validBackup(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 4 || b.VolumeID != backupVolID || b.Created.IsZero() {
		t.Fatalf("parsed %+v", b)
	}
	dst := keystest.NewMemStore()
	dst.Update(func(tx keys.Tx) error { return tx.Set("key/gone", []byte("x")) })
	if err := b.RestoreTo(dst); err != nil {
		t.Fatal(err)
	}
	want, got := dump(t, backupStore(t)), dump(t, dst)
	if !slices.Equal(want, got) {
		t.Fatalf("restored store\n%q\nwant\n%q", got, want)
	}
	if got := dump(t, b.Store()); !slices.Equal(want, got) {
		t.Fatalf("backup's store\n%q\nwant\n%q", got, want)
	}
	if err := b.Store().Update(func(keys.Tx) error { return nil }); err == nil {
		t.Fatal("backup's store took an update")
	}
}

// dump lists "key=value" for every record of s, in key order.
func dump(t *testing.T, s keys.Store) []string {
	t.Helper()
	var out []string
	err := s.View(func(tx keys.Tx) error {
		names, err := tx.Keys("")
		for _, k := range names {
			v, err := tx.Get(k)
			if err != nil {
				return err
			}
			out = append(out, k+"="+string(v))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseBackupRefuses(t *testing.T) {
	good := string(validBackup(t))
	for name, tt := range map[string]struct{ data, want string }{
		"not-json":      {"{", "not an ezfs key-store backup"},
		"other-format":  {strings.Replace(good, volume.BackupFormat, "restic", 1), `format "restic"`},
		"version-2":     {strings.Replace(good, `"version":1`, `"version":2`, 1), "backup version 2"},
		"other-volume":  {strings.Replace(good, `"volume_id":"0123`, `"volume_id":"f123`, 1), "no volume id record"},
		"no-records":    {`{"format":"ezfs-keystore-backup","version":1,"volume_id":"v","records":[]}`, "no volume id record"},
		"records-array": {`{"format":"ezfs-keystore-backup","version":1,"records":{}}`, "not an ezfs key-store backup"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := volume.ParseBackup([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzBackup: whatever ParseBackup accepts encodes to bytes that parse again to the same
// backup (FORMAT.md "Key-store backups"), and nothing panics.
func FuzzBackup(f *testing.F) {
	f.Add(validBackup(f))
	f.Add([]byte(`{"format":"ezfs-keystore-backup","version":1,"volume_id":"","created":"2025-03-01T12:00:00+05:30","records":[{"key":"volume-id","value":null},{"key":"a","value":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := volume.ParseBackup(data)
		if err != nil {
			return
		}
		enc, err := b.Encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", b, err)
		}
		again, err := volume.ParseBackup(enc)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", enc, err)
		}
		if !sameBackup(b, again) {
			t.Fatalf("decode→encode→decode changed\n%+v\nto\n%+v", b, again)
		}
		if enc2, err := again.Encode(); err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s (%v)", enc, enc2, err)
		}
	})
}

func sameBackup(a, b *volume.Backup) bool {
	return a.Format == b.Format && a.Version == b.Version && a.VolumeID == b.VolumeID &&
		a.Created.Equal(b.Created) && slices.EqualFunc(a.Records, b.Records, func(x, y volume.BackupRecord) bool {
		return x.Key == y.Key && bytes.Equal(x.Value, y.Value) && (x.Value == nil) == (y.Value == nil)
	})
}
