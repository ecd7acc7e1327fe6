// How a live room shows a person, and the choice of the name we go by in a
// room (the Room screen, and the Rooms screen's join and create forms).
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

// nameChoice is the group of choices for the name we go by in a room: our
// profile name (the default), a name for this room, or none. value() is
// the API's RoomNameChoice, and throws when "a name for this room" has no
// name typed; set(as) shows a RoomNameChoice. Ids start with prefix.
export function nameChoice(prefix, app, legend) {
  const radios = {};
  const ownName = h('input', {id: `${prefix}-as-name`, autocomplete: 'off', maxlength: 64});
  const option = (value, label, ...extra) => {
    const id = `${prefix}-as-${value}`;
    radios[value] = h('input', {type: 'radio', name: `${prefix}-as`, id, value, checked: value === 'profile'});
    return h('div', {class: 'choice'}, radios[value], h('label', {for: id}, label), ...extra);
  };
  const profile = app.self?.name;
  const el = h('fieldset', {class: 'name-choice', id: `${prefix}-as`},
    h('legend', {}, legend),
    option('profile', ['Your profile name', profile ? [' (', remote(profile), ')'] : ' (you have none)']),
    option('own', 'A name for this room:',
      h('label', {for: ownName.id, class: 'sr-only'}, 'Your name for this room'), ownName),
    option('none', 'No name (the room sees the end of your peer ID)'));
  ownName.addEventListener('input', () => { radios.own.checked = true; });
  return {
    el,
    value() {
      const chosen = Object.values(radios).find(r => r.checked)?.value || 'profile';
      if (chosen === 'profile') return {use_profile: true, name: ''};
      if (chosen === 'none') return {use_profile: false, name: ''};
      const name = ownName.value.trim();
      if (!name) {
        ownName.focus();
        throw new Error('Type the name for this room, or choose another option');
      }
      return {use_profile: false, name};
    },
    set(as) {
      const chosen = as.use_profile ? 'profile' : as.name ? 'own' : 'none';
      radios[chosen].checked = true;
      ownName.value = as.use_profile ? '' : as.name;
    },
  };
}

// nameSummary says, in a sentence's words, the name we go by now.
export function nameSummary(as, myName) {
  if (!myName) return 'no name (the room sees the end of your peer ID)';
  return [remote(myName), as?.use_profile ? ' (your profile name)' : ''];
}
