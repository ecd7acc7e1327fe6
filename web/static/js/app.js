// The page's shell: navigation, routing, the event stream, notices and
// what every screen shares (our identity, contacts' names, announcements).

import {get, EventStream, onSessionLost} from './api.js';
import {h, replace, shortID, debounce, visible, setRemote} from './dom.js';
// The screens, in navigation order: what the shell needs of each before
// its module is loaded. A screen's module (load) is imported when the
// screen is first opened; its default export is {mount}, where mount(main,
// app, arg) draws it and returns a cleanup function. title(arg, app) names
// it in the document's title (and, without arg, in the navigation). Screens
// without nav are reached from others (#/chat/PEER, #/room/ID, #/group/ID);
// navAs is the navigation entry they belong to.
const screens = [
  {name: 'inbox', nav: true, title: () => 'Inbox', load: () => import('./screens/inbox.js')},
  {name: 'requests', nav: true, title: () => 'Requests', load: () => import('./screens/requests.js')},
  {name: 'groups', nav: true, title: () => 'Groups', load: () => import('./screens/groups.js')},
  {name: 'rooms', nav: true, title: () => 'Rooms', load: () => import('./screens/rooms.js')},
  {name: 'identity', nav: true, title: () => 'Identity', load: () => import('./screens/identity.js')},
  {name: 'status', nav: true, title: () => 'Status', load: () => import('./screens/status.js')},
  {name: 'chat', navAs: 'inbox', title: (peer, app) => app.name(peer), load: () => import('./screens/thread.js')},
  {name: 'room', navAs: 'rooms', title: () => 'Room', load: () => import('./screens/room.js')},
  {name: 'group', navAs: 'groups', title: () => 'Group', load: () => import('./screens/group.js')},
];

// loaded holds each screen's module once asked for, by name: a promise, so
// that a screen opened again while it loads waits for the same import. A
// failed import is forgotten, to be tried again.
const loaded = new Map();

function load(screen) {
  let p = loaded.get(screen.name);
  if (!p) {
    p = screen.load().then(m => m.default);
    p.catch(() => loaded.delete(screen.name));
    loaded.set(screen.name, p);
  }
  return p;
}

const app = {
  self: null,
  contacts: new Map(),
  status: null,
  stream: 'connecting',
  listeners: new Set(),

  // name is what we call a peer: our name for the contact, else the name it
  // gave itself, else a short form of its ID.
  name(peerID) {
    if (this.self && peerID === this.self.peer_id) return 'You';
    const c = this.contacts.get(peerID);
    return (c && (c.name || c.profile_name)) || shortID(peerID);
  },

  // announce reads text out to screen readers.
  announce(text) {
    const el = document.getElementById('announce');
    el.textContent = '';
    setTimeout(() => { el.textContent = visible(text); }, 50);
  },

  go(hash) { location.hash = hash; },

  async refreshContacts() {
    const {contacts} = await get('/v1/contacts');
    this.contacts = new Map(contacts.map(c => [c.peer_id, c]));
  },

  // on adds an event listener for the current screen; it is removed when the
  // screen goes.
  on(fn) { this.listeners.add(fn); screenListeners.push(fn); },
};

let screenListeners = [];
let cleanup = null;
let firstRoute = true;
let routing = 0; // counts routes: only the latest mounts its screen

async function route() {
  const [, name = 'inbox', ...rest] = (location.hash || '#/inbox').split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : '';
  const screen = screens.find(s => s.name === name) || screens[0];
  const seq = ++routing;
  const first = firstRoute;
  firstRoute = false;
  if (cleanup) cleanup();
  cleanup = null;
  for (const fn of screenListeners) app.listeners.delete(fn);
  screenListeners = [];
  const main = document.getElementById('main');
  main.replaceChildren();
  delete main.dataset.screen;
  document.title = visible(`${screen.title(arg, app)} · Backchannel`);
  drawNav(screen);
  let mod;
  try {
    mod = await load(screen);
  } catch (err) {
    if (seq !== routing) return;
    replace(main, h('p', {class: 'error', role: 'alert'}, `Cannot load this screen: ${err.message}. `,
      h('button', {type: 'button', onclick: () => location.reload()}, 'Reload')));
    return;
  }
  if (seq !== routing) return; // another route came while this one loaded
  main.dataset.screen = screen.name;
  cleanup = mod.mount(main, app, arg) || null;
  // Focus moves to the new screen's heading, unless the screen put it
  // somewhere itself (a conversation's composer).
  if (!first && !main.contains(document.activeElement)) {
    const heading = main.querySelector('h1');
    (heading || main).focus();
  }
}

function drawNav(current) {
  const nav = document.getElementById('nav');
  const activeName = current.navAs || current.name;
  replace(nav, screens.filter(s => s.nav).map(s => h('li', {},
    h('a', {href: `#/${s.name}`, id: `nav-${s.name}`, 'aria-current': s.name === activeName ? 'page' : false},
      s.title('', app), h('span', {class: 'badge', id: `badge-${s.name}`, hidden: true})))));
  refreshBadges();
}

