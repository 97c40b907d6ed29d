import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AgentState } from '../src/agent-state.js';

// Samples every 120 ms, as the call's level polling does; returns the states reported, in order.
function run(agent, steps) {
  const seen = [];
  for (const [now, sample] of steps) {
    const changed = agent.sample(sample, now);
    if (changed) seen.push(changed);
  }
  return seen;
}

describe('AgentState with the agent attribute (LiveKit Agents)', () => {
  it('follows lk.agent.state and reports each state once', () => {
    const agent = new AgentState();
    const seen = run(agent, [
      [0, { attribute: 'listening' }],
      [120, { attribute: 'listening' }],
      [240, { attribute: 'thinking' }],
      [360, { attribute: 'speaking', level: 0.5 }],
      [480, { attribute: 'speaking', level: 0.5 }],
      [600, { attribute: 'listening' }],
    ]);
    assert.deepEqual(seen, ['listening', 'thinking', 'speaking', 'listening']);
    assert.equal(agent.state, 'listening');
  });

  it('trusts the attribute over the audio: a loud frame while it says listening is not speaking', () => {
    const agent = new AgentState();
    assert.deepEqual(run(agent, [[0, { attribute: 'listening', level: 0.9, speaking: true }]]), ['listening']);
  });

  it('falls back to the other signals while the agent is initializing', () => {
    const agent = new AgentState();
    assert.deepEqual(run(agent, [[0, { attribute: 'initializing', level: 0.5 }]]), ['speaking']);
  });
});

describe('AgentState without the attribute (speaking flag, audio level, transcript timing)', () => {
  it('is listening until the assistant is heard, speaking while it is', () => {
    const agent = new AgentState();
    assert.deepEqual(run(agent, [[0, {}], [120, { speaking: true }], [240, { level: 0.3 }]]), [
      'listening',
      'speaking',
    ]);
  });

  it('keeps speaking through the pause between words, not after the turn', () => {
    const agent = new AgentState();
    const seen = run(agent, [
      [0, { level: 0.4 }],
      [120, { level: 0.01 }],
      [240, { level: 0.01 }],
      [360, { level: 0.4 }],
      [480, { level: 0 }],
      [720, { level: 0 }],
      [960, { level: 0 }],
      [1200, { level: 0 }],
    ]);
    assert.deepEqual(seen, ['speaking', 'listening']);
  });

  it("thinks from the visitor's final line until the answer starts", () => {
    const agent = new AgentState();
    assert.deepEqual(run(agent, [[0, {}]]), ['listening']);
    agent.line('user', false, 100); // still talking
    assert.deepEqual(run(agent, [[120, {}]]), []);
    agent.line('user', true, 200);
    assert.deepEqual(run(agent, [[240, {}], [360, {}], [1500, {}]]), ['thinking']);
    assert.deepEqual(run(agent, [[1620, { level: 0.5 }], [1740, { level: 0.5 }]]), ['speaking']);
    assert.deepEqual(run(agent, [[3000, {}]]), ['listening']);
  });

  it("counts the assistant's transcript words as speaking (their audio may not be measurable)", () => {
    const agent = new AgentState();
    agent.line('user', true, 0);
    assert.deepEqual(run(agent, [[120, {}]]), ['thinking']);
    agent.line('assistant', false, 200);
    assert.deepEqual(run(agent, [[240, {}], [2000, {}]]), ['speaking', 'listening']);
  });

  it('goes back to listening when the visitor talks again, or when no answer comes', () => {
    const agent = new AgentState();
    agent.line('user', true, 0);
    assert.deepEqual(run(agent, [[120, {}]]), ['thinking']);
    agent.line('user', false, 500);
    assert.deepEqual(run(agent, [[600, {}]]), ['listening']);
    agent.line('user', true, 1000);
    assert.deepEqual(run(agent, [[1100, {}], [15_900, {}], [16_100, {}]]), ['thinking', 'listening']);
  });
});
