import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { applyUpdate, finalizeAll, isFinal, roleOf, toText } from '../src/transcript.js';

describe('isFinal', () => {
  it('accepts the strings HMS sends and booleans', () => {
    assert.equal(isFinal('true'), true);
    assert.equal(isFinal('TRUE'), true);
    assert.equal(isFinal(true), true);
    assert.equal(isFinal('false'), false);
    assert.equal(isFinal(false), false);
    assert.equal(isFinal(undefined), false);
    assert.equal(isFinal(''), false);
  });
});

describe('roleOf', () => {
  it('is the user for the local identity and the assistant for anyone else', () => {
    assert.equal(roleOf('web-user-1', 'web-user-1'), 'user');
    assert.equal(roleOf('assistant', 'web-user-1'), 'assistant');
    assert.equal(roleOf(undefined, undefined), 'assistant');
  });
});

describe('applyUpdate', () => {
  const u = (id, text, final = false, role = 'user') => ({ id, role, text, final });

  it('replaces an interim entry by its final text, keyed by segment id', () => {
    let entries = applyUpdate([], u('SG_1', 'hel'));
    entries = applyUpdate(entries, u('SG_1', 'hello wor'));
    entries = applyUpdate(entries, u('SG_1', 'Hello world.', true));
    assert.deepEqual(entries, [{ id: 'SG_1', role: 'user', text: 'Hello world.', final: true }]);
  });

  it('keeps segments in order of first appearance while earlier ones still change', () => {
    let entries = applyUpdate([], u('A', 'one', false, 'assistant'));
    entries = applyUpdate(entries, u('B', 'two'));
    entries = applyUpdate(entries, u('A', 'one more', true, 'assistant'));
    assert.deepEqual(
      entries.map((e) => [e.id, e.text, e.final]),
      [
        ['A', 'one more', true],
        ['B', 'two', false],
      ],
    );
  });

  it('ignores an interim that arrives after its final', () => {
    const done = applyUpdate([], u('A', 'Final text', true));
    assert.equal(applyUpdate(done, u('A', 'Fin')), done);
  });

  it('does not show an empty interim, and never mutates its input', () => {
    assert.deepEqual(applyUpdate([], u('A', '   ')), []);
    const before = applyUpdate([], u('A', 'x'));
    const frozen = Object.freeze(before.map((e) => Object.freeze(e)));
    const after = applyUpdate(frozen, u('A', 'xy'));
    assert.equal(frozen[0].text, 'x');
    assert.equal(after[0].text, 'xy');
  });

  it('returns the same array for an update that changes nothing (no needless re-render)', () => {
    const entries = applyUpdate([], u('A', 'same'));
    assert.equal(applyUpdate(entries, u('A', 'same')), entries);
  });

  it('keeps the role of the first update of a segment', () => {
    const entries = applyUpdate(applyUpdate([], u('A', 'hi', false, 'assistant')), u('A', 'hi there', true, 'user'));
    assert.equal(entries[0].role, 'assistant');
  });
});

describe('finalizeAll and toText', () => {
  it('marks what is left interim as final when the call ends', () => {
    const entries = [
      { id: 'A', role: 'assistant', text: 'Hi', final: true },
      { id: 'B', role: 'user', text: 'Hel', final: false },
    ];
    assert.deepEqual(
      finalizeAll(entries).map((e) => e.final),
      [true, true],
    );
    assert.equal(finalizeAll([entries[0]]).length, 1);
  });

  it('renders one "Name: text" line per entry for the clipboard', () => {
    const entries = [
      { id: 'A', role: 'assistant', text: 'Hello! ', final: true },
      { id: 'B', role: 'user', text: 'Hi', final: true },
    ];
    assert.equal(toText(entries, { user: 'You', assistant: 'Ava' }), 'Ava: Hello!\nYou: Hi');
  });
});
