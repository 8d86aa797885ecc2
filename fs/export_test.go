package fs

// Prefetched returns how many xattrs listings of r have read ahead.
func Prefetched(r *Root) int64 { return r.prefetched.Load() }
