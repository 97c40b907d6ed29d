import assert from 'node:assert/strict';
import { test } from 'node:test';

import { toolAnswerer } from '../src/page-tools.js';

const request = (over = {}) =>
  JSON.stringify({ name: 'cart_contents', args: { detail: 'all' }, callId: 'c1', request: 'cart_contents.r1',
    answerUrl: '/hms/web-calls/c1/tools/cart_contents.r1', timeout: 4000, ...over });

function answerer(tools) {
  const posted = [];
  const errors = [];
  const answer = toolAnswerer({
    tools: new Map(Object.entries(tools)),
    post: async (url, body) => posted.push([url, JSON.parse(body)]),
    emit: (type, detail) => errors.push([type, detail]),
    console: { error: () => {} },
  });
  return { answer, posted, errors };
}

test("the page's handler answers a tool request, once, however often the stream replays it", async () => {
  const { answer, posted } = answerer({ cart_contents: async (args) => ({ items: [args.detail] }) });
  await answer(request());
  await answer(request());
  assert.deepEqual(posted, [['/hms/web-calls/c1/tools/cart_contents.r1', { answer: { items: ['all'] } }]]);
});

test('a handler that throws, or none at all, answers failed at once and reports tool_failed', async () => {
  const { answer, posted, errors } = answerer({ cart_contents: () => { throw new Error('no basket'); } });
  await answer(request());
  await answer(request({ name: 'unknown', request: 'unknown.r2', answerUrl: '/u' }));
  assert.deepEqual(posted.map(([, body]) => body), [{ failed: true }, { failed: true }]);
  assert.deepEqual(errors.map(([type, d]) => [type, d.code, d.tool]), [
    ['error', 'tool_failed', 'cart_contents'],
    ['error', 'tool_failed', 'unknown'],
  ]);
});

test('an answer that is not JSON data answers failed', async () => {
  const cyclic = {};
  cyclic.self = cyclic;
  const { answer, posted } = answerer({ cart_contents: () => cyclic });
  await answer(request());
  assert.deepEqual(posted.map(([, body]) => body), [{ failed: true }]);
});
