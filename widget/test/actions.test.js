// Page actions in the page: the registry behind element.actions, the stream they arrive on, the handlers
// they run, the built-in navigate, and when the stream is followed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { actionRegistry, actionsFollower, followActions, navigate } from '../src/actions.js';

/** A BroadcastChannel pair stand-in: what one side posts, the other hears. */
function channelPair() {
  const make = () => ({ posted: [], listeners: [], other: null, postMessage(data) { this.posted.push(data); for (const fn of this.other.listeners) fn({ data }); }, addEventListener(_, fn) { this.listeners.push(fn); } });
  const a = make();
  const b = make();
  a.other = b;
  b.other = a;
  return [a, b];
}
import { created, setup } from './helpers.js';

/** An EventSource stand-in the test drives: send(type, data) delivers one server event. */
function fakeEventSource() {
  const opened = [];
  class FakeES {
    constructor(url, init) {
      this.url = url;
      this.init = init;
      this.closed = false;
      this.listeners = {};
      opened.push(this);
    }
    addEventListener(type, fn) {
      (this.listeners[type] ||= []).push(fn);
    }
    close() {
      this.closed = true;
    }
    send(type, data) {
      for (const fn of this.listeners[type] || []) fn({ data: typeof data === 'string' ? data : JSON.stringify(data) });
    }
  }
  return { FakeES, opened };
}

function follow(handlers = new Map(), builtin = () => {}) {
  const { FakeES, opened } = fakeEventSource();
  const emitted = [];
  const errors = [];
  const stop = followActions({
    url: 'https://site.example/hms/web-calls/c1/actions',
    credentials: true,
    handlers,
    emit: (type, detail) => emitted.push([type, detail]),
    builtin,
    EventSource: FakeES,
    console: { error: (...args) => errors.push(args) },
  });
  return { es: opened[0], emitted, errors, stop };
}

const ACTION = { name: 'show_order', callId: 'c1', args: { order_id: '123' } };

describe('element.actions', () => {
  it('registers a handler and returns its unregister, which leaves a newer handler alone', () => {
    const handlers = new Map();
    const actions = actionRegistry(handlers);
    const first = () => {};
    const unregister = actions.register('show_order', first);
    assert.equal(handlers.get('show_order'), first);
    const second = () => {};
    actions.register('show_order', second);
    unregister();
    assert.equal(handlers.get('show_order'), second, 'only the function it registered goes');
    assert.throws(() => actions.register('', first), TypeError);
    assert.throws(() => actions.register('x', 'not a function'), TypeError);
  });
});

describe('following the actions of a call', () => {
  it('dispatches hms:action and runs the handler registered for its name, with the args as data', () => {
    const seen = [];
    const { es, emitted } = follow(new Map([['show_order', (args, action) => seen.push([args, action])]]));
    assert.equal(es.init.withCredentials, true);
    es.send('action', ACTION);
    assert.deepEqual(emitted, [['action', ACTION]]);
    assert.deepEqual(seen, [[ACTION.args, ACTION]]);
  });

  it('reports a handler that throws or rejects in the console and as hms:error, and keeps following', async () => {
    const handlers = new Map([
      ['show_order', () => { throw new Error('no such element'); }],
      ['later', () => Promise.reject(new Error('async failure'))],
    ]);
    const { es, emitted, errors } = follow(handlers);
    es.send('action', ACTION);
    es.send('action', { ...ACTION, name: 'later' });
    await new Promise((resolve) => setImmediate(resolve));
    const reported = emitted.filter(([type]) => type === 'error').map(([, d]) => [d.code, d.action, d.message]);
    assert.deepEqual(reported, [
      ['action_failed', 'show_order', 'no such element'],
      ['action_failed', 'later', 'async failure'],
    ]);
    assert.equal(errors.length, 2);
    assert.equal(es.closed, false, 'a failing handler does not stop the stream (nor the call)');
  });

  it('uses the built-in for a name without a handler, and closes on the end of the call', () => {
    const builtins = [];
    const { es, stop } = follow(new Map(), (action) => builtins.push(action.name));
    es.send('action', { ...ACTION, name: 'navigate', args: { url: '/checkout' } });
    assert.deepEqual(builtins, ['navigate']);
    es.send('end', {});
    assert.equal(es.closed, true);
    stop(); // closing twice is harmless
  });

  it('reports an event that is not JSON instead of throwing', () => {
    const { es, emitted } = follow();
    es.send('action', '<script>alert(1)</script>');
    assert.equal(emitted.length, 1);
    assert.equal(emitted[0][0], 'error');
  });
});

