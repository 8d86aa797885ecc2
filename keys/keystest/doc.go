// Package keystest is the conformance suite every keys.Store and keys.MainKey
// implementation runs, plus in-memory fakes and the test-vector file reader
// shared by the keys tests.
package keystest
