package pubsub

import (
	"context"
	"errors"
	"testing"
)

func TestTopicClose(t *testing.T) {
	p := testPubSub(t)
	top := join(t, p, "/test/close", acceptAll)
	if _, err := p.Join("/test/close", acceptAll); !errors.Is(err, ErrJoined) {
		t.Errorf("second Join: %v, want ErrJoined", err)
	}
	for range 2 {
		if err := top.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, ok := <-top.Messages(); ok {
		t.Error("Messages still open after Close")
	}
	if err := top.Publish(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	// The validator was unregistered and the topic left: joining again works.
	again := join(t, p, "/test/close", acceptAll)
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPubSubClose(t *testing.T) {
	p, err := New(context.Background(), Config{Host: testHost(t), Heartbeat: testHeartbeat})
	if err != nil {
		t.Fatal(err)
	}
	t1 := join(t, p, "/test/one", acceptAll)
	join(t, p, "/test/two", acceptAll)
	for range 2 {
		if err := p.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, ok := <-t1.Messages(); ok {
		t.Error("a topic's Messages still open after PubSub.Close")
	}
	if err := t1.Close(); err != nil {
		t.Errorf("topic Close after PubSub.Close: %v", err)
	}
	if _, err := p.Join("/test/three", acceptAll); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close: %v, want ErrClosed", err)
	}
}

// TestContextEnds: when New's context ends, topics' Messages close and
// Close still works.
func TestContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := New(ctx, Config{Host: testHost(t), Heartbeat: testHeartbeat})
	if err != nil {
		t.Fatal(err)
	}
	top := join(t, p, "/test/ctx", acceptAll)
	cancel()
	for range top.Messages() {
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestJoinNeedsValidator(t *testing.T) {
	p := testPubSub(t)
	if _, err := p.Join("/test/nil", nil); !errors.Is(err, ErrNoValidator) {
		t.Fatalf("Join without validator: %v, want ErrNoValidator", err)
	}
}

func TestNewNeedsHost(t *testing.T) {
	if _, err := New(context.Background(), Config{}); err == nil {
		t.Fatal("New without a host succeeded")
	}
}

func TestResultString(t *testing.T) {
	for r, want := range map[Result]string{Accept: "accept", Reject: "reject", Ignore: "ignore", Result(9): "unknown"} {
		if got := r.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(r), got, want)
		}
	}
	if Result(9).lib() != Reject.lib() {
		t.Error("an unknown result does not fail closed")
	}
}
