// Small helpers to build the DOM without a framework.

// h makes an element: h('button', {class: 'x', onclick: f}, 'text', child).
// Attributes starting with "on" become listeners; false and null ones are
// left out; children may be strings, nodes, arrays or null.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : (k === 'title' || k.startsWith('aria-') ? visible(v) : v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    // A string that reaches h without remote() (a peer's words inside a
    // sentence of ours) still shows its controls as tokens; newlines and
    // tabs, harmless in a page, stay.
    else appendVisible(el, String(c), true);
  }
}

// What may not reach the page as it is in a peer's text: C0 and C1 controls,
// DEL, the bidirectional controls (U+202E makes "gnp\u202e.exe" read
// "exe.png") and the line and paragraph separators. The CLI's sanitize and
// crypto/safename draw the same line.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const unsafeAll = new RegExp(unsafe.source, 'g');
const unsafeSplit = new RegExp(`(${unsafe.source})`);

// token is how an unsafe character shows: "\x1b", "\n", "\u009b", "U+202E".
export function token(ch) {
  const c = ch.codePointAt(0);
  const hex = w => c.toString(16).padStart(w, '0');
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  if (c < 0x20 || c === 0x7f) return `\\x${hex(2)}`;
  if (c <= 0x9f) return `\\u${hex(4)}`;
  return `U+${hex(4).toUpperCase()}`;
}

// visible is s with each unsafe character replaced by its token, as a plain
// string: for attributes (title, aria-label), the page's title and
// announcements, where no element can hold a styled token.
export function visible(s) {
  return String(s ?? '').replace(unsafeAll, token);
}

