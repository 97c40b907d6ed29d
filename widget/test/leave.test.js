// Leaving the page: the browser's own question while a call exists, and a clean hang-up when it goes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfig } from '../src/attributes.js';
import { inCall, leaveHandlers } from '../src/leave.js';

const config = (attrs = {}) => () =>
  parseConfig((n) => attrs[n] ?? null, { base: 'https://s.example/hms/', pageUrl: 'https://s.example/' });

function beforeunload(handlers) {
  const event = { prevented: false, returnValue: undefined, preventDefault() { this.prevented = true; } };
  handlers.beforeunload(event);
  return event;
}

describe('leaving the page', () => {
  for (const state of ['connecting', 'live']) {
    it(`asks first while ${state}`, () => {
      const event = beforeunload(leaveHandlers({ state }, config()));
      assert.equal(event.prevented, true);
      assert.equal(event.returnValue, '');
    });
  }

  for (const state of ['idle', 'preflight', 'requesting', 'ended', 'error']) {
    it(`does not ask while ${state}`, () => {
      assert.equal(beforeunload(leaveHandlers({ state }, config())).prevented, false);
    });
  }

  it('never asks with confirm-leave="false", and hangs up before the page is requested', () => {
    let ended = 0;
    const controller = { state: 'live', end: () => ended++ };
    const event = beforeunload(leaveHandlers(controller, config({ 'confirm-leave': 'false' })));
    assert.equal(event.prevented, false);
    assert.equal(event.returnValue, undefined);
    assert.equal(ended, 1);
  });

  it('hangs up nothing at beforeunload when it asks first (the visitor may stay)', () => {
    let ended = 0;
    beforeunload(leaveHandlers({ state: 'live', end: () => ended++ }, config()));
    assert.equal(ended, 0);
  });

  it('hangs up when the page goes (the controller ends it as user_hangup)', () => {
    let ended = 0;
    let gone = 0;
    const handlers = leaveHandlers({ state: 'live', end: () => ended++ }, config(), () => gone++);
    handlers.pagehide();
    assert.equal(ended, 1);
    assert.equal(gone, 1);
  });

  it('knows which states have a call: reconnecting too', () => {
    assert.deepEqual(
      ['idle', 'preflight', 'requesting', 'connecting', 'live', 'reconnecting', 'ended', 'error'].filter(inCall),
      ['connecting', 'live', 'reconnecting'],
    );
  });
});
