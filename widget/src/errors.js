// Every failure the visitor can meet, as a code with its own message and a way forward.
// Codes are public: they are the `code` of the hms:error event.

import { duration } from './i18n.js';

/** @typedef {import('./state.js').CallError} CallError */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The error codes of the browser contract (POST {prefix}/web-calls).
 * @type {string[]}
 */
export const BACKEND_CODES = [
  'invalid_request',
  'unauthenticated',
  'forbidden_origin',
  'rate_limited',
  'too_many_calls',
  'busy',
  'unavailable',
  'misconfigured',
  'upstream_error',
  'upstream_timeout',
  'consent_required',
  'budget_exhausted',
  'challenge_required',
  'challenge_failed',
];

// Codes the widget itself reports; with BACKEND_CODES, every code with a message of its own.
const LOCAL_CODES = [
  'mic_denied',
  'no_mic',
  'mic_in_use',
  'mic_unsupported',
  'unsupported_browser',
  'network',
  'connect_failed',
];

// Failures that trying again cannot fix without the visitor or the site owner changing something first.
const NO_RETRY = new Set([
  'mic_unsupported',
  'unsupported_browser',
  'forbidden_origin',
  'misconfigured',
  'unauthenticated',
]);

/**
 * getUserMedia's rejection -> our code.
 * @param {{name?: string} | null | undefined} err
 */
export function micErrorCode(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'mic_denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'no_mic';
    default:
      // NotReadableError, TrackStartError, AbortError, ...: a microphone is there but could not be opened.
      return 'mic_in_use';
  }
}

/**
 * Retry-After (delay-seconds or an HTTP date) -> whole seconds, or null when absent or unreadable.
 * @param {string | number | null | undefined} value
 * @param {number} [now]
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === '') return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN; // an HTTP date has a weekday and month name
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * A non-2xx answer of the create endpoint -> {code, status, retryAfter}. The body is read defensively: a
 * proxy's HTML error page or an unknown code still gives a sensible code from the status alone.
 * @param {number} status
 * @param {{error?: {code?: string}} | null} body the answer's JSON (any shape: it is read defensively)
 * @param {string | null} retryAfterHeader
 * @param {number} [now]
 * @returns {CallError}
 */
export function backendError(status, body, retryAfterHeader, now) {
  const code = body && body.error && body.error.code;
  /** @type {Record<number, string | undefined>} */
  const statusCodes = { 429: 'rate_limited', 503: 'busy', 504: 'upstream_timeout' };
  const byStatus = statusCodes[status] || 'upstream_error';
  return {
    code: code && BACKEND_CODES.includes(code) ? code : byStatus,
    status,
    retryAfter: parseRetryAfter(retryAfterHeader, now),
  };
}

/**
 * Which browser's steps to show for re-allowing the microphone.
 * @param {string} [ua]
 */
export function browserFamily(ua = '') {
  if (/Firefox\//.test(ua)) return 'firefox';
  if (/Chrom(e|ium)\/|CriOS|Edg\//.test(ua)) return 'chrome';
  if (/Safari\//.test(ua)) return 'safari';
  return 'other';
}

/**
 * livekit-client's ConnectionError for a token past its expiry: refused (call.js marks `notAllowed`) with
 * the server's reason, e.g. LiveKit's "invalid token: ... token is expired".
 * @param {{name?: string, notAllowed?: boolean, message: string} | null | undefined} err
 */
export function isTokenExpired(err) {
  return !!err && err.name === 'ConnectionError' && err.notAllowed === true && /expired/i.test(err.message);
}

/**
 * What the panel shows for an error: {message, hint, retry, wait}. `wait` is seconds until trying again
 * makes sense (the retry button stays disabled until then).
 * @param {CallError} err
 * @param {Translate} t
 * @param {string} [ua]
 */
export function describeError(err, t, ua) {
  const { code, retryAfter } = err;
  const wait = retryAfter && retryAfter > 0 ? retryAfter : 0;
  let message;
  if (code === 'rate_limited' || code === 'busy') {
    message = wait ? t(code, { wait: duration(wait, t) }) : t(`${code}_nowait`);
  } else {
    message = t(BACKEND_CODES.includes(code) || LOCAL_CODES.includes(code) ? code : 'unknown');
  }
  return {
    message,
    hint: code === 'mic_denied' ? t(`mic_denied_${browserFamily(ua)}`) : '',
    retry: !NO_RETRY.has(code),
    wait,
  };
}

/**
 * A cross-origin request that failed outright: the network, or CORS refusing this page's origin (the
 * browser hides which). A CORS-free probe of the same URL tells them apart: if the server answers it,
 * the network is fine and the origin is what was refused.
 * @param {import('./deps.js').Deps} deps the controller's dependencies (crossOrigin, fetch)
 * @param {string} endpoint
 */
export async function refusedOrigin(deps, endpoint) {
  if (!deps.crossOrigin(endpoint)) return false;
  try {
    await deps.fetch(endpoint, { mode: 'no-cors', credentials: 'omit', cache: 'no-store' });
  } catch {
    return false;
  }
  console.warn(`hms-webcall: ${endpoint} refused this page's origin (allow it in HMS_ALLOWED_ORIGINS)`);
  return true;
}
