//go:build !unix

package keys

func lockPages([]byte)   {}
func unlockPages([]byte) {}

// No key arena: keys stay on the heap.
func arenaSlot(int) []byte { return nil }
func freeSlot([]byte)      {}
