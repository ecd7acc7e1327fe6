// Package dmpb holds the generated protobuf types of the node's 1:1
// protocols. Only package node uses them; it converts to domain types at the
// edge.
package dmpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative dm.proto
