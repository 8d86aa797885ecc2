package reencrypt

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
)

// Keyring is what a walk needs from the key provider. *keys.Keyring implements it.
type Keyring interface {
	// Metadata gives the key's current version: the target of a new walk.
	Metadata(ctx context.Context, name string) (keys.Metadata, error)
	// ReencryptEDEKs re-wraps items under their key's current version, in order. An error
	// wrapping keys.ErrAuth, ErrVersionNotFound or ErrKeyNotFound is about an item (named by
	// a *keys.RewrapError, else found by sending the items one by one); any other is retried.
	ReencryptEDEKs(ctx context.Context, items []keys.Rewrap) ([]keys.EDEK, error)
}

var _ Keyring = (*keys.Keyring)(nil)

// Zone names the zone a walk covers.
type Zone struct {
	ID   [zone.IDLen]byte // the zone id of its marker and registry record
	Key  string           // the zone key name
	Dir  string           // the zone root directory in the backing tree
	Path string           // the zone as users see it (mount path), for status and messages
}

// Options tunes one walk. The zero value walks at full speed in batches of DefaultBatch and
// yields to foreground I/O through the Manager's Config.Busy.
type Options struct {
	// Rate caps the files visited per second; 0 means no cap.
	Rate float64
	// Batch is the number of files per provider call and checkpoint; 0 means DefaultBatch.
	Batch int
	// Yield reports foreground I/O; while it returns true the walk pauses between batches
	// (at most MaxYield per batch). Nil means Config.Busy.
	Yield func() bool
}

// Walk defaults and limits.
const (
	DefaultBatch = 1000
	MaxBatch     = 1 << 16
	MaxFailures  = 100                    // failures kept by path in a Status; the count is exact
	MaxYield     = 500 * time.Millisecond // longest pause for foreground I/O per batch
	yieldPause   = 10 * time.Millisecond
)

// State is a walk's place in its life: submitted → processing → completed, cancelled or
// failed; Start on a cancelled or failed walk goes on from its checkpoint.
type State uint8

// States of a walk (FORMAT.md "Re-encryption walks" gives their stored values).
const (
	StateSubmitted State = iota + 1
	StateProcessing
	StateCompleted
	StateCancelled
	StateFailed
)

var stateNames = [...]string{"", "submitted", "processing", "completed", "cancelled", "failed"}

// String returns the state's name as the CLI prints it.
func (s State) String() string {
	if s.valid() {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText makes JSON carry the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name, as a client of the daemon receives it.
func (s *State) UnmarshalText(b []byte) error {
	for i, name := range stateNames {
		if i > 0 && name == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown walk state %q", b)
}

func (s State) valid() bool { return s >= StateSubmitted && s <= StateFailed }

// Active reports whether a walk in state s has not ended: it is waiting or running,
// and runs again after a restart.
func (s State) Active() bool { return s == StateSubmitted || s == StateProcessing }

// Failure is one file the walk could not move to the target version.
type Failure struct {
	Path   string `json:"path"`   // relative to the zone root
	Reason string `json:"reason"` // the error
}

// Status is a walk's progress, as `ezfs reencrypt status --json` prints it (DECISIONS.md
// "CLI"). Times are UTC, whole seconds; Started and Completed are nil until then.
type Status struct {
	ZoneID        [zone.IDLen]byte `json:"-"`
	Zone          string           `json:"zone"`
	State         State            `json:"state"`
	Key           string           `json:"key"`
	TargetVersion uint32           `json:"target_version"`
	Submitted     time.Time        `json:"submitted"`
	Started       *time.Time       `json:"started"`
	Completed     *time.Time       `json:"completed"`
	Reencrypted   uint64           `json:"reencrypted"`
	Skipped       uint64           `json:"skipped"`
	Failed        uint64           `json:"failed"`
	Failures      []Failure        `json:"failures"` // the first MaxFailures
	Seen          uint64           `json:"seen"`
	Rate          float64          `json:"rate"`       // files seen per second of walking
	Checkpoint    string           `json:"checkpoint"` // last file done in walk order
	Error         string           `json:"error,omitempty"`

	// Versions counts the zone's files per key version, as of LastWalk: the last completed
	// walk (kept while a newer walk runs). For `zone list` and `key prune`.
	Versions map[uint32]uint64 `json:"-"`
	LastWalk *time.Time        `json:"-"`

	Active time.Duration `json:"-"` // time spent walking, over all runs
}

// clone returns a deep copy with Rate filled in.
func (s *Status) clone() *Status {
	c := *s
	c.Failures = slices.Clone(s.Failures)
	if c.Failures == nil {
		c.Failures = []Failure{}
	}
	c.Versions = maps.Clone(s.Versions)
	c.Started, c.Completed, c.LastWalk = timePtr(s.Started), timePtr(s.Completed), timePtr(s.LastWalk)
	if secs := s.Active.Seconds(); secs > 0 {
		c.Rate = float64(s.Seen) / secs
	}
	return &c
}

// addFailure counts a failure and keeps it if there is room.
func (s *Status) addFailure(f Failure) {
	s.Failed++
	if len(s.Failures) < MaxFailures {
		s.Failures = append(s.Failures, f)
	}
}

func timePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// now is the current time as Status stores it.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
