// Rooms: the live rooms we host or joined; create one, join one by name or
// ID (each with the name we go by in it), or look rooms up by name in the
// DHT.

import {get, post, enc} from '../api.js';
import {h, replace, throttle, form, action, shortID, remote} from '../dom.js';
import {nameChoice} from './roomnames.js';

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app) {
    const list = h('ul', {class: 'rooms', id: 'rooms-list', 'aria-label': 'Your rooms'});
    const empty = h('p', {class: 'empty', hidden: true}, 'You are in no room yet.');
    const found = h('ul', {class: 'rooms found', id: 'discover-results', 'aria-label': 'Rooms found'});
    const joinAs = nameChoice('join', app, 'Your name in the room');
    const createAs = nameChoice('create', app, 'Your name in the room');
    main.append(
      h('h1', {tabindex: '-1'}, 'Rooms'),
      list, empty,
      h('div', {class: 'columns'},
        h('section', {class: 'panel', 'aria-labelledby': 'join-h'},
          h('h2', {id: 'join-h'}, 'Join a room'),
          form('join-room', [['ref', 'Room name or ID', {required: true, autocomplete: 'off'}], joinAs.el], 'Join', async v => {
            const r = await post('/v1/rooms/join', {ref: v.ref, as: joinAs.value()});
            app.go(`#/room/${r.id}`);
          }),
          h('h2', {id: 'discover-h'}, 'Find rooms by name'),
          form('discover-room', [['name', 'Name', {required: true, autocomplete: 'off'}]], 'Search', async v => {
            const {rooms} = await get(`/v1/rooms/discover?name=${enc(v.name)}`);
            replace(found, rooms.map(r => roomItem(app, r, true)));
            return rooms.length ? `${rooms.length} found` : 'None found';
          }),
          found),
        h('section', {class: 'panel', 'aria-labelledby': 'create-h'},
          h('h2', {id: 'create-h'}, 'Host a room'),
          form('create-room', [
            ['name', 'Name', {required: true, autocomplete: 'off'}],
            ['description', 'Description', {autocomplete: 'off'}],
            createAs.el,
          ], 'Create', async v => {
            const r = await post('/v1/rooms', {name: v.name, description: v.description || undefined, as: createAs.value()});
            app.go(`#/room/${r.id}`);
          }))));

    const load = throttle(async () => {
      const {rooms} = await get('/v1/rooms');
      empty.hidden = rooms.length > 0;
      replace(list, rooms.map(r => roomItem(app, r, false)));
    }, 100);
    app.on(e => { if (e.type === 'resync' || (e.type === 'room_message' && e.room.kind === 'presence')) load(); });
    load();
    return () => load.cancel();
  },
};

function roomItem(app, r, discovered) {
  const host = r.host_id === app.self?.peer_id ? 'you host it' : ['hosted by ', remote(app.name(r.host_id))];
  return h('li', {class: 'room-item', dataset: {room: r.id}},
    h('a', {href: r.joined ? `#/room/${r.id}` : false, class: 'room-name'}, remote(r.name)),
    h('span', {class: 'room-meta'}, ' ', host, r.joined ? ` · ${r.listeners} listening` : '',
      r.start ? ` · starts ${new Date(r.start).toLocaleString()}` : ''),
    r.description ? h('p', {class: 'room-desc', dir: 'auto'}, remote(r.description, {multiline: true})) : null,
    discovered && !r.joined ? action('Join', async () => {
      const j = await post('/v1/rooms/join', {ref: r.id});
      app.go(`#/room/${j.id}`);
    }, {'aria-label': `Join ${r.name}`}) : null,
    discovered ? h('span', {class: 'peer-id'}, ` ${shortID(r.id)}`) : null);
}
