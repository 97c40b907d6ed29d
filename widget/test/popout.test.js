// The pop-out window: its address (which attributes travel, which do not) and which states are a call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ATTRIBUTES } from '../src/attributes.js';
import { CHANNEL, POPOUT_ATTRIBUTES, WINDOW_NAME, popoutBusy, popoutUrl } from '../src/popout.js';

const base = 'https://api.example/hms/';

describe('the pop-out address', () => {
  it('is {prefix}/call with the element’s attributes as the query', () => {
    const attrs = { lang: 'nl', assistant: 'sales', consent: 'Calls are recorded & kept.', 'consent-version': '2' };
    const url = new URL(popoutUrl(base, (n) => attrs[n] ?? null, null));
    assert.equal(url.origin + url.pathname, 'https://api.example/hms/call');
    assert.deepEqual(Object.fromEntries(url.searchParams), attrs);
  });

  it('carries how long a call may stay down and the time limits, so the window behaves as the page would', () => {
    const attrs = { 'reconnect-timeout': '30', 'agent-timeout': '20', 'max-duration': '120' };
    const url = new URL(popoutUrl(base, (n) => attrs[n] ?? null, null));
    assert.deepEqual(Object.fromEntries(url.searchParams), attrs);
  });

  it('carries a context set as a property as JSON, over the attribute', () => {
    const url = new URL(popoutUrl(base, (n) => (n === 'context' ? '{"page":"old"}' : null), { page: '/pricing' }));
    assert.equal(url.searchParams.get('context'), '{"page":"/pricing"}');
  });

  it('leaves out the endpoint, the credentials mode and the CSRF token', () => {
    const url = new URL(popoutUrl(base, (n) => `value-${n}`, null));
    for (const name of ['endpoint', 'credentials', 'csrf-token', 'popout', 'autostart', 'popout-window']) {
      assert.equal(url.searchParams.has(name), false, name);
    }
    assert.equal(url.searchParams.get('csrf-header'), 'value-csrf-header');
  });

  it('only names attributes the element knows', () => {
    for (const name of POPOUT_ATTRIBUTES) assert.ok(ATTRIBUTES.includes(name), name);
  });

  it('uses one channel and one window name', () => {
    assert.equal(CHANNEL, 'hms-webcall');
    assert.equal(WINDOW_NAME, 'hms-webcall-popout');
  });
});

describe('the pop-out window’s state', () => {
  it('is a call from opening until it ends, fails or the window closes', () => {
    for (const s of ['opened', 'preflight', 'requesting', 'connecting', 'live']) assert.equal(popoutBusy(s), true, s);
    for (const s of ['idle', 'ended', 'error', 'closed']) assert.equal(popoutBusy(s), false, s);
  });
});
