package topic

// ReadBatches reads msgs until the channel closes. It waits for a message,
// then takes those already waiting without blocking, until the batch holds
// max of them, and hands the batch to handle. convert turns a message into
// a batch entry, or reports false to leave it out (our own, a malformed
// one); a batch left empty is not handed on. The batch's backing array is
// reused: handle must not keep the slice.
func ReadBatches[M, T any](msgs <-chan M, max int, convert func(M) (T, bool), handle func([]T)) {
	var batch []T
	add := func(m M) {
		if t, ok := convert(m); ok {
			batch = append(batch, t)
		}
	}
	for m := range msgs {
		add(m)
	drain:
		for len(batch) < max {
			select {
			case m, ok := <-msgs:
				if !ok {
					break drain
				}
				add(m)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			handle(batch)
			batch = batch[:0]
		}
	}
}
