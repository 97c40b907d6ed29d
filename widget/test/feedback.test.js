// Feedback after the call: the request (URL, headers, body) and how each answer is reported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FEEDBACK_MAX } from '../src/feedback.js';
import { created, response, setup } from './helpers.js';

async function ended(options) {
  const h = setup(options);
  await h.c.start();
  h.c.end();
  return h;
}

describe('sending feedback', () => {
  it('posts the rating and comment for the call, with the feedback token of an anonymous caller', async () => {
    const { c, log } = await ended({
      attrs: { 'csrf-header': 'X-CSRFToken', 'csrf-cookie': 'csrftoken' },
      responses: [created({ call_id: 'call/1', feedback_token: 'tok-123' }), response(204)],
    });
    assert.equal(c.feedbackToken, 'tok-123');
    assert.equal(await c.sendFeedback('up', '  Very helpful.  '), 'sent');
    const { url, init } = log.fetches[1];
    assert.equal(url, 'https://site.example/hms/web-calls/call%2F1/feedback');
    assert.equal(init.method, 'POST');
    assert.equal(init.credentials, 'include');
    assert.equal(init.headers['X-HMS-Feedback-Token'], 'tok-123');
    assert.equal(init.headers['X-CSRFToken'], 'abc', 'the same CSRF header as the create request');
    assert.equal(init.headers['Content-Type'], 'application/json');
    assert.deepEqual(JSON.parse(init.body), { rating: 'up', comment: 'Very helpful.' });
    assert.equal(init.keepalive, true, 'a rating sent as the visitor leaves the page still arrives');
  });

  it('sends no token header for a signed-in caller (the create response had none)', async () => {
    const { c, log } = await ended({ responses: [created(), response(204)] });
    assert.equal(c.feedbackToken, null);
    assert.equal(await c.sendFeedback('down'), 'sent');
    assert.equal('X-HMS-Feedback-Token' in log.fetches[1].init.headers, false);
    assert.deepEqual(JSON.parse(log.fetches[1].init.body), { rating: 'down' }, 'no empty comment');
  });

  it(`cuts the comment to ${FEEDBACK_MAX} characters`, async () => {
    const { c, log } = await ended({ responses: [created(), response(204)] });
    await c.sendFeedback('up', 'x'.repeat(FEEDBACK_MAX + 20));
    assert.equal(JSON.parse(log.fetches[1].init.body).comment.length, FEEDBACK_MAX);
  });

  for (const [status, body, result] of [
    [403, { error: { code: 'forbidden', message: 'x' } }, 'forbidden'],
    [409, { error: { code: 'already_rated', message: 'x' } }, 'already_rated'],
    [409, undefined, 'already_rated'],
    [500, undefined, 'failed'],
    [400, { error: { code: 'invalid_request', message: 'x' } }, 'failed'],
  ]) {
    it(`reports ${status} ${body ? body.error.code : '(no body)'} as ${result}`, async () => {
      const { c } = await ended({ responses: [created(), response(status, body)] });
      assert.equal(await c.sendFeedback('up'), result);
    });
  }

  it('reports the network being down as failed (the visitor may try again)', async () => {
    const { c } = await ended({ responses: [created(), new TypeError('Failed to fetch'), response(204)] });
    assert.equal(await c.sendFeedback('up'), 'failed');
    assert.equal(await c.sendFeedback('up'), 'sent');
  });

  it('sends nothing when there was no call', async () => {
    const { c, log } = setup();
    assert.equal(await c.sendFeedback('up'), 'failed');
    assert.equal(log.fetches.length, 0);
  });

  it('a new call forgets the last one’s token', async () => {
    const { c } = await ended({
      responses: [created({ feedback_token: 'first' }), created({ call_id: 'call-2' })],
    });
    await c.start();
    assert.equal(c.feedbackToken, null);
    assert.equal(c.callId, 'call-2');
  });
});
