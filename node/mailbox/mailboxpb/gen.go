// Package mailboxpb holds the wire types of /backchannel/mailbox/1.0.0 and
// the mailbox list a recipient pushes to its contacts over 1:1.
package mailboxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative mailbox.proto
