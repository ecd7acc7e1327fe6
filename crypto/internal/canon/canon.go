// Package canon builds the canonical byte strings that Backchannel signs and
// binds as associated data. Every variable-length field is length-prefixed,
// so no two different field lists encode to the same bytes.
package canon

import "encoding/binary"

// Builder appends fields to a byte string.
type Builder struct{ b []byte }

// Bytes appends a length-prefixed byte string.
func (w *Builder) Bytes(p []byte) *Builder {
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(len(p)))
	w.b = append(w.b, p...)
	return w
}

// String appends a length-prefixed string.
func (w *Builder) String(s string) *Builder {
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(len(s)))
	w.b = append(w.b, s...)
	return w
}

// Fixed appends bytes of a fixed, known size, with no length prefix.
func (w *Builder) Fixed(p []byte) *Builder {
	w.b = append(w.b, p...)
	return w
}

// Uint64 appends a big-endian integer.
func (w *Builder) Uint64(v uint64) *Builder {
	w.b = binary.BigEndian.AppendUint64(w.b, v)
	return w
}

// Int64 appends a big-endian integer.
func (w *Builder) Int64(v int64) *Builder { return w.Uint64(uint64(v)) }

// Build returns the bytes built so far.
func (w *Builder) Build() []byte { return w.b }
