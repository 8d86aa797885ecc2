package keystest_test

import (
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
)

func TestMemStore(t *testing.T) {
	keystest.TestStore(t, func(*testing.T) keys.Store { return keystest.NewMemStore() })
}

func TestFakeMainKey(t *testing.T) {
	keystest.TestMainKey(t, func(*testing.T) keys.MainKey { return keystest.NewMainKey() })
}
