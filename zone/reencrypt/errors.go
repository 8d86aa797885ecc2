package reencrypt

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrAlreadyRunning is returned by Start for a zone that is being walked.
	ErrAlreadyRunning = errors.New("zone is already being re-encrypted")
	// ErrNoWalk is returned for a zone that has no walk, running or stored.
	ErrNoWalk = errors.New("no re-encryption walk for this zone")
	// ErrNotRunning is returned by Cancel for a zone whose walk is not running.
	ErrNotRunning = errors.New("re-encryption walk is not running")
	// ErrClosed is returned by a Manager used after Close.
	ErrClosed = errors.New("re-encryption manager closed")
	// ErrZoneMarker means the zone root's marker is missing or names another zone.
	ErrZoneMarker = errors.New("zone marker does not match")
	// errStopped ends a walk that was cancelled or whose manager closed.
	errStopped = errors.New("walk stopped")
)
