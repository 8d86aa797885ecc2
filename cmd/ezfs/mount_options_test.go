package main

import (
	"testing"
	"time"
)

// TestMountOptions folds -o options as fstab passes them into the mount flags.
func TestMountOptions(t *testing.T) {
	o := mountOptions{options: []string{"rw,passphrase_file=/etc/p,allow_other,_netdev", "key_cache_ttl=10m,key_cache_max_uses=5000,ro,passthrough,x-systemd.automount"}}
	if err := o.parseOptions(); err != nil {
		t.Fatal(err)
	}
	if o.vol.secret.passphraseFile != "/etc/p" || !o.allowOther || !o.readOnly || o.keyTTL != 10*time.Minute || o.keyUses != 5000 || !o.passthrough {
		t.Errorf("parsed %+v", o)
	}
	for _, bad := range []string{"key_cache_ttl=soon", "key_cache_max_uses=-1", "key_cache_max_uses=many", "compress=yes"} {
		o := mountOptions{options: []string{bad}}
		if err := o.parseOptions(); exitCode(err) != exitUsage {
			t.Errorf("-o %s: %v (exit %d), want a usage error", bad, err, exitCode(err))
		}
	}
}
