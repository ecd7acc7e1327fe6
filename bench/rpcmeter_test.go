package bench

import (
	"testing"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"google.golang.org/protobuf/proto"
)

func TestRPCMeter(t *testing.T) {
	topic := "room"
	m1 := &pb.Message{Data: make([]byte, 200), Topic: &topic}
	m2 := &pb.Message{Data: make([]byte, 300), Topic: &topic}
	ihave := &pb.ControlIHave{TopicID: &topic, MessageIDs: []string{string(make([]byte, 32)), string(make([]byte, 32))}}
	iwant := &pb.ControlIWant{MessageIDs: []string{string(make([]byte, 32))}}
	graft := &pb.ControlGraft{TopicID: &topic}
	rpc := &lpubsub.RPC{}
	rpc.Publish = []*pb.Message{m1, m2}
	rpc.Control = &pb.ControlMessage{Ihave: []*pb.ControlIHave{ihave}, Iwant: []*pb.ControlIWant{iwant}, Graft: []*pb.ControlGraft{graft}}

	var m rpcMeter
	before := m.mark()
	m.RecvRPC(rpc)
	m.SendRPC(rpc, "")
	m.SendRPC(&lpubsub.RPC{}, "") // nothing in it
	d := m.mark().since(before)
	want := rpcCounts{msgs: int64(proto.Size(m1) + proto.Size(m2)), copies: 2, ihave: int64(proto.Size(ihave)),
		iwant: int64(proto.Size(iwant)), mesh: int64(proto.Size(graft))}
	if d.in != want || d.out != want {
		t.Fatalf("in %+v, out %+v, want %+v each", d.in, d.out, want)
	}
}
