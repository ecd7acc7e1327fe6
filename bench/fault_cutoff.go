package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
)

// cutoffListeners is how many listeners the room has, one of them cut off.
const cutoffListeners = 4

// runRoomCutoff: the host of a room of five speaks cutoffLines lines at 50 a
// second; after a third of them one listener goes away (its node closes,
// as when its machine drops off the network) and after two thirds it comes
// back from its store. Sync must repair the gap: every listener ends with
// every line, once.
func runRoomCutoff(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	const syncEvery = time.Second
	e.step("starting a room of %d nodes", cutoffListeners+1)
	f, err := newRoomFixture(ctx, e, c, cutoffListeners+1, syncEvery)
	if err != nil {
		return res, err
	}
	defer f.close()
	if err := sleep(ctx, e.settle); err != nil {
		return res, err
	}
	lines := e.cutoffLines
	cutAt, backAt := lines/3, 2*lines/3
	var (
		missedFrom, missedTo int
		repair               repairTimer
	)
	e.step("%d lines at %d/s; listener 0 away from line %d to line %d", lines, roomRate, cutAt, backAt)
	ids, err := f.speak(ctx, lines, func(i int) error {
		switch i {
		case cutAt:
			missedFrom = i + 1
			e.step("line %d: listener 0 cut off", i)
			return c.stop(f.listeners[0])
		case backAt:
			missedTo = i
			e.step("line %d: listener 0 back", i)
			cfg := c.configOf(f.listeners[0])
			back := time.Now()
			nd, err := c.start(ctx, cfg)
			if err != nil {
				return err
			}
			f.listeners[0] = nd
			f.listen(0, nd)
			// Time the repair in the background: until it holds every
			// line sent before it came back.
			before := f.sentSoFar()
			repair.start(ctx, e, back, func() (bool, error) {
				n, err := f.delivered(before, []*node.Node{nd})
				return n == len(before), err
			})
		}
		return nil
	})
	repairTime, repairErr := repair.wait()
	if err != nil {
		return res, err
	}
	if repairErr != nil {
		return res, repairErr
	}
	e.step("waiting until every listener holds every line")
	want := len(ids) * cutoffListeners
	got := 0
	werr := waitFor(ctx, "every line at every listener", e.deliveryTimeout, 50*time.Millisecond, func() (bool, error) {
		var err error
		got, err = f.delivered(ids, f.listeners)
		return got == want, err
	})
	if werr != nil && !errors.Is(werr, ErrTimeout) {
		return res, werr
	}
	faults := Faults{Sent: want, Delivered: got, Lost: want - got, Duplicated: f.arr.duplicates()}
	res.Faults = &faults
	res.Figures = append(faultFigures(faults),
		fig("lines sent while listener 0 was away", "msgs", float64(missedTo-missedFrom+1), nil),
		fig("back to gap repaired", "s", repairTime.Seconds(), nil),
	)
	res.Note = fmt.Sprintf("sent counts (line, listener) pairs: %d lines to %d listeners; the listener away closes its node and comes back "+
		"from its home; room sync every %v; duplicates counted as a line stored twice at a listener", len(ids), cutoffListeners, syncEvery)
	return res, nil
}

// sentSoFar returns the IDs of the lines the host has sent.
func (f *roomFixture) sentSoFar() []room.MessageID {
	f.arr.mu.Lock()
	defer f.arr.mu.Unlock()
	out := make([]room.MessageID, 0, len(f.arr.sent))
	for id := range f.arr.sent {
		out = append(out, id)
	}
	return out
}
