// Package stamppb holds the generated protobuf type of a proof-of-work stamp.
// Only crypto/stamp uses it; everything else sees stamp.Stamp.
package stamppb

//go:generate protoc --go_out=. --go_opt=paths=source_relative stamp.proto
