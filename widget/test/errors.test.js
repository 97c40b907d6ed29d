import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  BACKEND_CODES,
  backendError,
  browserFamily,
  describeError,
  isTokenExpired,
  micErrorCode,
  parseRetryAfter,
} from '../src/errors.js';
import { translator } from '../src/i18n.js';
import { STRINGS } from '../src/strings.js';

const t = translator(STRINGS, 'en');
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

describe('micErrorCode', () => {
  it('maps getUserMedia rejections to denied, missing and busy microphones', () => {
    const code = (name) => micErrorCode({ name });
    assert.equal(code('NotAllowedError'), 'mic_denied');
    assert.equal(code('SecurityError'), 'mic_denied');
    assert.equal(code('NotFoundError'), 'no_mic');
    assert.equal(code('OverconstrainedError'), 'no_mic');
    assert.equal(code('NotReadableError'), 'mic_in_use');
    assert.equal(code('AbortError'), 'mic_in_use');
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    assert.equal(parseRetryAfter('17'), 17);
    assert.equal(parseRetryAfter(' 0 '), 0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:42 GMT', now), 42);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter(''), null);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter('-5'), null);
  });
});

describe('backendError', () => {
  it('keeps every code of the browser contract', () => {
    for (const code of BACKEND_CODES) {
      assert.equal(backendError(400, { error: { code, message: 'x' } }, null).code, code);
    }
  });

  it('falls back on the status when the body is not the documented shape', () => {
    assert.equal(backendError(429, '<html>', null).code, 'rate_limited');
    assert.equal(backendError(503, null, null).code, 'busy');
    assert.equal(backendError(504, null, null).code, 'upstream_timeout');
    assert.equal(backendError(500, { error: { code: 'something_new' } }, null).code, 'upstream_error');
  });

  it('carries the Retry-After wait', () => {
    assert.deepEqual(backendError(429, { error: { code: 'rate_limited' } }, '30'), {
      code: 'rate_limited',
      status: 429,
      retryAfter: 30,
    });
  });
});

describe('describeError', () => {
  it('gives every error code its own message', () => {
    const local = ['mic_denied', 'no_mic', 'mic_in_use', 'mic_unsupported', 'unsupported_browser', 'network'];
    const codes = [...BACKEND_CODES, ...local, 'connect_failed'];
    const messages = codes.map((code) => describeError({ code, retryAfter: 5 }, t, CHROME).message);
    assert.equal(new Set(messages).size, codes.length, messages.join('\n'));
    for (const m of messages) assert.doesNotMatch(m, /[{}]|_/, `unfilled or raw key: ${m}`);
  });

  it('says how long to wait when rate limited or busy, and blocks the retry until then', () => {
    const limited = describeError({ code: 'rate_limited', retryAfter: 42 }, t, CHROME);
    assert.match(limited.message, /42 s/);
    assert.equal(limited.wait, 42);
    assert.equal(limited.retry, true);
    assert.match(describeError({ code: 'busy', retryAfter: 150 }, t, CHROME).message, /3 min/);
    const busy = describeError({ code: 'busy', retryAfter: null }, t, CHROME);
    assert.doesNotMatch(busy.message, /\{wait\}/);
    assert.equal(busy.wait, 0);
  });

  it('explains how to re-allow the microphone in the visitor’s browser', () => {
    const hint = (ua) => describeError({ code: 'mic_denied' }, t, ua).hint;
    assert.match(hint(CHROME), /address bar/);
    assert.match(hint(FIREFOX), /crossed-out microphone/);
    assert.match(hint(SAFARI), /Settings for this website/);
    assert.notEqual(hint(CHROME), hint(FIREFOX));
    assert.equal(describeError({ code: 'no_mic' }, t, CHROME).hint, '');
  });

  it('offers a retry only where trying again can help', () => {
    assert.equal(describeError({ code: 'mic_denied' }, t).retry, true);
    assert.equal(describeError({ code: 'network' }, t).retry, true);
    assert.equal(describeError({ code: 'forbidden_origin' }, t).retry, false);
    assert.equal(describeError({ code: 'misconfigured' }, t).retry, false);
    assert.equal(describeError({ code: 'mic_unsupported' }, t).retry, false);
    assert.equal(describeError({ code: 'unsupported_browser' }, t).retry, false);
  });

  it('has a generic message for codes it does not know', () => {
    assert.equal(describeError({ code: 'from_the_future' }, t).message, t('unknown'));
  });

  it('speaks Dutch when asked', () => {
    const nl = translator(STRINGS, 'nl');
    assert.match(describeError({ code: 'busy', retryAfter: 20 }, nl).message, /bezet.*20 s/);
  });
});

describe('browserFamily and isTokenExpired', () => {
  it('recognises the browsers whose settings differ', () => {
    assert.equal(browserFamily(CHROME), 'chrome');
    assert.equal(browserFamily(FIREFOX), 'firefox');
    assert.equal(browserFamily(SAFARI), 'safari');
    assert.equal(browserFamily('Mozilla/5.0 (X11) Edg/126.0'), 'chrome');
    assert.equal(browserFamily('curl/8'), 'other');
  });

  it('recognises livekit-client refusing a connection for an expired token only', () => {
    const err = (notAllowed, message) => Object.assign(new Error(message), { name: 'ConnectionError', notAllowed });
    assert.equal(isTokenExpired(err(true, 'could not establish signal connection: invalid token: token is expired')), true);
    assert.equal(isTokenExpired(err(true, 'invalid token: could not verify')), false);
    assert.equal(isTokenExpired(err(undefined, 'token is expired')), false);
    assert.equal(isTokenExpired(new Error('token is expired')), false);
    assert.equal(isTokenExpired(null), false);
  });
});