describe('the built-in navigate', () => {
  const page = (href) => {
    const url = new URL(href);
    const location = {
      href: url.href,
      origin: url.origin,
      assigned: null,
      hash: url.hash,
      assign(to) {
        this.assigned = to;
      },
    };
    return location;
  };

  it('goes to a same-origin address', () => {
    const location = page('https://site.example/shop');
    navigate({ url: '/checkout?step=1' }, { location });
    assert.equal(location.assigned, 'https://site.example/checkout?step=1');
  });

  it('refuses another origin and non-http addresses', () => {
    for (const url of ['https://evil.example/', '//evil.example/x', 'javascript:alert(1)', 'data:text/html,x']) {
      const location = page('https://site.example/shop');
      assert.throws(() => navigate({ url }, { location }), (err) => err.code === 'action_refused', url);
      assert.equal(location.assigned, null);
    }
  });

  it('only moves to the anchor on the same page, so the call goes on', () => {
    const location = page('https://site.example/shop');
    navigate({ url: '#order-123' }, { location });
    assert.equal(location.assigned, null);
    assert.equal(location.hash, '#order-123');
  });

  it('in the pop-out window, moves the page that opened it and the call goes on', () => {
    const location = page('https://site.example/hms/call');
    const opener = { closed: false, location: page('https://site.example/shop') };
    navigate({ url: '/checkout' }, { location, opener, popoutWindow: true });
    assert.equal(opener.location.assigned, 'https://site.example/checkout');
    assert.equal(location.assigned, null);
  });
});

describe('when the widget follows the actions', () => {
  const win = { location: { href: 'https://shop.example/page' }, opener: null };

  it('opens the stream once the call is live, beside the endpoint, and closes it when the call ends', () => {
    const { FakeES, opened } = fakeEventSource();
    globalThis.EventSource = FakeES;
    try {
      const controller = { actionsUrl: '/hms/web-calls/c1/actions?token=t' };
      const config = () => ({ endpoint: 'https://api.example/hms/web-calls', credentials: 'include', popoutWindow: false });
      const followState = actionsFollower({ controller, config, handlers: new Map(), emit: () => {}, win, channel: null });
      followState('connecting');
      assert.equal(opened.length, 0, 'not before the call is live');
      followState('live');
      followState('live');
      assert.equal(opened.length, 1);
      assert.equal(opened[0].url, 'https://api.example/hms/web-calls/c1/actions?token=t');
      assert.equal(opened[0].init.withCredentials, true);
      followState('ended');
      assert.equal(opened[0].closed, true);
    } finally {
      delete globalThis.EventSource;
    }
  });

  it('keeps the stream through a network blink, so no action already run comes again', () => {
    const { FakeES, opened } = fakeEventSource();
    globalThis.EventSource = FakeES;
    try {
      const ran = [];
      const controller = { actionsUrl: '/hms/web-calls/c1/actions' };
      const config = () => ({ endpoint: '/hms/web-calls', credentials: 'same-origin', popoutWindow: false });
      const handlers = new Map([['show_order', (args) => ran.push(args.order_id)]]);
      const followState = actionsFollower({ controller, config, handlers, emit: () => {}, win, channel: null });
      followState('live');
      opened[0].send('action', { name: 'show_order', args: { order_id: '123' } });
      followState('reconnecting');
      followState('live');
      // A new stream would start without Last-Event-ID, and the server would send the whole log again.
      assert.equal(opened.length, 1);
      assert.equal(opened[0].closed, false);
      assert.deepEqual(ran, ['123']);
      followState('ended');
      assert.equal(opened[0].closed, true);
    } finally {
      delete globalThis.EventSource;
    }
  });

  it('opens nothing for a site without page actions', () => {
    const { FakeES, opened } = fakeEventSource();
    globalThis.EventSource = FakeES;
    try {
      const config = () => ({ endpoint: '/hms/web-calls', credentials: 'same-origin' });
      const controller = { actionsUrl: null };
      actionsFollower({ controller, config, handlers: new Map(), emit: () => {}, win, channel: null })('live');
      assert.equal(opened.length, 0);
    } finally {
      delete globalThis.EventSource;
    }
  });

  it('in the pop-out window, sends an action it has no handler for to the page that opened it', () => {
    const { FakeES, opened } = fakeEventSource();
    globalThis.EventSource = FakeES;
    try {
      const [windowSide, tabSide] = channelPair();
      const inWindow = [];
      const popoutWin = { location: { href: 'https://shop.example/hms/call' }, opener: null };
      actionsFollower({
        controller: { actionsUrl: '/hms/web-calls/c1/actions' },
        config: () => ({ endpoint: '/hms/web-calls', credentials: 'same-origin', popoutWindow: true }),
        handlers: new Map(),
        emit: (type, detail) => inWindow.push([type, detail]),
        win: popoutWin,
        channel: windowSide,
      })('live');
      const seen = [];
      const inTab = [];
      actionsFollower({
        controller: { actionsUrl: null },
        config: () => ({ endpoint: '/hms/web-calls', popout: true, popoutWindow: false }),
        handlers: new Map([['show_order', (args) => seen.push(args.order_id)]]),
        emit: (type, detail) => inTab.push([type, detail]),
        win,
        channel: tabSide,
      });
      opened[0].send('action', ACTION);
      assert.deepEqual(windowSide.posted, [{ type: 'popout-action', action: ACTION }]);
      assert.deepEqual(seen, ['123'], "the tab's handler ran it");
      assert.deepEqual(inTab, [['action', ACTION]]);
      assert.deepEqual(inWindow, [['action', ACTION]]);
    } finally {
      delete globalThis.EventSource;
    }
  });

  it('takes the stream address from the create response', async () => {
    const { c } = setup({ responses: [created({ actions_url: '/hms/web-calls/call-1/actions' })] });
    await c.start();
    assert.equal(c.actionsUrl, '/hms/web-calls/call-1/actions');
  });
});
