// Package roompb holds the generated protobuf types of live rooms: room
// descriptors, signed room messages and role grants. Only package room uses
// it; everything outside sees room's domain types.
package roompb

//go:generate protoc --go_out=. --go_opt=paths=source_relative room.proto
