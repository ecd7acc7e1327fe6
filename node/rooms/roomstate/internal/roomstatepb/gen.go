// Package roomstatepb holds the generated protobuf types of room message
// payloads. Only package roomstate uses it; everything outside sees
// roomstate's domain types.
package roomstatepb

//go:generate protoc --go_out=. --go_opt=paths=source_relative roomstate.proto
