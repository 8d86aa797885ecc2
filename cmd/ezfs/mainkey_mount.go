package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ezfs/ezfs/volume"
)

// prepareKeys readies the keyring of a volume about to be mounted: it bounds the zone-key
// cache (--key-cache-ttl, --key-cache-max-uses) and unwraps every zone-key version now, one main-key call each
// (one KMS Decrypt per version for an AWS KMS volume). So an unreachable or revoked KMS
// key fails the mount with one line, and a mounted volume keeps serving every file, and
// creating files in every zone, if KMS goes away later (issue 5). With a TTL, versions
// are unwrapped again on use after they expire.
func prepareKeys(ctx context.Context, g *globals, v *volume.Volume, o mountOptions) error {
	v.Keyring.SetCacheTTL(o.keyTTL)
	v.Keyring.SetCacheMaxUses(o.keyUses)
	start := time.Now()
	if err := v.Keyring.Preload(ctx); err != nil {
		return explainKMS(fmt.Errorf("cannot unlock the zone keys of %s: %w", v.Backing, err))
	}
	g.logger.Debug("zone keys unwrapped", "versions", v.Keyring.Cached(), "main_key", v.MainKey().Spec(), "took", time.Since(start))
	return nil
}

// setKeyTTL parses -o key_cache_ttl=DURATION.
func (o *mountOptions) setKeyTTL(value string) error {
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return usagef("invalid mount option key_cache_ttl=%s: use a duration such as 10m or 1h", value)
	}
	o.keyTTL = d
	return nil
}

// setKeyUses parses -o key_cache_max_uses=N.
func (o *mountOptions) setKeyUses(value string) error {
	n, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return usagef("invalid mount option key_cache_max_uses=%s: use a whole number (0: no bound)", value)
	}
	o.keyUses = n
	return nil
}

// kmsVolume reports whether the volume of f is under an AWS KMS key, so that mount asks
// for no passphrase. It reads only config.json; the key store decides at open.
func kmsVolume(f volumeFlags) bool {
	c, err := volume.ReadConfig(f.backing)
	return err == nil && c.MainKey.Provider == volume.ProviderAWSKMS
}
