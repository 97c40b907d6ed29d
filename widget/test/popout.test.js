// The pop-out window: its address (which carries nothing), what the page hands over, whom the window takes
// a call from, and which states are a call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ATTRIBUTES } from '../src/attributes.js';
import {
  CHANNEL,
  HANDOVER,
  POPOUT_ATTRIBUTES,
  READY,
  WINDOW_NAME,
  handover,
  popoutBusy,
  popoutUrl,
  receiveCall,
} from '../src/popout.js';
import { popoutView } from '../src/popout-view.js';

const base = 'https://api.example/hms/';

describe('the pop-out address', () => {
  it('is {prefix}/call and carries nothing: the call comes by handover', () => {
    assert.equal(popoutUrl(base), 'https://api.example/hms/call');
  });

  it('uses one channel and one window name', () => {
    assert.equal(CHANNEL, 'hms-webcall');
    assert.equal(WINDOW_NAME, 'hms-webcall-popout');
  });
});

describe('what the page hands over', () => {
  it('is the element’s attributes', () => {
    const attrs = { lang: 'nl', assistant: 'sales', consent: 'Calls are recorded & kept.', 'consent-version': '2' };
    assert.deepEqual(handover((n) => attrs[n] ?? null, null), { type: HANDOVER, attributes: attrs });
  });

  it('carries how long a call may stay down and the time limits, so the window behaves as the page would', () => {
    const attrs = { 'reconnect-timeout': '30', 'agent-timeout': '20', 'max-duration': '120' };
    assert.deepEqual(handover((n) => attrs[n] ?? null, null).attributes, attrs);
  });

  it('carries a context set as a property as JSON, over the attribute', () => {
    const { attributes } = handover((n) => (n === 'context' ? '{"page":"old"}' : null), { page: '/pricing' });
    assert.equal(attributes.context, '{"page":"/pricing"}');
  });

  it('leaves out the endpoint, the credentials mode and the CSRF token', () => {
    const { attributes } = handover((n) => `value-${n}`, null);
    for (const name of ['endpoint', 'credentials', 'csrf-token', 'popout', 'popout-window']) {
      assert.equal(name in attributes, false, name);
    }
    assert.equal(attributes['csrf-header'], 'value-csrf-header');
  });

  it('only names attributes the element knows', () => {
    for (const name of POPOUT_ATTRIBUTES) assert.ok(ATTRIBUTES.includes(name), name);
  });

  it('hands over every other attribute: a new one travels unless it is left out on purpose', () => {
    // Left out: where to call and how to authenticate (the window is on the backend's origin), the secret
    // csrf-token, the corner (the window is the whole call), and the pop-out switches themselves.
    const left = ['endpoint', 'credentials', 'csrf-token', 'position', 'popout', 'popout-window'];
    assert.deepEqual(
      ATTRIBUTES.filter((name) => !POPOUT_ATTRIBUTES.includes(name)).sort(),
      left.sort(),
    );
  });
});

/**
 * The pop-out page as flask_hms_webcall/_popout.py writes it, on https://api.example, opened by `opener`
 * (null: opened without one), listing `listed` in <meta name="hms-webcall-openers">.
 */
function popoutWindow({ opener = fakeOpener(), listed = '' } = {}) {
  const listeners = new Set();
  const notice = { removed: false, remove() { this.removed = true; } };
  const attributes = new Map();
  const el = {
    hidden: true,
    started: 0,
    setAttribute: (name, value) => attributes.set(name, value),
    getAttribute: (name) => attributes.get(name) ?? null,
    start() {
      this.started++;
    },
  };
  const doc = {
    title: 'Call',
    querySelector: (sel) =>
      sel === 'meta[name="hms-webcall-openers"]' && listed !== null ? { content: listed } : null,
    getElementById: (id) => (id === 'hms-webcall-popout-notice' && !notice.removed ? notice : null),
  };
  const win = {
    opener,
    document: doc,
    location: { origin: 'https://api.example' },
    addEventListener: (type, fn) => type === 'message' && listeners.add(fn),
    removeEventListener: (type, fn) => listeners.delete(fn),
  };
  /** A message event as the browser delivers it: from `source`, whose page is on `origin`. */
  const deliver = (data, { source = opener, origin = 'https://api.example' } = {}) => {
    for (const fn of [...listeners]) fn({ source, origin, data });
  };
  receiveCall(/** @type {any} */ (el), /** @type {any} */ (win));
  return { el, attributes, doc, notice, deliver, listeners };
}

function fakeOpener() {
  return { posted: [], postMessage(data, target) { this.posted.push([data, target]); } };
}

const call = (attributes = { lang: 'nl', 'assistant-name': 'Ava', consent: 'Recorded.' }) => ({
  type: HANDOVER,
  attributes,
});

