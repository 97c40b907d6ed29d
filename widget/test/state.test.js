import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { INITIAL, endReason, isActive, reduce } from '../src/state.js';

const run = (...events) => events.reduce((s, e) => reduce(s, typeof e === 'string' ? { type: e } : e), INITIAL);

describe('state machine', () => {
  it('goes idle -> preflight -> requesting -> connecting -> live -> ended', () => {
    const seen = [];
    let s = INITIAL;
    for (const type of ['start', 'mic_ok', 'created', 'connected', 'agent_joined']) {
      s = reduce(s, { type });
      seen.push(s.state);
    }
    s = reduce(s, { type: 'end', reason: 'user_hangup' });
    assert.deepEqual(seen, ['preflight', 'requesting', 'connecting', 'connecting', 'live']);
    assert.equal(s.state, 'ended');
    assert.equal(s.reason, 'user_hangup');
  });

  it('stays connecting until the room is joined, whatever the assistant does', () => {
    assert.equal(run('start', 'mic_ok', 'created', 'agent_joined').state, 'connecting');
  });

  it('ignores events that do not belong to the current state', () => {
    const idle = INITIAL;
    assert.equal(reduce(idle, { type: 'mic_ok' }), idle);
    assert.equal(reduce(idle, { type: 'end', reason: 'x' }), idle);
    assert.equal(reduce(idle, { type: 'fail', error: {} }), idle);
    const live = run('start', 'mic_ok', 'created', 'connected', 'agent_joined');
    assert.equal(reduce(live, { type: 'start' }), live);
    const ended = reduce(live, { type: 'end', reason: 'agent_hangup' });
    assert.equal(reduce(ended, { type: 'end', reason: 'user_hangup' }), ended, 'a late event cannot rewrite the reason');
    assert.equal(reduce(ended, { type: 'agent_joined' }), ended);
  });

  it('fails from every active state and keeps the error', () => {
    for (const steps of [['start'], ['start', 'mic_ok'], ['start', 'mic_ok', 'created']]) {
      const s = reduce(run(...steps), { type: 'fail', error: { code: 'busy' } });
      assert.equal(s.state, 'error');
      assert.deepEqual(s.error, { code: 'busy' });
    }
  });

  it('cancels back to idle only before a call exists', () => {
    assert.equal(run('start', 'cancel').state, 'idle');
    assert.equal(run('start', 'mic_ok', 'cancel').state, 'idle');
    assert.equal(run('start', 'mic_ok', 'created', 'cancel').state, 'connecting');
  });

  it('starts again from ended or error, and resets to idle', () => {
    const ended = run('start', 'mic_ok', 'created', 'connected', { type: 'end', reason: 'max_duration' });
    assert.equal(reduce(ended, { type: 'start' }).state, 'preflight');
    assert.equal(reduce(ended, { type: 'start' }).reason, null);
    assert.equal(reduce(ended, { type: 'reset' }).state, 'idle');
    const failed = run('start', { type: 'fail', error: { code: 'no_mic' } });
    assert.equal(reduce(failed, { type: 'start' }).error, null);
  });

  it('reconnecting is a state of its own, left for the state it came from, or for the end', () => {
    const live = run('start', 'mic_ok', 'created', 'connected', 'agent_joined');
    const rec = reduce(live, { type: 'reconnecting' });
    assert.equal(rec.state, 'reconnecting');
    assert.equal(isActive(rec), true);
    assert.equal(reduce(rec, { type: 'reconnected' }).state, 'live');
    const ended = reduce(rec, { type: 'end', reason: 'connection_lost' });
    assert.equal(ended.state, 'ended');
    assert.equal(reduce(ended, { type: 'reconnected' }), ended);
    assert.equal(reduce(INITIAL, { type: 'reconnecting' }), INITIAL);
    // Still waiting for the assistant: back to connecting, or to live if it joined meanwhile.
    const waiting = reduce(run('start', 'mic_ok', 'created', 'connected'), { type: 'reconnecting' });
    assert.equal(reduce(waiting, { type: 'reconnected' }).state, 'connecting');
    const joined = reduce(waiting, { type: 'agent_joined' });
    assert.equal(joined.state, 'reconnecting');
    assert.equal(reduce(joined, { type: 'reconnected' }).state, 'live');
  });

  it('knows which states are active', () => {
    assert.deepEqual(
      ['idle', 'preflight', 'requesting', 'connecting', 'live', 'reconnecting', 'ended', 'error'].map((state) =>
        isActive({ state }),
      ),
      [false, true, true, true, true, true, false, false],
    );
  });
});

describe('endReason', () => {
  const base = { byUser: false, agentTimeout: false, agentLeft: false, elapsed: 30, maxDuration: 300 };

  it('names a hang-up by the visitor, whatever the server says', () => {
    assert.equal(endReason({ ...base, byUser: true, disconnectReason: 5 }), 'user_hangup');
  });

  it('names an assistant that never joined', () => {
    assert.equal(endReason({ ...base, agentTimeout: true }), 'agent_timeout');
  });

  it('tells the assistant hanging up from the time limit by the elapsed time', () => {
    assert.equal(endReason({ ...base, agentLeft: true, disconnectReason: 5 }), 'agent_hangup');
    assert.equal(endReason({ ...base, disconnectReason: 4 }), 'agent_hangup');
    assert.equal(endReason({ ...base, elapsed: 299, disconnectReason: 5 }), 'max_duration');
    assert.equal(endReason({ ...base, elapsed: 8.2, maxDuration: 8, agentLeft: true }), 'max_duration');
  });

  it('calls a dropped signal connection a lost connection, and failures errors', () => {
    assert.equal(endReason({ ...base, disconnectReason: 9 }), 'connection_lost'); // SIGNAL_CLOSE
    assert.equal(endReason({ ...base, disconnectReason: 14 }), 'connection_lost'); // CONNECTION_TIMEOUT
    assert.equal(endReason({ ...base, disconnectReason: 0 }), 'connection_lost');
    assert.equal(endReason({ ...base, disconnectReason: 2 }), 'error'); // DUPLICATE_IDENTITY
    assert.equal(endReason({ ...base, disconnectReason: 16 }), 'error'); // AGENT_ERROR
    assert.equal(endReason({ ...base, disconnectReason: 1 }), 'user_hangup'); // CLIENT_INITIATED
  });
});