const refreshBadges = debounce(async () => {
  try {
    const [inb, reqs, grs] = await Promise.all([get('/v1/inbox'), get('/v1/requests'), get('/v1/groups')]);
    badge('inbox', inb.conversations.reduce((n, c) => n + c.unread, 0), 'unread');
    badge('requests', reqs.conversations.length, 'waiting');
    // A group's unread lines, and invitations waiting for an answer.
    badge('groups', grs.groups.reduce((n, g) => n + (g.state === 'joined' ? g.unread : g.state === 'invited' ? 1 : 0), 0), 'unread or invitations');
  } catch (err) { /* the notices say why */ }
}, 150);

function badge(name, n, what) {
  const el = document.getElementById(`badge-${name}`);
  if (!el) return;
  el.hidden = n === 0;
  el.textContent = n;
  el.setAttribute('aria-label', `${n} ${what}`);
}

// Notices: one per cause, shown at the top of every screen until the cause
// goes away.
function notice(id, text, extra) {
  const box = document.getElementById('notices');
  let el = document.getElementById(`notice-${id}`);
  if (!text) { if (el) el.remove(); return; }
  if (!el) { el = h('div', {class: 'notice', id: `notice-${id}`, role: 'alert'}); box.append(el); }
  replace(el, text, extra ? ' ' : null, extra);
}

// pollSoon re-reads the status shortly after an event: a message that
// arrives proves a connection sooner than the next poll.
const pollSoon = debounce(() => pollStatus(), 300);

function onEvent(e) {
  if (e.type !== 'typing') pollSoon();
  if (e.type === 'contact') app.refreshContacts().catch(() => {});
  if (['message', 'message_state', 'request', 'contact', 'group_message', 'group_invite', 'group_member'].includes(e.type)) refreshBadges();
  if (e.type === 'group_invite') announceInvite(e.group.group_id);
  // (An invitation's 1:1 message is announced from its group_invite event.)
  if ((e.type === 'message' || e.type === 'request') && e.message && e.message.direction === 'inbound' && e.message.kind !== 'group_invite') {
    const who = app.name(e.message.peer_id);
    app.announce(e.message.kind === 'reaction' ? `${who} reacted ${e.message.text}`
      : e.type === 'request' ? `New request from ${who}: ${e.message.text}` : `New message from ${who}: ${e.message.text}`);
  }
  for (const fn of app.listeners) {
    try { fn(e); } catch (err) { console.error(err); }
  }
}

async function announceInvite(id) {
  try {
    const g = await get(`/v1/groups/${encodeURIComponent(id)}`);
    app.announce(`${g.inviter_id ? app.name(g.inviter_id) : 'Someone'} invited you to the group ${g.name}`);
  } catch (err) { /* the Groups screen shows it anyway */ }
}

let everOpen = false;

function onStreamState(state, wasOpen) {
  app.stream = state;
  document.body.dataset.stream = state;
  if (state === 'open') {
    notice('stream', null);
    for (const fn of app.listeners) fn({type: 'resync'}); // we may have missed events
    refreshBadges();
  } else if (state === 'down') {
    everOpen ||= wasOpen;
    notice('stream', everOpen ? 'Live updates stopped: the connection to your daemon dropped. Reconnecting…'
      : 'Cannot reach your daemon\'s live updates. Retrying…');
  }
  for (const fn of statusWatchers) fn();
}

const statusWatchers = new Set();
app.watchStatus = fn => { statusWatchers.add(fn); return () => statusWatchers.delete(fn); };

async function pollStatus() {
  try {
    app.status = await get('/v1/status');
    notice('daemon', null);
    notice('peers', app.status.connected_peers === 0
      ? 'Your node has no connections to other peers: messages wait in the outbox until someone is reachable.' : null);
  } catch (err) {
    app.status = null;
    notice('peers', null);
    if (err.status !== 401) notice('daemon', err.code === 'offline' ? 'Your daemon does not answer: is it running?' : `Your daemon answers with an error: ${err.message}`);
  }
  for (const fn of statusWatchers) fn();
}

async function start() {
  onSessionLost(() => notice('session', 'This page\'s session has ended (the daemon restarted): reload the page and log in again.',
    h('button', {type: 'button', onclick: () => location.reload()}, 'Reload')));
  try {
    app.self = await get('/v1/id');
    await app.refreshContacts();
    setRemote(document.getElementById('me'), app.self.name || shortID(app.self.peer_id));
  } catch (err) {
    notice('daemon', `Cannot load your identity: ${err.message}`);
  }
  new EventStream(onEvent, onStreamState);
  pollStatus();
  setInterval(pollStatus, 5000);
  window.addEventListener('hashchange', route);
  route();
}

// The skip link moves focus to the screen's content. Left to itself it
// would set the hash to #main, which the router takes for an unknown
// screen and answers with the Inbox.
document.querySelector('a.skip').addEventListener('click', e => {
  e.preventDefault();
  document.getElementById('main').focus();
});

start();