describe('the pop-out window takes its call', () => {
  it('by asking the window that opened it', () => {
    const opener = fakeOpener();
    popoutWindow({ opener });
    assert.deepEqual(opener.posted, [[{ type: READY }, '*']]);
  });

  it('from that window’s page on its own origin: the attributes are set, the notice goes and the call starts', () => {
    const w = popoutWindow();
    w.deliver(call());
    assert.deepEqual(Object.fromEntries(w.attributes), { lang: 'nl', 'assistant-name': 'Ava', consent: 'Recorded.' });
    assert.equal(w.el.hidden, false);
    assert.equal(w.notice.removed, true);
    assert.equal(w.doc.title, 'Ava');
    assert.equal(w.el.started, 1);
  });

  it('from a page on an origin the server lists', () => {
    const w = popoutWindow({ listed: 'https://www.example https://shop.example:8443' });
    w.deliver(call(), { origin: 'https://shop.example:8443' });
    assert.equal(w.el.started, 1);
  });

  it('once: a second handover changes nothing', () => {
    const w = popoutWindow();
    w.deliver(call());
    w.deliver(call({ consent: 'Other text.' }));
    assert.equal(w.el.started, 1);
    assert.equal(w.attributes.get('consent'), 'Recorded.');
  });

  it('with only the attributes a page may hand over, and only as text', () => {
    const w = popoutWindow();
    w.deliver(call({ endpoint: 'https://evil.example/', credentials: 'include', lang: 7, theme: 'dark' }));
    assert.deepEqual(Object.fromEntries(w.attributes), { theme: 'dark' });
  });
});

describe('the pop-out window starts nothing', () => {
  const nothing = (w) => {
    assert.equal(w.el.started, 0);
    assert.equal(w.attributes.size, 0);
    assert.equal(w.el.hidden, true);
    assert.equal(w.notice.removed, false);
    assert.equal(w.doc.title, 'Call');
  };

  it('opened without an opener (a link, a bookmark, noopener)', () => {
    const w = popoutWindow({ opener: null });
    assert.equal(w.listeners.size, 0);
    nothing(w);
  });

  it('for its opener’s page on another site', () => {
    const w = popoutWindow({ listed: 'https://www.example' });
    w.deliver(call(), { origin: 'https://evil.example' });
    nothing(w);
  });

  it('for its opener’s page on another origin when the server lists none', () => {
    const w = popoutWindow({ listed: null });
    w.deliver(call(), { origin: 'https://www.example' });
    nothing(w);
  });

  it('for another window, even one on its own origin', () => {
    const w = popoutWindow();
    w.deliver(call(), { source: fakeOpener() });
    nothing(w);
  });

  it('for a message that is not a handover', () => {
    const w = popoutWindow();
    w.deliver({ type: READY, attributes: { lang: 'nl' } });
    w.deliver('hms-webcall:popout-call');
    w.deliver(null);
    nothing(w);
  });
});

describe('the pop-out window’s state', () => {
  it('is a call from opening until it ends, fails or the window closes', () => {
    for (const s of ['opened', 'preflight', 'requesting', 'connecting', 'live']) assert.equal(popoutBusy(s), true, s);
    for (const s of ['idle', 'ended', 'error', 'closed']) assert.equal(popoutBusy(s), false, s);
  });
});

/**
 * The tab's side (popout-view.js): a widget on https://www.example whose backend is https://api.example,
 * with the window and message globals stood in for; `click()` is the visitor's "Continue in a small window".
 */
function tab() {
  const listeners = [];
  const popup = { closed: false, posted: [], postMessage(data, target) { this.posted.push([data, target]); } };
  const control = () => ({ listeners: [], addEventListener(_, fn) { this.listeners.push(fn); } });
  const $ = { popout: control(), focus: control() };
  const c = { state: 'live', callId: 'call-1', end() {}, reset() {} };
  const attrs = { 'assistant-name': 'Ava', consent: 'Recorded.' };
  const opts = { base, attribute: (n) => attrs[n] ?? null, context: () => null, config: () => ({ popout: true }) };
  const stand = {
    addEventListener: (type, fn) => type === 'message' && listeners.push(fn),
    BroadcastChannel: undefined,
    window: { open: () => popup },
    setInterval: () => 0,
  };
  const within = (fn) => {
    const saved = Object.fromEntries(Object.keys(stand).map((key) => [key, globalThis[key]]));
    Object.assign(globalThis, stand);
    try {
      fn();
    } finally {
      Object.assign(globalThis, saved);
    }
  };
  within(() => popoutView({ $, c, opts, emit() {}, render() {}, opened() {} }));
  const click = () => within(() => $.popout.listeners.forEach((fn) => fn()));
  /** The question a window asks, as the tab receives it: from `source`, whose page is on `origin`. */
  const ask = ({ source = popup, origin = 'https://api.example' } = {}) => {
    for (const fn of listeners) fn({ source, origin, data: { type: READY } });
  };
  return { popup, click, ask };
}

describe('the page hands its call over', () => {
  const attributes = { 'assistant-name': 'Ava', consent: 'Recorded.' };
  const expected = [[{ type: HANDOVER, attributes }, 'https://api.example']];

  it('to the window it opened, on the backend’s origin, once per click', () => {
    const t = tab();
    t.click();
    t.ask();
    t.ask(); // a reload of the window: its call ended there, and it starts none again
    assert.deepEqual(t.popup.posted, expected);
    t.click();
    t.ask();
    assert.equal(t.popup.posted.length, 2);
  });

  it('to no other window, even one on the backend’s origin', () => {
    const t = tab();
    t.click();
    t.ask({ source: fakeOpener() });
    assert.deepEqual(t.popup.posted, []);
  });

  it('not once its window shows a page of another origin', () => {
    const t = tab();
    t.click();
    t.ask({ origin: 'https://evil.example' });
    assert.deepEqual(t.popup.posted, []);
  });

  it('not before the visitor asked for the window', () => {
    const t = tab();
    t.ask();
    assert.deepEqual(t.popup.posted, []);
  });
});
