// Package sessionpb holds the generated protobuf types of the 1:1 session
// stack (identity, x3dh, ratchet). Only those packages use it; everything
// outside crypto sees their domain types.
package sessionpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative session.proto
