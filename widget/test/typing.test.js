// Typing into a call: the line goes on lk.chat and into the transcript once, marked typed; a call can be
// started without a microphone; sendText() rejects clearly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MAX_TYPED, typedLine } from '../src/typing.js';
import { setup } from './helpers.js';

/** A controller whose fake session records what it sends on lk.chat. */
function typingSetup() {
  const parts = setup();
  parts.log.sent = [];
  parts.session.sendText = async (text) => {
    parts.log.sent.push(text);
  };
  return parts;
}

describe('typed lines', () => {
  it('a line is trimmed; an empty or too long one is refused with its code', () => {
    assert.equal(typedLine('  where is my order 123?  '), 'where is my order 123?');
    assert.throws(() => typedLine('   '), { code: 'empty' });
    assert.equal(typedLine('é'.repeat(MAX_TYPED)), 'é'.repeat(MAX_TYPED));
    assert.throws(() => typedLine('x'.repeat(MAX_TYPED + 1)), { code: 'too_long', message: /at most 500/ });
  });

  it('sendText in a live call sends the line and shows it once as the visitor\'s, marked typed', async () => {
    const { c, log } = typingSetup();
    await c.start();
    assert.equal(c.state, 'live');
    assert.equal(await c.sendText(' Where is my order 123? '), 'Where is my order 123?');
    assert.deepEqual(log.sent, ['Where is my order 123?']);
    assert.deepEqual(c.entries, [
      { id: 'typed-0', role: 'user', text: 'Where is my order 123?', final: true, typed: true },
    ]);
    // An assistant that echoes typed text on lk.transcription: not shown a second time.
    const send = (id, identity, text) =>
      log.sessionOptions.on.transcript({ id, identity, local: 'web-user-1', text, final: 'true' });
    send('SG_echo', 'web-user-1', 'Where is my order 123?');
    send('SG_a', 'agent-1', 'Order 123 is shipped.');
    assert.deepEqual(
      c.entries.map((e) => [e.role, e.text, !!e.typed]),
      [
        ['user', 'Where is my order 123?', true],
        ['assistant', 'Order 123 is shipped.', false],
      ],
    );
  });

  it('sendText rejects when no call is live, and sends nothing', async () => {
    const { c, log } = typingSetup();
    await assert.rejects(c.sendText('hello'), { code: 'not_live', message: /no call is live/ });
    await c.start();
    c.end();
    await assert.rejects(c.sendText('hello'), { code: 'not_live' });
    assert.deepEqual(log.sent, []);
  });

  it('a typed call asks for no microphone, joins without one and hides nothing else', async () => {
    const { c, log } = typingSetup();
    await c.start({ typing: true });
    assert.equal(c.state, 'live');
    assert.equal(c.typing, true);
    assert.deepEqual(log.constraints, []); // getUserMedia was never asked
    assert.equal(log.fetches.length, 1); // the call was created as usual
    await c.sendText('order 123');
    assert.deepEqual(log.sent, ['order 123']);
    c.end();
    await c.start();
    assert.equal(c.typing, false); // the next call asks for the microphone again
    assert.equal(log.constraints.length, 1);
  });
});
