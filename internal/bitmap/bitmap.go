// Package bitmap is the dense set of offsets that ipam and portalloc
// allocate from: a hierarchical bitmap whose summary levels find a free
// offset in O(1) however full the set is.
package bitmap

import "math/bits"

// Bitmap is a dense hierarchical bitmap over offsets [0, n).
//
// levels[0] holds one bit per offset. Each higher level holds one bit per
// word of the level below, set when that word is full (all ones); the top
// level is a single word. Bits past the end of a level are kept set
// ("padding"), so a padded word reads as full and is never chosen.
//
// Finding the first free offset at or after x climbs while the current word
// is full from x on and descends through the first non-full word, so it
// reads at most two words per level: with 64-way fan-out, 2^20 offsets need
// four levels and a port range at most three. Add and Remove touch one word
// per level in the worst case, and no method allocates memory.
// Memory is n/8 bytes plus 1/63 of that for the summaries, allocated once
// by New: 8.3 KiB for all 65535 ports, 130 KiB for 2^20 addresses.
//
// A Bitmap is not safe for concurrent use; its users serialise access. The
// zero Bitmap is not usable; build one with New. Every method that takes an
// offset x requires x < Len() and panics (index out of range) otherwise,
// unless its doc says it accepts more.
type Bitmap struct {
	n      uint64
	levels [][]uint64
}

// New returns an empty bitmap over [0, n).
func New(n uint64) *Bitmap {
	b := &Bitmap{n: n}
	words := max((n+63)/64, 1)
	level := make([]uint64, words)
	pad(level, n)
	b.levels = append(b.levels, level)
	for len(level) > 1 {
		up := make([]uint64, (len(level)+63)/64)
		pad(up, uint64(len(level)))
		for i, w := range level {
			if w == ^uint64(0) {
				up[i>>6] |= 1 << (uint(i) & 63)
			}
		}
		b.levels = append(b.levels, up)
		level = up
	}
	return b
}

// pad sets every bit at index >= n in words.
func pad(words []uint64, n uint64) {
	for i := range words {
		lo := uint64(i) * 64
		switch {
		case lo >= n:
			words[i] = ^uint64(0)
		case n-lo < 64:
			words[i] |= ^uint64(0) << (n - lo)
		}
	}
}

// Len returns n, the number of offsets the bitmap covers.
func (b *Bitmap) Len() uint64 { return b.n }

// Has reports whether x is set.
func (b *Bitmap) Has(x uint64) bool {
	return b.levels[0][x>>6]&(1<<(x&63)) != 0
}

// Add sets x and reports whether it was clear.
func (b *Bitmap) Add(x uint64) bool {
	if b.Has(x) {
		return false
	}
	for _, level := range b.levels {
		i := x >> 6
		level[i] |= 1 << (x & 63)
		if level[i] != ^uint64(0) {
			break
		}
		x = i
	}
	return true
}

// Remove clears x and reports whether it was set.
func (b *Bitmap) Remove(x uint64) bool {
	if !b.Has(x) {
		return false
	}
	for _, level := range b.levels {
		i := x >> 6
		full := level[i] == ^uint64(0)
		level[i] &^= 1 << (x & 63)
		if !full {
			break
		}
		x = i
	}
	return true
}

// NextFree returns the first clear bit y with from <= y < end, if any. It
// accepts any from and end: there is no clear bit at or past Len().
func (b *Bitmap) NextFree(from, end uint64) (uint64, bool) {
	x, ok := b.nextZero(from)
	return x, ok && x < end
}

// nextZero returns the first clear bit of levels[0] at or after x.
func (b *Bitmap) nextZero(x uint64) (uint64, bool) {
	k := 0
	for {
		level := b.levels[k]
		i := x >> 6
		if i < uint64(len(level)) {
			// Treat the bits below x as set.
			if w := level[i] | (1<<(x&63) - 1); w != ^uint64(0) {
				x = i<<6 | uint64(bits.TrailingZeros64(^w))
				break
			}
		}
		if k == len(b.levels)-1 {
			return 0, false
		}
		// Word i is full from x on: look for the next non-full word.
		k++
		x = i + 1
	}
	for k > 0 {
		k--
		x = x<<6 | uint64(bits.TrailingZeros64(^b.levels[k][x]))
	}
	return x, true
}

// word returns leaf word i with padding cleared.
func (b *Bitmap) word(i uint64) uint64 {
	w := b.levels[0][i]
	if lo := i * 64; b.n-lo < 64 {
		w &= 1<<(b.n-lo) - 1
	}
	return w
}

// Ascend calls yield for every set bit >= from in increasing order until
// yield returns false. It accepts any from. It scans leaf words, so it
// costs O((Len()-from)/64) plus the calls.
func (b *Bitmap) Ascend(from uint64, yield func(uint64) bool) {
	if from >= b.n {
		return
	}
	for i := from >> 6; i < uint64(len(b.levels[0])); i++ {
		w := b.word(i)
		if i == from>>6 {
			w &= ^uint64(0) << (from & 63)
		}
		for w != 0 {
			if !yield(i<<6 | uint64(bits.TrailingZeros64(w))) {
				return
			}
			w &= w - 1
		}
	}
}

// nextSet returns the first member at or after x. It scans leaf words, so
// it costs O(gap/64); only snapshots and iteration use it.
func (b *Bitmap) nextSet(x uint64) (uint64, bool) {
	if x >= b.n {
		return 0, false
	}
	for i := x >> 6; i < uint64(len(b.levels[0])); i++ {
		w := b.word(i)
		if i == x>>6 {
			w &= ^uint64(0) << (x & 63)
		}
		if w != 0 {
			return i<<6 | uint64(bits.TrailingZeros64(w)), true
		}
	}
	return 0, false
}

// Runs calls yield for every maximal run [start, end) of set bits in
// increasing order until yield returns false. Snapshots are written from
// these runs.
func (b *Bitmap) Runs(yield func(start, end uint64) bool) {
	x := uint64(0)
	for {
		start, ok := b.nextSet(x)
		if !ok {
			return
		}
		end, ok := b.NextFree(start, b.n)
		if !ok {
			end = b.n
		}
		if !yield(start, end) {
			return
		}
		x = end
	}
}

// AddRun sets every bit of [start, end), which requires end <= Len();
// restoring a snapshot uses it. It costs O(end-start).
func (b *Bitmap) AddRun(start, end uint64) {
	for x := start; x < end; x++ {
		b.Add(x)
	}
}
