// Status: the node's connections, reachability, DHT routing table and
// outbox, the addresses peers see, relays, how each contact online is
// linked (direct, hole punched, relayed), and whether the live event
// stream is up. The shell polls the
// status every few seconds; this screen redraws on each poll.

import {h, replace, remote} from '../dom.js';

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app) {
    const table = h('dl', {class: 'status', id: 'status-table'});
    main.append(h('h1', {tabindex: '-1'}, 'Status'), h('section', {class: 'panel'}, table));
    const row = (label, value, id) => [h('dt', {}, label), h('dd', {id}, value)];
    const addrList = addrs => h('ul', {class: 'plain'}, addrs.map(a => h('li', {}, h('code', {}, a))));
    const draw = () => {
      const s = app.status;
      const stream = {open: 'connected', connecting: 'connecting…', down: 'disconnected: reconnecting…'}[app.stream];
      if (!s) {
        replace(table, row('Daemon', 'not answering', 'st-daemon'), row('Live updates', stream, 'st-stream'));
        return;
      }
      replace(table,
        row('Peer ID', h('code', {class: 'break'}, s.peer_id), 'st-peer'),
        row('Connected peers', String(s.connected_peers), 'st-peers'),
        row('Reachability', s.reachability, 'st-reach'),
        row('DHT', `${s.dht_mode} mode, ${s.routing_table_size} peers in the routing table`, 'st-dht'),
        row('Outbox', s.outbox_pending ? `${s.outbox_pending} messages waiting` : 'empty', 'st-outbox'),
        row('Listening on', addrList(s.listen_addrs), 'st-listen'),
        ...(s.observed_addrs?.length ? row('Seen by peers as', addrList(s.observed_addrs), 'st-observed') : []),
        ...(s.relays?.length ? row('Relays', addrList(s.relays), 'st-relays') : []),
        ...(s.links?.length ? row('Contacts online', h('ul', {class: 'plain'}, s.links.map(l =>
          h('li', {}, remote(l.name || l.peer_id.slice(-8)), `: ${l.kind}${l.hole_punched && l.kind === 'direct' ? ' (hole punched)' : ''}`))), 'st-links') : []),
        row('Live updates', stream, 'st-stream'));
    };
    draw();
    return app.watchStatus(draw);
  },
};
