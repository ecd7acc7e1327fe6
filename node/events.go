package node

import "github.com/backchannel/backchannel/node/event"

// Event types, as package event names them.
const (
	EventMessage      = event.Message
	EventMessageState = event.MessageState
	EventRequest      = event.Request
	EventContact      = event.Contact
	EventTyping       = event.Typing
	EventRoomMessage  = event.RoomMessage
	EventGroupMessage = event.GroupMessage
	EventGroupInvite  = event.GroupInvite
	EventGroupMember  = event.GroupMember
	EventGroupEpoch   = event.GroupEpoch
	EventGroupReceipt = event.GroupReceipt
)

// Event tells subscribers (the UI, the CLI) that something happened.
type Event = event.Event

// RoomEvent names the room message an event is about.
type RoomEvent = event.Room

// GroupEvent names the group (and message, epoch or member) an event is about.
type GroupEvent = event.Group
