// A network drop is not a lost call: the connection watch (reconnect.js) on its own, then a whole call
// through the Controller with fakes of the session, the backend and the clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfig } from '../src/attributes.js';
import { Controller } from '../src/controller.js';
import { watchConnection } from '../src/reconnect.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Timers on a clock that only moves when told to. */
function fakeClock() {
  let now = 0;
  let next = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(next, { at: now + ms, fn }), next++),
    clearTimeout: (id) => timers.delete(id),
    setInterval: () => 0,
    clearInterval: () => {},
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await tick();
      }
      now = end;
    },
  };
}

function watch(limit = 15) {
  const clock = fakeClock();
  const log = [];
  const w = watchConnection(clock, limit, { change: (down) => log.push(down), giveUp: () => log.push('gave up') });
  return { w, clock, log };
}

describe('the connection watch', () => {
  it('is down while livekit reconnects, and up again when it has', () => {
    const { w, log } = watch();
    w.livekit(true);
    assert.equal(w.down, true);
    w.livekit(true);
    w.livekit(false);
    assert.equal(w.down, false);
    assert.deepEqual(log, [true, false]);
  });

  it("is down at once when the browser goes offline, before livekit's pings notice", () => {
    const { w, log } = watch();
    w.network(false);
    assert.deepEqual(log, [true]);
  });

  it('back online, waits for livekit to take over rather than flashing "connected"', async () => {
    const { w, clock, log } = watch();
    w.network(false);
    w.network(true);
    assert.equal(w.down, true);
    await clock.advance(500);
    w.livekit(true); // livekit's own reconnect starts
    await clock.advance(5000);
    assert.equal(w.down, true);
    w.livekit(false);
    assert.deepEqual(log, [true, false]);
  });

  it('back online with nothing for livekit to repair: up again after a moment', async () => {
    const { w, clock, log } = watch();
    w.network(false);
    w.network(true);
    await clock.advance(3000);
    assert.deepEqual(log, [true, false]);
  });

  it('gives up once the connection has been down for the limit, and only then', async () => {
    const { w, clock, log } = watch(15);
    w.network(false);
    await clock.advance(14_900);
    assert.deepEqual(log, [true]);
    await clock.advance(100);
    assert.deepEqual(log, [true, 'gave up']);
  });

  it('a reconnect within the limit starts the next drop with the whole limit again', async () => {
    const { w, clock, log } = watch(15);
    w.livekit(true);
    await clock.advance(10_000);
    w.livekit(false);
    w.livekit(true);
    await clock.advance(10_000);
    assert.deepEqual(log, [true, false, true]);
    w.stop();
    await clock.advance(60_000);
    assert.deepEqual(log, [true, false, true]);
  });
});

/** A controller in a live call, its session's events under the test's control. */
async function liveCall(attrs = {}) {
  const clock = fakeClock();
  const events = [];
  const session = {
    on: null,
    disconnected: 0,
    connect: async () => ({ identity: 'web-user-1', present: true }),
    setMuted() {},
    startAudio: async () => {},
    async disconnect() {
      this.disconnected++;
    },
  };
  const created = { call_id: 'call-1', token: 't', server_url: 'ws://127.0.0.1:7880', max_duration: 300 };
  const c = new Controller(
    {
      ...clock,
      config: () => parseConfig((n) => attrs[n] ?? null, { base: 'https://site.example/hms/', pageUrl: 'https://site.example/' }),
      context: () => null,
      crossOrigin: () => false,
      getUserMedia: async () => ({ getAudioTracks: () => [{ enabled: true, stop() {} }] }),
      fetch: async () => ({ ok: true, status: 201, headers: { get: () => null }, json: async () => created }),
      createSession: (opts) => ((session.on = opts.on), session),
      audioContext: () => null,
      audioHost: null,
      cookies: () => '',
      meta: () => '',
    },
    (kind, detail) => events.push([kind, detail]),
  );
  await c.start();
  assert.equal(c.state, 'live');
  const kinds = (...wanted) => events.filter(([k]) => wanted.includes(k)).map(([k, d]) => (k === 'state' ? d.state : k));
  return { c, clock, session, events, kinds };
}

describe('a call through a network drop', () => {
  it('a short drop: reconnecting, then live again, the transcript and the call kept', async () => {
    const { c, clock, session, kinds } = await liveCall();
    session.on.transcript({ id: 'SG_1', identity: 'agent', local: 'web-user-1', text: 'Hello', final: 'true' });
    session.on.network(false);
    assert.equal(c.state, 'reconnecting');
    // livekit's full reconnect unwinds the room's participants: that is not the assistant hanging up.
    session.on.reconnecting(true);
    session.on.left();
    await clock.advance(5_000);
    assert.equal(c.state, 'reconnecting');
    session.on.network(true);
    session.on.joined();
    session.on.reconnecting(false);
    assert.equal(c.state, 'live');
    assert.deepEqual(kinds('state', 'reconnecting', 'reconnected', 'ended').slice(-4), [
      'reconnecting',
      'reconnecting',
      'live',
      'reconnected',
    ]);
    assert.deepEqual(c.entries.map((e) => e.text), ['Hello']);
    assert.equal(c.callId, 'call-1');
    assert.equal(session.disconnected, 0);
  });

  it('the assistant unwound by a full reconnect before it is reported is not a hang-up either', async () => {
    // livekit-client drops the room's participants first, then says it is reconnecting.
    const { c, clock, session } = await liveCall();
    session.on.left();
    session.on.reconnecting(true);
    await clock.advance(5_000);
    assert.equal(c.state, 'reconnecting');
    session.on.joined();
    session.on.reconnecting(false);
    assert.equal(c.state, 'live');
    await clock.advance(5_000);
    assert.equal(c.state, 'live');
  });

  it('a long outage: after 15 s the widget hangs up itself, with connection_lost', async () => {
    const { c, clock, session, events } = await liveCall();
    session.on.network(false);
    await clock.advance(14_000);
    assert.equal(c.state, 'reconnecting');
    await clock.advance(1_000);
    assert.equal(c.state, 'ended');
    assert.equal(c.endReason, 'connection_lost');
    assert.equal(session.disconnected, 1); // the room is left: the server ends the call and reports it
    const ended = events.filter(([k]) => k === 'ended').map(([, d]) => d);
    assert.deepEqual(ended.map((d) => [d.reason, d.callId]), [['connection_lost', 'call-1']]);
    assert.equal(events.filter(([k]) => k === 'reconnected').length, 0);
  });

  it('reconnect-timeout sets the limit', async () => {
    const { c, clock, session } = await liveCall({ 'reconnect-timeout': '40' });
    session.on.reconnecting(true);
    await clock.advance(39_000);
    assert.equal(c.state, 'reconnecting');
    await clock.advance(1_000);
    assert.equal(c.state, 'ended');
  });

  it('hanging up while reconnecting ends the call as the visitor did', async () => {
    const { c, session } = await liveCall();
    session.on.network(false);
    c.end();
    assert.equal(c.endReason, 'user_hangup');
    assert.equal(session.disconnected, 1);
  });
});
