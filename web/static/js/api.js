// The local API, as the page uses it: every call carries the CSRF value the
// daemon put in the page; the session cookie goes by itself. The bearer
// token is never seen here.

const csrf = document.querySelector('meta[name="backchannel-csrf"]')?.content ?? '';

// What an error code means to a person; the server's message follows.
const hints = {
  not_allowed: 'Only the room\'s host or a moderator (or the group\'s owner or an admin) can do that',
  muted: 'You are muted in this room for now',
  not_speaker: 'Private questions go to the room\'s host, moderators and speakers only',
  request_pending: 'Accept their request first',
  unknown_peer: 'No contact by that name: add them on the Identity screen',
  blocked: 'You blocked them: unblock them on the Identity screen first',
  ambiguous_name: 'Two contacts have that name: use the peer ID',
  key_pending: 'The group\'s newest key has not arrived yet: try again in a moment',
  invalid_group: 'Not possible in this group',
  mailbox_refused: 'That peer will not hold your mail: a mailbox is a helper, or a contact who chose to hold mail for contacts',
  no_mailbox: 'They have no mailbox that you know of',
};

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Listeners told when a call fails because the session is gone (the daemon
// restarted): the page must be reloaded to get a new one.
const sessionLost = new Set();
export function onSessionLost(fn) { sessionLost.add(fn); }

export async function call(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {'X-Backchannel-CSRF': csrf}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (err) {
    throw new APIError(0, 'offline', 'the daemon does not answer: is it running?');
  }
  if (resp.status === 204) return null;
  const type = resp.headers.get('Content-Type') || '';
  if (!resp.ok) {
    let code = 'error', msg = `${resp.status} ${resp.statusText}`;
    if (type.startsWith('application/json')) {
      const e = await resp.json();
      code = e.code; msg = e.error;
    }
    if (resp.status === 401) sessionLost.forEach(fn => fn());
    throw new APIError(resp.status, code, hints[code] ? `${hints[code]} (${msg})` : msg);
  }
  if (type.startsWith('application/json')) return resp.json();
  return resp.blob();
}

export const get = path => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const put = (path, body) => call('PUT', path, body);
export const del = path => call('DELETE', path);

export const enc = encodeURIComponent;

// EventStream keeps the WebSocket of /v1/events open, reconnecting with
// backoff, and reports its state: 'connecting', 'open' or 'down'.
export class EventStream {
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.delay = 500;
    this.connect();
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/events`;
    this.onState('connecting');
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => { opened = true; this.delay = 500; this.onState('open'); };
    ws.onmessage = msg => {
      try { this.onEvent(JSON.parse(msg.data)); } catch (err) { console.error('event', err); }
    };
    ws.onclose = () => {
      this.onState('down', opened);
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }
}
