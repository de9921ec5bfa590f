package ipam

// withDenseLimit sets the largest range kept in a dense bitmap, so that
// tests exercise the run tree on small ranges.
func withDenseLimit(n uint64) Option {
	return func(c *config) { c.denseLimit = n }
}
