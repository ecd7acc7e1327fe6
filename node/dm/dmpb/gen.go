// Package dmpb holds the wire types of the 1:1 protocols: DM stream frames,
// the encrypted content inside them and the prekey exchange.
package dmpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative wire.proto
