// Requests: strangers' first messages, kept apart from the inbox until we
// accept, decline or block. Each shows where it came from: the context the
// sender gave (e.g. a room), else a room where we saw the sender.

import {get, post, enc} from '../api.js';
import {h, replace, timeEl, debounce, throttle, action, shortID, remote} from '../dom.js';

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app) {
    const list = h('ul', {class: 'requests', id: 'requests-list', 'aria-label': 'Message requests'});
    const empty = h('p', {class: 'empty', hidden: true}, 'No requests. Messages from people who are not your contacts wait here.');
    main.append(
      h('h1', {tabindex: '-1'}, 'Requests'),
      h('p', {class: 'hint'}, 'They cannot see whether you read these. Accepting moves the conversation to your inbox and tells them your profile name; declining deletes it without telling them; blocking also drops everything they send later.'),
      list, empty);

    const load = debounce(async () => {
      const [{conversations}, {rooms}] = await Promise.all([get('/v1/requests'), get('/v1/rooms')]);
      empty.hidden = conversations.length > 0;
      const items = await Promise.all(conversations.map(async c => {
        const [{messages}, where] = await Promise.all([
          get(`/v1/conversations/${enc(c.peer_id)}/messages?limit=20`),
          context(app, c.peer_id, rooms, c.origin),
        ]);
        return requestItem(app, c, messages.reverse(), where, load);
      }));
      replace(list, items);
    }, 100);
    // Room messages may show where a stranger was seen: look again now and
    // then while a room is busy.
    const again = throttle(load, 2000);
    app.on(e => {
      if (['request', 'message', 'contact', 'resync'].includes(e.type)) load();
      if (e.type === 'room_message' && list.children.length) again();
    });
    load();
    return () => { load.cancel(); again.cancel(); };
  },
};

function requestItem(app, c, messages, where, reload) {
  const name = c.name || `Peer ${shortID(c.peer_id)}`;
  const p = enc(c.peer_id);
  // Declined or blocked, the request goes: the focus moves off it first
  // (see focusAfter), not down to <body> with it.
  const done = what => { app.announce(`${what} ${name}`); focusAfter(li); reload(); };
  const li = h('li', {class: 'request panel', dataset: {peer: c.peer_id}},
    h('h2', {class: 'request-from'}, remote(name),
      c.name ? h('span', {class: 'peer-id', title: c.peer_id}, ` ${shortID(c.peer_id)}`) : null),
    where ? h('p', {class: 'request-context'}, where) : h('p', {class: 'request-context none'}, 'No context: not a contact, not seen in your rooms'),
    h('ol', {class: 'request-messages', 'aria-label': `Messages from ${name}`},
      messages.map(m => h('li', {}, remote(m.text, {multiline: true}), ' ', timeEl(m.sent)))),
    h('div', {class: 'actions'},
      action('Accept', async () => {
        await post(`/v1/requests/${p}/accept`);
        await app.refreshContacts();
        app.announce(`Accepted ${name}`);
        app.go(`#/chat/${p}`);
      }, {class: 'primary', 'aria-label': `Accept ${name}`}),
      action('Decline', async () => { await post(`/v1/requests/${p}/decline`); done('Declined'); },
        {'aria-label': `Decline ${name}`}),
      action('Block', async () => { await post(`/v1/requests/${p}/block`); done('Blocked'); },
        {class: 'danger', 'aria-label': `Block ${name}`})));
  return li;
}

// focusAfter moves the keyboard focus off item, which is about to go, to
// the next item's first button (or the previous one's), else the heading.
function focusAfter(item) {
  const near = (item.nextElementSibling || item.previousElementSibling)?.querySelector('button');
  (near || document.querySelector('main h1'))?.focus();
}

// context says where a request came from: the context its sender attached
// (the conversation's origin, such as "room:<id>" for a private question
// from a room), else the rooms we are in where the sender has spoken or
// asked.
async function context(app, peerID, rooms, convOrigin) {
  const c = app.contacts.get(peerID);
  const origin = convOrigin || (c && c.origin);
  if (origin) {
    if (origin.startsWith('room:')) {
      const id = origin.slice(5);
      const r = rooms.find(r => r.id === id);
      return ['Sent from room “', remote(r ? r.name : shortID(id)), '”'];
    }
    return ['Context: ', remote(origin)];
  }
  const seen = [];
  await Promise.all(rooms.filter(r => r.joined).map(async r => {
    try {
      const [chat, qs] = await Promise.all([
        get(`/v1/rooms/${r.id}/chat?limit=500`), get(`/v1/rooms/${r.id}/questions`)]);
      if (chat.messages.some(m => m.sender_id === peerID) || qs.questions.some(q => q.sender_id === peerID)) seen.push(r.name);
    } catch (err) { /* a room that fails is left out */ }
  }));
  return seen.length ? ['Seen in room ', seen.map((n, i) => [i ? ', ' : '', '“', remote(n), '”'])] : '';
}
