package fs

import "github.com/ezfs/ezfs/zone/content"

// Prefetched returns how many xattrs listings of r have read ahead.
func Prefetched(r *Root) int64 { return r.prefetched.Load() }

// ScribbleReplies makes the release of every zone READ reply overwrite its
// plaintext, and returns a function that restores the plain release. Call
// it before mounting and restore after unmounting.
func ScribbleReplies() (restore func()) {
	old := releaseReply
	releaseReply = func(p *content.Plain) {
		for i := range p.Bytes {
			p.Bytes[i] = 0xa5
		}
		old(p)
	}
	return func() { releaseReply = old }
}
