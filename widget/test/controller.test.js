// The call flow end to end against fakes of everything outside it: the microphone, the backend, the
// livekit session and the clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfig } from '../src/attributes.js';
import { Controller } from '../src/controller.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

class FakeClock {
  constructor() {
    this.now = 1_000_000;
    this.timers = new Map();
    this.next = 1;
  }
  set(fn, ms, repeat) {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, fn, ms, repeat });
    return id;
  }
  clear(id) {
    this.timers.delete(id);
  }
  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.repeat) t.at += t.ms;
      else this.timers.delete(id);
      t.fn();
      await tick();
    }
    this.now = end;
  }
}

function response(status, body, headers = {}) {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => headers[name] ?? null },
    json: async () => body,
  };
}

const CREATED = (n = 1) =>
  response(201, {
    call_id: `call-${n}`,
    room_name: `web-${n}`,
    token: `token-${n}`,
    server_url: 'ws://127.0.0.1:7880',
    expires_in: 300,
    max_duration: 300,
  });

function expiredError() {
  return Object.assign(new Error('could not establish signal connection: invalid token: token is expired'), {
    name: 'ConnectionError',
    notAllowed: true,
  });
}

/** A controller wired to fakes; `connects` scripts what each session.connect does. */
function setup({
  mic = 'ok',
  responses = [CREATED()],
  connects = [{ present: true }],
  attrs = {},
  cross = false,
  context = null,
  webrtc = true,
} = {}) {
  const clock = new FakeClock();
  const log = { events: [], fetches: [], connects: [], sessions: [], muted: [], mics: 0 };
  const track = { enabled: true, stopped: false, stop() { this.stopped = true; } };
  const session = {
    on: null,
    disconnected: 0,
    async connect(url, token, m) {
      log.connects.push({ url, token, mic: m });
      const step = connects.shift();
      await tick();
      if (step instanceof Error) throw step;
      return { identity: 'web-user-1', present: !!step.present };
    },
    setMuted(m) {
      log.muted.push(m);
    },
    startAudio: async () => {},
    async disconnect() {
      this.disconnected++;
    },
  };
  const deps = {
    crossOrigin: () => cross,
    canCall: () => webrtc,
    config: () => parseConfig((n) => attrs[n] ?? null, { base: 'https://site.example/hms/', pageUrl: 'https://site.example/' }),
    context: () => context,
    getUserMedia:
      mic === 'unsupported'
        ? null
        : async () => {
            log.mics++;
            await tick();
            if (mic !== 'ok') throw Object.assign(new Error(mic), { name: mic });
            return { getAudioTracks: () => [track] };
          },
    fetch: async (url, init) => {
      log.fetches.push({ url, init });
      await tick();
      const next = responses.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    createSession: (opts) => {
      session.on = opts.on;
      log.sessions.push(opts);
      return session;
    },
    audioContext: () => null,
    audioHost: null,
    cookies: () => '',
    meta: () => '',
    now: () => clock.now,
    setTimeout: (fn, ms) => clock.set(fn, ms, false),
    clearTimeout: (id) => clock.clear(id),
    setInterval: (fn, ms) => clock.set(fn, ms, true),
    clearInterval: (id) => clock.clear(id),
  };
  const c = new Controller(deps, (kind, detail) => log.events.push([kind, detail]));
  const states = () => log.events.filter(([k]) => k === 'state').map(([, d]) => d.state);
  const last = (kind) => log.events.filter(([k]) => k === kind).at(-1)?.[1];
  return { c, clock, log, track, session, states, last };
}

async function settle() {
  for (let i = 0; i < 20; i++) await tick();
}

describe('microphone preflight comes before any backend request', () => {
  for (const [name, code] of [
    ['NotAllowedError', 'mic_denied'],
    ['NotFoundError', 'no_mic'],
    ['NotReadableError', 'mic_in_use'],
  ]) {
    it(`${name}: ${code}, and no call is created`, async () => {
      const { c, log, states, last } = setup({ mic: name });
      await c.start();
      assert.equal(log.fetches.length, 0);
      assert.equal(log.connects.length, 0);
      assert.deepEqual(states(), ['preflight', 'error']);
      assert.equal(last('error').code, code);
      assert.equal(c.state, 'error');
    });
  }

  it('reports a browser without getUserMedia (an http page) without asking anything', async () => {
    const { c, log, last } = setup({ mic: 'unsupported' });
    await c.start();
    assert.equal(last('error').code, 'mic_unsupported');
    assert.equal(log.fetches.length, 0);
  });

  it('reports a browser without WebRTC before the microphone or the backend is asked', async () => {
    const { c, log, states, last } = setup({ webrtc: false });
    assert.equal(c.supported, false);
    await c.start();
    await settle();
    assert.equal(last('error').code, 'unsupported_browser');
    assert.deepEqual(states(), ['preflight', 'error']);
    assert.equal(log.mics, 0, 'no microphone prompt for a call that cannot happen');
    assert.equal(log.fetches.length, 0);
    assert.equal(log.sessions.length, 0, 'no livekit room is made either');
    // Trying again (the element's start() from script) is refused the same way, never spending anything.
    await c.start();
    assert.equal(log.fetches.length, 0);
  });

  it('cancelling while the prompt is open creates nothing and releases the microphone', async () => {
    const { c, log, track, states } = setup();
    const started = c.start();
    c.end();
    await started;
    await settle();
    assert.equal(log.fetches.length, 0);
    assert.equal(track.stopped, true);
    assert.deepEqual(states(), ['preflight', 'idle']);
  });
});

describe('creating the call', () => {
  it('posts to the endpoint, then joins the room with the token and the preflighted track', async () => {
    const { c, log, track, states } = setup({ attrs: { assistant: 'sales' } });
    await c.start();
    assert.equal(log.fetches.length, 1);
    assert.equal(log.fetches[0].url, 'https://site.example/hms/web-calls');
    assert.deepEqual(JSON.parse(log.fetches[0].init.body), { assistant: 'sales' });
    assert.deepEqual(log.connects, [{ url: 'ws://127.0.0.1:7880', token: 'token-1', mic: track }]);
    assert.deepEqual(states(), ['preflight', 'requesting', 'connecting', 'live']);
    assert.equal(c.callId, 'call-1');
    assert.equal(c.connected, true);
  });

  for (const [status, code, retryAfter] of [
    [429, 'rate_limited', '30'],
    [503, 'busy', '12'],
    [429, 'too_many_calls', null],
    [403, 'forbidden_origin', null],
    [503, 'unavailable', null],
    [502, 'upstream_error', null],
  ]) {
    it(`${code}: the error carries its code and wait, and the microphone is released`, async () => {
      const headers = retryAfter ? { 'Retry-After': retryAfter } : {};
      const { c, log, track, last } = setup({
        responses: [response(status, { error: { code, message: 'x' } }, headers)],
      });
      await c.start();
      assert.equal(c.state, 'error');
      assert.deepEqual(last('error'), { code, status, retryAfter: retryAfter ? Number(retryAfter) : null });
      assert.equal(track.stopped, true);
      assert.equal(log.connects.length, 0);
    });
  }

  it('reports the network being down', async () => {
    const { c, last } = setup({ responses: [new TypeError('Failed to fetch')] });
    await c.start();
    assert.equal(last('error').code, 'network');
  });

  it('tells a cross-origin refusal (the server answers a CORS-free probe) from the network', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const refused = setup({ cross: true, responses: [new TypeError('Failed to fetch'), response(0, null)] });
    await refused.c.start();
    assert.equal(refused.last('error').code, 'forbidden_origin');
    assert.deepEqual(refused.log.fetches[1].init, { mode: 'no-cors', credentials: 'omit', cache: 'no-store' });
    assert.match(warn.mock.calls[0].arguments[0], /HMS_ALLOWED_ORIGINS/);
    const offline = setup({ cross: true, responses: [new TypeError('Failed to fetch'), new TypeError('offline')] });
    await offline.c.start();
    assert.equal(offline.last('error').code, 'network');
  });

  it('cancelling while the request is in flight reports nothing and probes nothing', async () => {
    const { c, log, track, states, last } = setup({ cross: true, responses: [new DOMException('aborted', 'AbortError')] });
    const started = c.start();
    while (c.state !== 'requesting') await tick();
    c.end();
    await started;
    await settle();
    assert.equal(log.fetches.length, 1, 'no CORS probe after a cancel');
    assert.equal(log.fetches[0].init.signal.aborted, true);
    assert.equal(track.stopped, true);
    assert.equal(last('error'), undefined);
    assert.deepEqual(states(), ['preflight', 'requesting', 'idle']);
  });

  it('a context JSON cannot encode fails the call cleanly and releases the microphone', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const context = {};
    context.self = context;
    const { c, log, track, last } = setup({ context });
    await c.start();
    assert.equal(c.state, 'error');
    assert.equal(last('error').code, 'invalid_request');
    assert.equal(log.fetches.length, 0);
    assert.equal(track.stopped, true);
    assert.equal(warn.mock.callCount(), 1, 'the cause is logged for the site owner');
  });

  it('treats a 201 without a token as an upstream error', async () => {
    const { c, log, last } = setup({ responses: [response(201, { call_id: 'x' })] });
    await c.start();
    assert.equal(last('error').code, 'upstream_error');
    assert.equal(log.connects.length, 0);
  });

  it('retries once with a fresh token when the first one expired', async () => {
    const { c, log, states } = setup({ responses: [CREATED(1), CREATED(2)], connects: [expiredError(), { present: true }] });
    await c.start();
    assert.equal(log.fetches.length, 2);
    assert.deepEqual(
      log.connects.map((x) => x.token),
      ['token-1', 'token-2'],
    );
    assert.equal(c.state, 'live');
    assert.equal(c.callId, 'call-2');
    assert.deepEqual(states(), ['preflight', 'requesting', 'connecting', 'live']);
  });

  it('gives up after the one retry', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const { c, log, last } = setup({
      responses: [CREATED(1), CREATED(2), CREATED(3)],
      connects: [expiredError(), expiredError()],
    });
    await c.start();
    assert.equal(log.fetches.length, 2);
    assert.equal(last('error').code, 'connect_failed');
    assert.equal(warn.mock.callCount(), 1, 'the cause is logged for the site owner');
  });

  it('does not retry other connection failures', async (t) => {
    t.mock.method(console, 'warn', () => {});
    const refused = Object.assign(new Error('invalid token: could not verify'), {
      name: 'ConnectionError',
      notAllowed: true,
    });
    const { c, log, track, session, last } = setup({ connects: [refused] });
    await c.start();
    assert.equal(log.fetches.length, 1);
    assert.equal(last('error').code, 'connect_failed');
    assert.equal(track.stopped, true);
    assert.equal(session.disconnected, 1);
  });
});

