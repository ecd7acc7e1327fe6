// Package storepb holds the generated protobuf types of the records in
// Backchannel's local store. Only package storage uses it; it converts them to
// and from its own domain types.
package storepb

//go:generate protoc --go_out=. --go_opt=paths=source_relative store.proto
