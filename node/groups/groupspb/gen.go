// Package groupspb holds the generated protobuf types of private groups:
// their content, the control contents their members send each other over
// 1:1 sessions, and their sync protocol. Package groups and its
// subpackages convert them to domain types at the edge; it is not internal
// so that the node's hand-driven protocol tests can build group messages.
package groupspb

//go:generate protoc --go_out=. --go_opt=paths=source_relative groups.proto
