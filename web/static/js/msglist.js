// A list of messages (a 1:1 thread, a group's thread, a room's chat) that a
// keyboard reaches as one Tab stop, with each message's actions hidden until
// the message is hovered or holds the focus.
//
// Keys, with the focus on a message:
//   ↑ ↓          the previous or next message
//   Home End     the first or the last message
//   Enter →      into the message's controls (its actions, a link, an RSVP)
//   R            reply to it, where it has a Reply action
// and on one of its controls:
//   ← →          the previous or next control (around)
//   Home End     the first or the last control
//   ↑ ↓          the previous or next message
//   Escape       back to the message
//
// The list keeps a roving tabindex: the message last focused (at first the
// newest) has tabindex 0, every other message and every control inside
// the messages -1, so Tab enters the list at that message and the next Tab
// leaves it. The list is redrawn live (dom.js replace()): the current
// message stays current, and the focus, when the redraw took it away, goes
// back to the same message, on the same control.

import {h} from './dom.js';

// The elements inside a message that take the focus.
const controlSelector = 'a[href], button, input, select, textarea, summary';

let lists = 0;

// messageList makes the list: wrapper is a live region (role="log", named
// label) holding a short keyboard hint and list, a plain <ol> with the
// given id and class that the screen fills with one <li> per message
// (through replace(), or append()). Items are list's children that match
// itemSelector (default: all of them). replies false leaves R out of the
// hint, for a list whose messages have no Reply.
export function messageList({id, className, label, itemSelector = 'li', replies = true}) {
  const hintID = `${id || `msglist-${++lists}`}-hint`;
  const list = h('ol', {class: `msg-list ${className || ''}`.trim(), id});
  const hint = h('p', {class: 'msg-hint', id: hintID},
    `↑ ↓ move between messages · Enter: its actions${replies ? ' · R: reply' : ''} · Esc: back`);
  const wrapper = h('div', {class: 'msg-log', role: 'log', 'aria-label': label}, hint, list);

  let current = null; // the key of the message with tabindex 0; null: the newest
  let last = null; // where the focus was in the list: {el, item, index, label}

  const items = () => [...list.children].filter(el => el.matches(itemSelector));
  const itemOf = el => {
    for (let e = el; e && e !== list; e = e.parentElement) {
      if (e.parentElement === list && e.matches(itemSelector)) return e;
    }
    return null;
  };
  const controls = item => [...item.querySelectorAll(controlSelector)].filter(c => !c.closest('[hidden]'));
  const labelOf = c => c.getAttribute('aria-label') || c.textContent;

  // setCurrent makes item the one Tab stop.
  function setCurrent(item) {
    current = key(item);
    for (const el of items()) el.tabIndex = el === item ? 0 : -1;
  }

  // sync runs after every change of the list: tabindexes, and the focus
  // back where it was if the redraw took it.
  function sync() {
    const all = items();
    let cur = all.find(el => key(el) === current);
    if (!cur) {
      current = null;
      cur = all[all.length - 1];
    }
    for (const el of all) {
      el.tabIndex = el === cur ? 0 : -1;
      if (!el.hasAttribute('aria-describedby')) el.setAttribute('aria-describedby', hintID);
      // A line the screen did not name (a roster change, "No messages
      // yet") is named by its words, as a focused item needs a name.
      if (!el.hasAttribute('aria-label') && !el.hasAttribute('aria-labelledby')) el.setAttribute('aria-label', el.textContent.trim());
      for (const c of el.querySelectorAll(controlSelector)) c.tabIndex = -1;
    }
    if (!last || last.el.isConnected || !all.length) return;
    const active = document.activeElement;
    if (active && active !== document.body && active !== document.documentElement) return;
    const item = all.find(el => key(el) === last.item) || all[Math.min(last.index, all.length - 1)];
    const label = item && key(item) === last.item ? last.label : null;
    // The message first: its controls show (and can take the focus) only
    // while it holds the focus.
    item.focus({preventScroll: true});
    if (label !== null) {
      const same = controls(item).find(c => labelOf(c) === label);
      if (same) same.focus({preventScroll: true});
    }
  }
  new MutationObserver(sync).observe(list, {childList: true});

  list.addEventListener('focusin', ev => {
    const item = itemOf(ev.target);
    if (!item) return;
    if (key(item) !== current || item.tabIndex !== 0) setCurrent(item);
    last = {el: ev.target, item: key(item), index: items().indexOf(item), label: ev.target === item ? null : labelOf(ev.target)};
  });
  list.addEventListener('focusout', ev => {
    const el = ev.target;
    // Left for elsewhere (not taken away by a redraw, which disconnects it):
    // nothing to restore.
    queueMicrotask(() => {
      if (last && last.el === el && el.isConnected && !list.contains(document.activeElement)) last = null;
    });
  });

  list.addEventListener('keydown', ev => {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const item = itemOf(ev.target);
    if (!item) return;
    const all = items();
    const i = all.indexOf(item);
    const go = el => {
      ev.preventDefault();
      if (el) el.focus();
    };
    if (ev.target === item) {
      switch (ev.key) {
        case 'ArrowUp': return go(all[i - 1]);
        case 'ArrowDown': return go(all[i + 1]);
        case 'Home': return go(all[0]);
        case 'End': return go(all[all.length - 1]);
        case 'Enter':
          swallowKeypress();
          return go(controls(item)[0]);
        case 'ArrowRight': return go(controls(item)[0]);
        case 'r':
        case 'R': {
          const reply = item.querySelector('.msg-actions .reply');
          if (reply) {
            ev.preventDefault();
            swallowKeypress();
            reply.click();
          }
          return;
        }
      }
      return;
    }
    const cs = controls(item);
    const j = cs.indexOf(ev.target);
    if (j < 0) return;
    switch (ev.key) {
      case 'ArrowRight': return go(cs[(j + 1) % cs.length]);
      case 'ArrowLeft': return go(cs[(j - 1 + cs.length) % cs.length]);
      case 'Home': return go(cs[0]);
      case 'End': return go(cs[cs.length - 1]);
      case 'ArrowUp': return go(all[i - 1] || item);
      case 'ArrowDown': return go(all[i + 1] || item);
      case 'Escape': return go(item);
    }
  });

  return {wrapper, list};
}

