// Package volume creates and opens an ezfs volume: the backing directory's
// BACKING/.ezfs/config.json, its key store and its main key, wired into a
// [keys.Keyring].
package volume