function appendVisible(el, s, keepLines) {
  if (!unsafe.test(s)) {
    el.append(s);
    return;
  }
  const parts = s.split(unsafeSplit); // text, then a character, then text…
  parts.forEach((part, i) => {
    if (i % 2 === 0 || (keepLines && (part === '\n' || part === '\t'))) {
      if (part) el.append(part);
      return;
    }
    const cp = `U+${part.codePointAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
    el.append(h('span', {class: 'ctl', title: `hidden character ${cp} from the sender, shown instead of acting`}, token(part)));
  });
}

// remote is how every screen shows text a peer wrote or named (a message,
// a name, a preview, a room's or a group's line): in an element of its own,
// isolated from the text around it (dir="auto", CSS unicode-bidi: isolate)
// so that a right-to-left name cannot reorder our words, with each control
// character and bidirectional control shown as a visible token in a styled
// span (.ctl) instead of acting. opts.multiline keeps newlines and tabs as
// they are (a message's body); elsewhere they show as "\n" and "\t".
// opts.tag (default span) and opts.class make the element.
export function remote(text, opts = {}) {
  const el = document.createElement(opts.tag || 'span');
  el.setAttribute('dir', 'auto');
  el.className = opts.class ? `remote ${opts.class}` : 'remote';
  appendVisible(el, String(text ?? ''), !!opts.multiline);
  return el;
}

// setRemote replaces el's content with remote text, for elements kept across
// redraws (a heading, a typing line).
export function setRemote(el, text, opts = {}) {
  el.replaceChildren(remote(text, opts));
  return el;
}

// replace swaps el's children for the given ones. If the focus was inside
// el (a keyboard user on a message's button while the list is redrawn live),
// it goes back to the same control of the same item.
export function replace(el, ...children) {
  const active = document.activeElement;
  let key = null;
  if (active && active !== el && el.contains(active)) {
    const item = active.closest('[data-id], [data-peer], [data-room]');
    key = {
      item: item && (item.dataset.id || item.dataset.peer || item.dataset.room),
      label: active.getAttribute('aria-label') || active.textContent,
    };
  }
  el.replaceChildren();
  append(el, children);
  if (key) {
    const same = [...el.querySelectorAll('button, a, input, summary')].find(c => {
      const item = c.closest('[data-id], [data-peer], [data-room]');
      const id = item && (item.dataset.id || item.dataset.peer || item.dataset.room);
      return id === key.item && (c.getAttribute('aria-label') || c.textContent) === key.label;
    });
    if (same) same.focus();
  }
  return el;
}

// shortID is a short form of a peer or room ID: its last characters (every
// Ed25519 peer ID starts alike, with 12D3KooW).
export function shortID(id) {
  if (!id) return '';
  return id.length > 16 ? `…${id.slice(-8)}` : id;
}

export function time(t) {
  if (!t) return '';
  const d = new Date(t);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})
    : d.toLocaleDateString([], {month: 'short', day: 'numeric'}) + ' ' + d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
}

export function timeEl(t) {
  return t ? h('time', {datetime: t, title: new Date(t).toLocaleString()}, time(t)) : null;
}

// debounce runs fn at most once per ms, after the last call.
export function debounce(fn, ms) {
  let timer = null;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(timer);
  return d;
}

// throttle runs fn after at most ms, then at most once per ms however often
// it is called: unlike debounce, a steady stream of calls cannot starve it.
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  const t = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, Math.max(0, last + ms - Date.now()));
  };
  t.cancel = () => { clearTimeout(timer); timer = null; };
  return t;
}

// form makes a labelled form: fields are [name, label, attrs], or an
// element of the caller's (a group of choices) placed as it is; onsubmit
// gets the values of the named fields; errors thrown show in the form's
// status line.
export function form(cls, fields, button, onsubmit) {
  const status = h('p', {class: 'form-status', role: 'status'});
  const inputs = {};
  const f = h('form', {class: `form ${cls}`},
    fields.map(field => {
      if (field instanceof Node) return field;
      const [name, label, attrs = {}] = field;
      const id = `f-${cls}-${name}`;
      const input = h(attrs.multiline ? 'textarea' : 'input', {id, name, ...attrs, multiline: null});
      inputs[name] = input;
      return h('div', {class: 'field'}, h('label', {for: id}, label), input);
    }),
    h('button', {type: 'submit'}, button),
    status);
  const btn = f.querySelector('button[type=submit]');
  f.addEventListener('submit', ev => {
    ev.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    status.textContent = '';
    status.classList.remove('error');
    busy(btn, async () => {
      try {
        const msg = await onsubmit(values, inputs);
        if (msg) replace(status, msg);
      } catch (err) {
        replace(status, err.message);
        status.classList.add('error');
      }
    });
  });
  return f;
}

// busy runs fn once for button b and refuses to run it again until it
// ends. The button says so with aria-disabled, not the disabled property:
// a disabled button loses the keyboard focus (it drops to <body>), so a
// keyboard user who upvoted or joined would have to find their place again.
// It returns fn's promise, or undefined when b was already busy.
export function busy(b, fn) {
  if (!claim(b)) return undefined;
  return (async () => {
    try {
      return await fn();
    } finally {
      release(b);
    }
  })();
}

// claim marks b busy (aria-disabled) and tells whether it was free; release
// frees it. For a form's submit button, whose work is written inline.
export function claim(b) {
  if (b.getAttribute('aria-disabled') === 'true') return false;
  b.setAttribute('aria-disabled', 'true');
  return true;
}

export function release(b) {
  b.removeAttribute('aria-disabled');
}

// action makes a button that runs fn, showing failures in errEl (or an
// alert-like line after the button).
export function action(label, fn, attrs = {}) {
  const b = h('button', {type: 'button', ...attrs}, label);
  b.addEventListener('click', () => busy(b, async () => {
    try {
      await fn();
    } catch (err) {
      showError(b, err);
    }
  }));
  return b;
}

// showError puts err's message beside el for a while.
export function showError(el, err) {
  const e = h('span', {class: 'inline-error', role: 'alert'}, err.message);
  el.after(e);
  setTimeout(() => e.remove(), 8000);
}
