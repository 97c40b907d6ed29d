// Where the start of a call goes (hms:timing), and `live` coming no later than the first thing the visitor
// hears or reads: the controller against fakes whose steps each take a known time on a fake clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Controller } from '../src/controller.js';
import { response, settle, setup } from './helpers.js';

/** A controller whose microphone takes 100 ms, create 200 ms and join 300 ms on a clock that starts at 0. */
function timed({ responses, publish = async () => {}, clickedAt = null, join = true } = {}) {
  const { deps, session, log: fakes } = setup({ responses });
  const clock = { now: 0 };
  const log = [];
  const gum = deps.getUserMedia;
  const fetch = deps.fetch;
  let joined;
  Object.assign(deps, {
    now: () => clock.now,
    clickedAt: () => clickedAt,
    getUserMedia: async (constraints) => ((clock.now += 100), gum(constraints)),
    fetch: async (url, init) => ((clock.now += 200), fetch(url, init)),
  });
  session.connect = () =>
    new Promise((resolve, reject) => {
      joined = () => {
        clock.now += 300;
        // call.js's connect resolves once the microphone is published, and rejects when it cannot be
        publish().then(() => resolve({ identity: 'web-user-1', present: true }), reject);
      };
      if (join) setImmediate(joined);
    });
  const c = new Controller(deps, (kind, detail) => log.push([kind, detail]));
  const on = () => fakes.sessionOptions.on; // what the session reports
  const line = (text) => on().transcript({ id: 's1', identity: 'agent-1', local: 'web-user-1', text, final: 'false' });
  return { c, clock, log, on, line, join: () => joined() };
}

const timings = (log) => log.filter(([kind]) => kind === 'timing').map(([, detail]) => detail);

describe('hms:timing: where the start of a call went', () => {
  it('reports each stage in ms from the click, once, when the call is live and heard and read', async () => {
    const { c, clock, log, on, line } = timed();
    await c.start();
    await settle();
    assert.equal(c.state, 'live');
    assert.deepEqual(timings(log), [], 'not before the first audio and line are here');
    clock.now += 50;
    on().heard();
    clock.now += 50;
    line('Hello');
    line('Hello, how');
    on().heard(); // another track: the first counts
    assert.deepEqual(timings(log), [
      {
        callId: 'call-1',
        stages: { microphone: 100, create: 300, connect: 600, assistant: 600, live: 600, audio: 650, transcript: 700 },
      },
    ]);
    c.end();
    assert.equal(timings(log).length, 1, 'once per call');
  });

  it('counts from the click that came before the call code, and says when the code arrived', async () => {
    const { c, log, on, line } = timed({ clickedAt: -400 });
    await c.start();
    await settle();
    on().heard();
    line('Hello');
    const [{ stages }] = timings(log);
    assert.equal(stages.code, 400);
    assert.equal(stages.microphone, 500);
    assert.equal(stages.live, 1000);
  });

  it('a call that fails before it is live reports the stages it reached, before the error', async () => {
    const { c, log } = timed({ responses: [response(503, { error: { code: 'upstream_error' } })] });
    await c.start();
    await settle();
    assert.equal(c.state, 'error');
    const kinds = log.map(([kind]) => kind);
    assert.ok(kinds.indexOf('timing') < kinds.indexOf('error'), kinds.join());
    assert.deepEqual(timings(log), [{ callId: null, stages: { microphone: 100 } }]);
  });
});

describe('live is never after the first thing the visitor hears or reads', () => {
  for (const [what, arrive] of [
    ['a transcript line', (t) => t.line('Hello')],
    ['the audio of an assistant in the room', (t) => (t.on().joined(), t.on().heard())],
  ]) {
    it(`${what} that comes before the join completes makes the call live first`, async () => {
      const t = timed({ join: false });
      const started = t.c.start();
      await settle();
      assert.equal(t.c.state, 'connecting');
      arrive(t);
      assert.equal(t.c.state, 'live');
      const notices = t.log.map(([kind, detail]) => (kind === 'state' ? detail.state : kind));
      const live = notices.indexOf('live');
      const heard = what === 'a transcript line' ? notices.lastIndexOf('transcript') : notices.indexOf('timing');
      assert.ok(live >= 0 && (heard < 0 || live < heard), notices.join());
      t.join();
      await started;
      assert.equal(t.c.state, 'live');
      assert.equal(notices.filter((n) => n === 'live').length, 1);
    });
  }

  it('audio packets before the assistant is in the room do not make the call live', async () => {
    // A server may send the assistant's track (silence) before the assistant joins, or when it never does.
    const t = timed({ join: false });
    const started = t.c.start();
    await settle();
    t.on().heard();
    assert.equal(t.c.state, 'connecting');
    t.on().joined(); // the assistant comes in: its audio now means the visitor hears it
    t.on().heard();
    assert.equal(t.c.state, 'live');
    t.join();
    await started;
  });

  it('a call live before its join completed still fails cleanly when the join then fails', async () => {
    const t = timed({ join: false, publish: async () => Promise.reject(new Error('publish failed')) });
    const started = t.c.start();
    await settle();
    t.line('Hello');
    assert.equal(t.c.state, 'live');
    const warn = console.warn;
    console.warn = () => {};
    try {
      t.join();
      await started;
    } finally {
      console.warn = warn;
    }
    assert.equal(t.c.state, 'error');
    assert.deepEqual(t.log.filter(([kind]) => kind === 'error').map(([, e]) => e.code), ['connect_failed']);
  });
});
