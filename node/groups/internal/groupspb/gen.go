// Package groupspb holds the generated protobuf types of private groups.
// Only package groups uses them; it converts to domain types at the edge.
package groupspb

//go:generate protoc --go_out=. --go_opt=paths=source_relative groups.proto
