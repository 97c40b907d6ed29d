// Consent before the first call: the attributes, what is remembered per site, and the create body.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { consentNeeded, createRequest, parseConfig, remember, remembered } from '../src/attributes.js';
import { fakeStorage, setup } from './helpers.js';

const parse = (attrs = {}) =>
  parseConfig((n) => (n in attrs ? attrs[n] : null), { base: 'https://s.example/hms/', pageUrl: 'https://s.example/' });

describe('consent attributes', () => {
  it('has no consent text and version "1" by default', () => {
    const cfg = parse();
    assert.equal(cfg.consent, '');
    assert.equal(cfg.consentVersion, '1');
  });

  it('reads the text and the version', () => {
    const cfg = parse({ consent: 'Calls are recorded.', 'consent-version': ' 2024-06 ' });
    assert.equal(cfg.consent, 'Calls are recorded.');
    assert.equal(cfg.consentVersion, '2024-06');
  });

  it('falls back to "1" for a version the server would refuse (over 40 characters)', (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    assert.equal(parse({ 'consent-version': 'x'.repeat(41) }).consentVersion, '1');
    assert.equal(parse({ 'consent-version': 'x'.repeat(40) }).consentVersion, 'x'.repeat(40));
    assert.equal(warn.mock.callCount(), 1);
  });
});

describe('consent remembered per site', () => {
  it('is needed while no version, or another version, was accepted', (t) => {
    fakeStorage(t);
    assert.equal(consentNeeded('Calls are recorded.', '1'), true);
    remember('consent', '1');
    assert.equal(remembered('consent'), '1');
    assert.equal(consentNeeded('Calls are recorded.', '1'), false);
    assert.equal(consentNeeded('Calls are recorded.', '2'), true, 'a new version asks again');
  });

  it('is never needed without a consent text', (t) => {
    fakeStorage(t);
    assert.equal(consentNeeded('', '1'), false);
    assert.equal(consentNeeded(null, '1'), false);
  });

  it('asks every time when storage is unavailable (it throws)', (t) => {
    const data = fakeStorage(t);
    globalThis.localStorage.getItem = () => {
      throw new DOMException('denied', 'SecurityError');
    };
    globalThis.localStorage.setItem = globalThis.localStorage.getItem;
    remember('consent', '1');
    assert.equal(data.size, 0);
    assert.equal(consentNeeded('text', '1'), true);
  });

  it('keeps its keys apart from the page’s own', (t) => {
    const data = fakeStorage(t);
    remember('consent', '3');
    assert.deepEqual([...data.keys()], ['hms-webcall:consent']);
  });
});

describe('the create body carries the accepted version', () => {
  it('adds consent only when given', () => {
    assert.deepEqual(JSON.parse(createRequest(parse(), { consent: '2' }).body), { consent: '2' });
    assert.deepEqual(JSON.parse(createRequest(parse(), {}).body), {});
  });

  it('the controller sends what deps.consent() returns', async () => {
    const { c, log } = setup({ consent: '2024-06' });
    await c.start();
    assert.deepEqual(JSON.parse(log.fetches[0].init.body), { consent: '2024-06' });
    const none = setup();
    await none.c.start();
    assert.deepEqual(JSON.parse(none.log.fetches[0].init.body), {});
  });

  it('a server that requires consent refuses with consent_required, shown as its own error', async () => {
    const { response } = await import('./helpers.js');
    const body = { error: { code: 'consent_required', message: 'x' } };
    const { c, log } = setup({ responses: [response(400, body)] });
    await c.start();
    assert.equal(c.state, 'error');
    assert.equal(c.error.code, 'consent_required');
    assert.equal(log.tracks[0].stopped, true, 'the microphone is let go');
  });
});
