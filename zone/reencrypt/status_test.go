package reencrypt_test

import (
	"encoding/json"
	"testing"

	"github.com/ezfs/ezfs/zone/reencrypt"
)

// A status travels from the daemon to the CLI as JSON: every state comes back as itself.
func TestStateJSON(t *testing.T) {
	for _, s := range []reencrypt.State{reencrypt.StateSubmitted, reencrypt.StateProcessing,
		reencrypt.StateCompleted, reencrypt.StateCancelled, reencrypt.StateFailed} {
		b, err := json.Marshal(reencrypt.Status{State: s})
		if err != nil {
			t.Fatal(err)
		}
		var got reencrypt.Status
		if err := json.Unmarshal(b, &got); err != nil || got.State != s {
			t.Errorf("%v: decoded %v, %v from %s", s, got.State, err, b)
		}
	}
	var st reencrypt.Status
	for _, bad := range []string{`{"state":"done"}`, `{"state":""}`, `{"state":"state(9)"}`} {
		if err := json.Unmarshal([]byte(bad), &st); err == nil {
			t.Errorf("%s decoded as %v", bad, st.State)
		}
	}
}

func TestStateActive(t *testing.T) {
	want := map[reencrypt.State]bool{reencrypt.StateSubmitted: true, reencrypt.StateProcessing: true,
		reencrypt.StateCompleted: false, reencrypt.StateCancelled: false, reencrypt.StateFailed: false}
	for s, w := range want {
		if s.Active() != w {
			t.Errorf("%v.Active() = %v", s, !w)
		}
	}
}
