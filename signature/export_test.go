package signature

// Waiting returns how many callers wait for the look-up of keyID in
// flight, or -1 when none is.
func (r *Resolver) Waiting(keyID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.inflight[keyID]; ok {
		return c.waiters
	}
	return -1
}
