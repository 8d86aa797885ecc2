// Package content gives random-access plaintext reads and writes over one
// encrypted backing file, sealed chunk by chunk with [chunk.Cipher].
//
// Only the chunks a request touches are read and re-sealed. Appends write
// the new tail chunks before re-sealing the old final chunk as not-last, so
// a crash in between leaves a readable file (FORMAT.md "Torn append").
// Ordering those writes on disk is left to [File.Sync]: an fdatasync on
// every append would cost more than the window it closes.
//
// [File.WriteBehind] does a large write in the background once its space is
// reserved; every other call waits for it, and its error, if any, comes back
// from the next write, Sync or Flush. [File.ReadPlain] reads without a
// second buffer: it opens the chunks in the buffer their ciphertext was
// read into; for readers that opened the file with O_DIRECT it reads the
// ciphertext with O_DIRECT as well.
package content
