package keys_test

import (
	"testing"

	"github.com/ezfs/ezfs/keys"
)

// BenchmarkEDEK: what creating (GenerateEDEK) and opening (DecryptEDEK) a zone file costs
// in key wrapping, per wrap, with the zone-key version cached as in a mount.
func BenchmarkEDEK(b *testing.B) {
	for _, w := range []keys.Wrap{keys.WrapAEAD, keys.WrapKW} {
		env := newEnv()
		k := keys.NewKeyring(env.store, env.main, volID)
		defer k.Close()
		if _, err := k.CreateKey(ctx, "securelakekey"); err != nil {
			b.Fatal(err)
		}
		bind := []byte("binding of one file")
		_, e, err := k.GenerateEDEK(ctx, "securelakekey", w, bind)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(wrapNames[w]+"/generate", func(b *testing.B) {
			for b.Loop() {
				dek, _, err := k.GenerateEDEK(ctx, "securelakekey", w, bind)
				if err != nil {
					b.Fatal(err)
				}
				dek.Wipe()
			}
		})
		b.Run(wrapNames[w]+"/decrypt", func(b *testing.B) {
			for b.Loop() {
				dek, err := k.DecryptEDEK(ctx, e, bind)
				if err != nil {
					b.Fatal(err)
				}
				dek.Wipe()
			}
		})
	}
}
