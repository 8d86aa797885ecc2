// Package reencrypt walks an encryption zone in the backing tree and moves every file's EDEK
// to the zone key's target version, in batches, with checkpoints in the key store (issue 4).
//
// # Walk
//
// A [Manager] runs at most one walk per zone. A walk visits regular files depth-first with
// names sorted bytewise, reads each file's [zone.XattrFile], sends the EDEKs that are below the
// target version to the key provider in one batch call, and replaces each xattr with a single
// setxattr(XATTR_REPLACE) after checking that it did not change meanwhile. File data are never
// read or written. After every batch the walk's status, including the checkpoint (the last
// file of the batch in walk order, relative to the zone root), is stored under
// "walk/<zone id hex>" in the key store, so a walk stopped by [Manager.Cancel],
// [Manager.Close] or a crash carries on from there ([Manager.Start], [Manager.Resume]).
//
// # Renames
//
// A rename within the zone can move a file from a place the walk has not reached to one it has
// passed. The FUSE layer reports every rename and link in a zone through [Manager.BeginMove]
// (or [Manager.Touch]); the walk re-checks the new place before it may complete. Before it says
// completed, a walk also re-reads every file's xattr once more (the verification pass): it
// re-wraps what is still below the target, counts files per key version, and recounts the
// failures. FORMAT.md ("Re-encryption walks") describes the stored record.
package reencrypt
