// Package roomspb holds the generated protobuf types of the rooms' stream
// protocols (sync and ballot). Only package rooms uses them; it converts to domain types at the
// edge.
package roomspb

//go:generate protoc --go_out=. --go_opt=paths=source_relative rooms.proto
