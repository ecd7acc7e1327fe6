package mailbox

import "github.com/backchannel/backchannel/node/errs"

// ErrRefused is errs.ErrMailboxRefused, the answer a mailbox gives to what
// it will not do; its text travels to the asker.
var ErrRefused = errs.ErrMailboxRefused
