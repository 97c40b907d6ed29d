// The server the last call used is warmed up for the next one: only a URL a create answer gave, per site.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { warmedUp } from '../src/warm-up.js';

/** A session that records what it was asked to do. */
function fakeSession() {
  const calls = [];
  return {
    calls,
    session: {
      prepare: (url) => calls.push(['prepare', url]),
      connect: async (url, token) => (calls.push(['connect', url, token]), { identity: 'me', present: false }),
    },
  };
}

describe('warmedUp', () => {
  beforeEach(() => {
    const store = new Map();
    globalThis.localStorage = {
      getItem: (k) => (store.has(k) ? store.get(k) : null),
      setItem: (k, v) => store.set(k, String(v)),
    };
  });

  it('prepares nothing on the first call, then the server that call joined', async () => {
    const first = fakeSession();
    await warmedUp(first.session).connect('wss://lk.example/', 't1');
    assert.deepEqual(first.calls, [['connect', 'wss://lk.example/', 't1']]);

    const next = fakeSession();
    await warmedUp(next.session).connect('wss://lk.example/', 't2');
    assert.deepEqual(next.calls, [
      ['prepare', 'wss://lk.example/'],
      ['connect', 'wss://lk.example/', 't2'],
    ]);
  });

  it('ignores a remembered value that is no server URL', () => {
    for (const bad of ['javascript:alert(1)', 'not a url', '', 'file:///etc/passwd']) {
      localStorage.setItem('hms-webcall:server', bad);
      const { session, calls } = fakeSession();
      warmedUp(session);
      assert.deepEqual(calls, [], bad);
    }
  });

  it('works without storage (sandboxed frames): nothing prepared, the call still joins', async () => {
    globalThis.localStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('SecurityError');
      },
    };
    const { session, calls } = fakeSession();
    await warmedUp(session).connect('wss://lk.example/', 't');
    assert.deepEqual(calls, [['connect', 'wss://lk.example/', 't']]);
  });
});
