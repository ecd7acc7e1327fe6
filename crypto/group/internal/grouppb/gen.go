// Package grouppb holds the generated protobuf types of the group wire
// formats. Only package group uses them; it converts them to and from its
// domain types at the edge.
package grouppb

//go:generate protoc --go_out=. --go_opt=paths=source_relative group.proto