// swallowKeypress drops the keypress that follows a keydown we acted on.
// A browser sends none after a cancelled keydown, but input synthesized
// key by key (the DevTools protocol, some assistive software) may: Enter
// would then press the Reply button it just moved to, and R type an "r" in
// the composer it just opened.
function swallowKeypress() {
  const stop = e => {
    e.preventDefault();
    e.stopImmediatePropagation();
    done();
  };
  const done = () => {
    window.removeEventListener('keypress', stop, true);
    window.removeEventListener('keyup', done, true);
  };
  window.addEventListener('keypress', stop, true);
  window.addEventListener('keyup', done, true);
}

// key names a message across redraws.
function key(el) {
  return el.dataset.id || el.dataset.key || `${el.dataset.kind || ''}|${el.dataset.epoch || ''}|${el.textContent}`;
}

// actions is a message's toolbar: the buttons that act on it, hidden
// until the message is hovered or holds the focus (app.css).
export function actions(...buttons) {
  return h('div', {class: 'msg-actions', role: 'toolbar', 'aria-label': 'Actions for this message'}, buttons);
}

// reactionsText is a message's reactions in words, for describe():
// "Reactions: 👍 2 including yours, ❤️ 1", or null when there are none.
// Each reaction is {emoji, count, mine}.
export function reactionsText(reactions) {
  return reactions.length
    ? `Reactions: ${reactions.map(r => `${r.emoji} ${r.count}${r.mine ? ' including yours' : ''}`).join(', ')}` : null;
}

// describe is what a screen reader says of a message, from its parts (empty
// ones left out): "Bob, 12:30: Hello. Delivered. Reactions: 👍 2".
export function describe(...parts) {
  return parts.filter(p => p !== null && p !== undefined && String(p).trim() !== '').join('. ');
}
