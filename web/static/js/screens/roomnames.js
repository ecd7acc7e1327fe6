// How a live room shows a person.
//
// Names in a room are claims anyone can make, so the daemon decides what to
// show (a RoomPerson's display: an accepted contact by our name for them,
// anyone else by the name they claim, followed by the end of their peer ID
// when another key uses the same name, or by the end of the peer ID alone);
// the page shows it as a peer's text, with the role and the verification
// mark beside it.

import {h, remote} from '../dom.js';

const roleRank = {listener: 0, speaker: 1, moderator: 2, host: 3};

// atLeast reports whether role is other or a higher one.
export const atLeast = (role, other) => (roleRank[role] ?? 0) >= roleRank[other];

// roleTag is a person's role as a tag; listeners, the many, have none.
export function roleTag(role) {
  return role && role !== 'listener' ? h('span', {class: `tag role role-${role}`}, role) : null;
}

// personTitle says whose name it is: ours for a contact, else their claim.
function personTitle(p) {
  if (p.me) return `You · ${p.id}`;
  if (p.contact) return `Your contact${p.verified ? ', safety number verified' : ''} · ${p.id}`;
  return p.name ? `Calls themself “${p.name}” (a name anyone can claim) · ${p.id}` : `Gives no name · ${p.id}`;
}

// personEl shows a RoomPerson: the name to show, a ✓ when we checked the
// contact's safety number, and the role.
export function personEl(p, cls = 'sender') {
  return h('span', {class: cls, title: personTitle(p)},
    remote(p.display, {class: 'person-name'}),
    p.verified ? h('span', {class: 'verified', role: 'img', 'aria-label': 'verified', title: 'Safety number verified'}, '✓') : null,
    roleTag(p.role));
}
