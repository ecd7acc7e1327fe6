// How a 1:1 message we sent shows its state (queued, sent, in the
// recipient's mailbox, delivered, read, failed): in the thread and in the
// Inbox's previews. A module of its own so that the Inbox does not load the
// thread's screen.

import {h} from './dom.js';

export function stateLabel(s) {
  return {queued: 'Queued', sent: 'Sent', failed: 'Not sent', in_mailbox: 'In mailbox', delivered: 'Delivered', read: 'Read', received: '', seen: ''}[s] ?? s;
}

// stateTitle explains a state where its label alone may not.
export function stateTitle(s) {
  return {
    queued: 'Waiting to be sent',
    in_mailbox: 'Held by the recipient\'s mailbox until they come online',
    failed: 'Never delivered: given up after the outbox\'s time limit, or cancelled',
  }[s] ?? null;
}

// stateEl is how an outbound message shows its state.
export function stateEl(s) {
  return h('span', {class: `state state-${s}`, title: stateTitle(s)},
    s === 'in_mailbox' ? h('span', {class: 'state-icon', 'aria-hidden': 'true'}, '✉ ') : null, stateLabel(s));
}
