package keys_test

import (
	"context"
	"fmt"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
)

// A zone key is rolled; files created before the roll keep decrypting with
// version 1, new files get version 2, and a walker moves old EDEKs forward.
func Example_keyring() {
	ctx := context.Background()
	k := keys.NewKeyring(keystest.NewMemStore(), keystest.NewMainKey(), "0123456789abcdef0123456789abcdef")
	defer k.Close()

	k.CreateKey(ctx, "securelakekey")
	binding := []byte("header of file A") // per-file bytes, from the zone package
	dek, old, _ := k.GenerateEDEK(ctx, "securelakekey", keys.WrapAEAD, binding)
	defer dek.Wipe()

	m, _ := k.RollKey(ctx, "securelakekey")
	fmt.Println("current:", keys.Ref{Name: m.Name, Version: m.CurrentVersion})

	again, _ := k.DecryptEDEK(ctx, old, binding)
	fmt.Println("old EDEK:", old.Key, "opens:", string(again.Bytes()) == string(dek.Bytes()))

	_, err := k.DecryptEDEK(ctx, old, []byte("header of file B"))
	fmt.Println("moved to file B:", err)

	up, _ := k.ReencryptEDEKs(ctx, []keys.Rewrap{{EDEK: old, Binding: binding}})
	fmt.Println("re-encrypted to:", up[0].Key)
	fmt.Println(dek) // key bytes never print
	// Output:
	// current: securelakekey@2
	// old EDEK: securelakekey@1 opens: true
	// moved to file B: unwrap EDEK with securelakekey@1: key authentication failed
	// re-encrypted to: securelakekey@2
	// secret
}