describe('a joined call', () => {
  it('waits for the assistant, then ends with agent_timeout if it never comes', async () => {
    const { c, clock, session, states, last } = setup({ connects: [{ present: false }], attrs: { 'agent-timeout': '3' } });
    await c.start();
    assert.equal(c.state, 'connecting');
    await clock.advance(2900);
    assert.equal(c.state, 'connecting');
    await clock.advance(200);
    assert.equal(c.state, 'ended');
    assert.equal(last('ended').reason, 'agent_timeout');
    assert.equal(session.disconnected, 1);
    assert.deepEqual(states(), ['preflight', 'requesting', 'connecting', 'ended']);
  });

  it('goes live when the assistant joins late, and the join timeout no longer fires', async () => {
    const { c, clock, session } = setup({ connects: [{ present: false }], attrs: { 'agent-timeout': '3' } });
    await c.start();
    await clock.advance(1000);
    session.on.joined();
    assert.equal(c.state, 'live');
    await clock.advance(5000);
    assert.equal(c.state, 'live');
  });

  it('builds the transcript from interim and final updates, role by identity', async () => {
    const { c, session, last } = setup();
    await c.start();
    const send = (id, identity, text, final) => session.on.transcript({ id, identity, local: 'web-user-1', text, final });
    send('SG_a', 'assistant', 'Hello', 'false');
    send('SG_a', 'assistant', 'Hello! How can I help?', 'true');
    send('SG_u', 'web-user-1', 'I need', false);
    send('SG_u', 'web-user-1', 'I need help.', true);
    assert.deepEqual(c.entries, [
      { id: 'SG_a', role: 'assistant', text: 'Hello! How can I help?', final: true },
      { id: 'SG_u', role: 'user', text: 'I need help.', final: true },
    ]);
    assert.equal(last('transcript').entry.id, 'SG_u');
  });

  it('hang-up: ends as user_hangup, releases the microphone and the room, keeps the transcript', async () => {
    const { c, clock, session, track, last } = setup();
    await c.start();
    session.on.transcript({ id: 'A', identity: 'assistant', local: 'web-user-1', text: 'Hi the', final: 'false' });
    await clock.advance(42_000);
    c.end();
    assert.equal(c.state, 'ended');
    assert.deepEqual(last('ended'), { reason: 'user_hangup', callId: 'call-1', durationSeconds: 42 });
    assert.equal(track.stopped, true);
    assert.equal(session.disconnected, 1);
    assert.deepEqual(c.entries, [{ id: 'A', role: 'assistant', text: 'Hi the', final: true }]);
    // Whatever the room still reports afterwards changes nothing.
    session.on.disconnected(1);
    session.on.transcript({ id: 'B', identity: 'assistant', local: 'web-user-1', text: 'late', final: 'true' });
    assert.equal(c.entries.length, 1);
    assert.equal(last('ended').reason, 'user_hangup');
  });

  it('the assistant hanging up before the limit is agent_hangup', async () => {
    const { c, clock, session, last } = setup();
    await c.start();
    await clock.advance(20_000);
    session.on.left();
    session.on.disconnected(5);
    assert.equal(last('ended').reason, 'agent_hangup');
  });

  it('the server ending the call at max_duration is max_duration', async () => {
    const { c, clock, session, last } = setup({ attrs: { 'max-duration': '8' } });
    await c.start();
    assert.equal(c.maxDuration, 8);
    await clock.advance(8_050);
    session.on.left();
    session.on.disconnected(5);
    assert.equal(last('ended').reason, 'max_duration');
  });

  it('ends the call itself when the assistant left but the room stays open', async () => {
    const { c, clock, session, last } = setup();
    await c.start();
    session.on.left();
    await clock.advance(1_900);
    assert.equal(c.state, 'live');
    await clock.advance(200);
    assert.equal(last('ended').reason, 'agent_hangup');
    assert.equal(session.disconnected, 1);
  });

  it('a dropped connection is connection_lost, and reconnecting is shown meanwhile', async () => {
    const { c, session, last, log } = setup();
    await c.start();
    session.on.reconnecting(true);
    assert.equal(c.state, 'reconnecting');
    assert.equal(log.events.filter(([k]) => k === 'state').at(-1)[1].state, 'reconnecting');
    session.on.disconnected(9);
    assert.equal(last('ended').reason, 'connection_lost');
  });

  it('mutes the preflighted track before joining, and the published one after', async () => {
    const { c, track, log } = setup();
    const started = c.start();
    await tick();
    await tick();
    c.mute(true);
    await started;
    assert.equal(track.enabled, false);
    assert.deepEqual(log.muted, [true]);
    c.mute(false);
    assert.deepEqual(log.muted, [true, false]);
    assert.equal(c.muted, false);
  });

  it('reports blocked audio playback, and a tap on the prompt unlocks it', async () => {
    const { c, session, last } = setup();
    let unlocked = 0;
    session.startAudio = async () => {
      unlocked++;
    };
    await c.start();
    session.on.audio(false);
    assert.equal(c.audioBlocked, true);
    assert.deepEqual(last('audio'), { blocked: true });
    c.unlockAudio();
    await settle();
    assert.equal(unlocked, 1);
    assert.equal(c.audioBlocked, false);
    assert.deepEqual(last('audio'), { blocked: false });
  });

  it('a second call starts clean', async () => {
    const { c, session } = setup({ responses: [CREATED(1), CREATED(2)], connects: [{ present: true }, { present: true }] });
    await c.start();
    session.on.transcript({ id: 'A', identity: 'assistant', local: 'web-user-1', text: 'Hi', final: true });
    c.end();
    await c.start();
    assert.equal(c.state, 'live');
    assert.equal(c.callId, 'call-2');
    assert.deepEqual(c.entries, []);
  });
});
