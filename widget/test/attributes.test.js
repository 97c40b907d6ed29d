import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';

import { ATTRIBUTES, createRequest, parseConfig, readCookie } from '../src/attributes.js';

const env = { base: 'https://shop.example/hms/', pageUrl: 'https://shop.example/pricing/' };
const parse = (attrs = {}) => parseConfig((name) => (name in attrs ? attrs[name] : null), env);

describe('parseConfig', () => {
  it('derives the endpoint from where widget.js was served', () => {
    assert.equal(parse().endpoint, 'https://shop.example/hms/web-calls');
    assert.equal(
      parseConfig(() => null, { base: 'https://api.example/voice/', pageUrl: 'https://www.example/' }).endpoint,
      'https://api.example/voice/web-calls',
    );
  });

  it('resolves an explicit endpoint against the page', () => {
    assert.equal(parse({ endpoint: '/api/calls' }).endpoint, 'https://shop.example/api/calls');
    assert.equal(parse({ endpoint: 'https://api.example/x' }).endpoint, 'https://api.example/x');
  });

  it('has sensible defaults', () => {
    const cfg = parse();
    assert.equal(cfg.position, 'bottom-right');
    assert.equal(cfg.theme, 'auto');
    assert.equal(cfg.lang, 'auto');
    assert.equal(cfg.showTranscript, true);
    assert.equal(cfg.credentials, 'include');
    assert.equal(cfg.agentTimeout, 15);
    assert.equal(cfg.maxDuration, 0);
    assert.equal(cfg.assistant, null);
    assert.deepEqual(cfg.strings, {});
  });

  it('reads every documented attribute', () => {
    const cfg = parse({
      label: 'Call us',
      position: 'Top-Left',
      theme: 'dark',
      lang: 'nl',
      assistant: 'sales',
      'assistant-name': 'Ava',
      'show-transcript': 'false',
      context: '{"page": "pricing"}',
      credentials: 'same-origin',
      'csrf-header': 'X-CSRFToken',
      'csrf-token': 'tok',
      'agent-timeout': '2.5',
      'max-duration': '8',
      strings: '{"start": "Bel ons"}',
    });
    assert.deepEqual(
      {
        label: cfg.label,
        position: cfg.position,
        theme: cfg.theme,
        lang: cfg.lang,
        assistant: cfg.assistant,
        assistantName: cfg.assistantName,
        showTranscript: cfg.showTranscript,
        context: cfg.context,
        credentials: cfg.credentials,
        csrfHeader: cfg.csrfHeader,
        csrfToken: cfg.csrfToken,
        agentTimeout: cfg.agentTimeout,
        maxDuration: cfg.maxDuration,
        strings: cfg.strings,
      },
      {
        label: 'Call us',
        position: 'top-left',
        theme: 'dark',
        lang: 'nl',
        assistant: 'sales',
        assistantName: 'Ava',
        showTranscript: false,
        context: { page: 'pricing' },
        credentials: 'same-origin',
        csrfHeader: 'X-CSRFToken',
        csrfToken: 'tok',
        agentTimeout: 2.5,
        maxDuration: 8,
        strings: { start: 'Bel ons' },
      },
    );
  });

  it('treats only explicit "off" words as false for show-transcript', () => {
    for (const v of ['false', '0', 'no', 'OFF']) assert.equal(parse({ 'show-transcript': v }).showTranscript, false);
    for (const v of ['', 'true', 'yes']) assert.equal(parse({ 'show-transcript': v }).showTranscript, true);
  });

  it('falls back to the default on bad values, with a warning instead of a broken page', (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const cfg = parse({
      position: 'middle',
      theme: 'neon',
      credentials: 'always',
      'agent-timeout': '-1',
      context: '[1, 2]',
      strings: '{oops',
    });
    assert.equal(cfg.position, 'bottom-right');
    assert.equal(cfg.theme, 'auto');
    assert.equal(cfg.credentials, 'include');
    assert.equal(cfg.agentTimeout, 15);
    assert.equal(cfg.context, null);
    assert.deepEqual(cfg.strings, {});
    assert.equal(warn.mock.callCount(), 6);
  });

  it('lists every attribute it reads as observed', () => {
    const read = new Set();
    parseConfig((name) => {
      read.add(name);
      return null;
    }, env);
    assert.deepEqual([...read].sort(), [...ATTRIBUTES].sort());
  });
});

describe('createRequest', () => {
  it('posts JSON with credentials, the assistant name and the context', () => {
    const init = createRequest(parse({ assistant: 'sales', context: '{"a": "1"}' }), {});
    assert.equal(init.method, 'POST');
    assert.equal(init.credentials, 'include');
    assert.equal(init.headers['Content-Type'], 'application/json');
    assert.deepEqual(JSON.parse(init.body), { assistant: 'sales', context: { a: '1' } });
  });

  it('sends an empty object when nothing is configured', () => {
    assert.deepEqual(JSON.parse(createRequest(parse(), {}).body), {});
  });

  it('lets the element’s context property win over the attribute', () => {
    const init = createRequest(parse({ context: '{"a": "1"}' }), { context: { b: '2' } });
    assert.deepEqual(JSON.parse(init.body).context, { b: '2' });
  });

  it('sends no CSRF header unless one is configured', () => {
    const { headers } = createRequest(parse(), { cookies: 'csrf=abc' });
    assert.deepEqual(Object.keys(headers).sort(), ['Accept', 'Content-Type']);
  });

  it('takes the CSRF value from the attribute, else the cookie, else the meta tag', () => {
    const meta = (name) => (name === 'csrf-token' ? 'from-meta' : '');
    const header = (attrs, cookies = '') =>
      createRequest(parse({ 'csrf-header': 'X-CSRFToken', ...attrs }), { cookies, meta }).headers['X-CSRFToken'];
    assert.equal(header({ 'csrf-token': 'literal' }, 'csrf=c'), 'literal');
    assert.equal(header({ 'csrf-cookie': 'csrf' }, 'a=1; csrf=from%20cookie; b=2'), 'from cookie');
    assert.equal(header({}), 'from-meta');
    assert.equal(header({ 'csrf-meta': 'other' }), '');
  });
});

describe('readCookie', () => {
  it('finds a cookie by exact name', () => {
    assert.equal(readCookie('xcsrf=1; csrf=2', 'csrf'), '2');
    assert.equal(readCookie('', 'csrf'), '');
  });
});
