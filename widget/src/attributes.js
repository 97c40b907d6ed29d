// Configuration from attributes: <hms-webcall name="..."> or data-name="..." on the <script> tag. An
// element's own attribute wins over the script tag's, which wins over the default. Bad values fall back to
// the default (with a console warning) rather than break the page.

/**
 * The parsed attributes (parseConfig). The element adds `overrides` (its string overrides, merged) and the
 * call panel `t` (its translator): both are cached with the config until an attribute changes.
 * @typedef {object} Config
 * @property {string} endpoint
 * @property {string} label
 * @property {string} position
 * @property {string} theme
 * @property {string} lang
 * @property {string | null} assistant
 * @property {string} assistantName
 * @property {boolean} showTranscript
 * @property {boolean} textInput
 * @property {Record<string, unknown> | null} context
 * @property {RequestCredentials} credentials
 * @property {string} csrfHeader
 * @property {string} csrfToken
 * @property {string} csrfMeta
 * @property {string} csrfCookie
 * @property {number} agentTimeout
 * @property {number} reconnectTimeout
 * @property {number} maxDuration
 * @property {import('./i18n.js').Strings} strings
 * @property {string} consent
 * @property {string} consentVersion
 * @property {boolean} confirmLeave
 * @property {boolean} popout
 * @property {boolean} popoutWindow
 * @property {boolean} audioProcessing
 * @property {'open' | 'push'} talkMode
 * @property {import('./i18n.js').Strings} [overrides]
 * @property {import('./i18n.js').Translate} [t]
 */

export const ATTRIBUTES = [
  'endpoint',
  'label',
  'position',
  'theme',
  'lang',
  'assistant',
  'assistant-name',
  'show-transcript',
  'text-input',
  'context',
  'credentials',
  'csrf-header',
  'csrf-token',
  'csrf-meta',
  'csrf-cookie',
  'agent-timeout',
  'reconnect-timeout',
  'max-duration',
  'strings',
  'consent',
  'consent-version',
  'confirm-leave',
  'popout',
  'audio-processing',
  'talk-mode',
  // Set by the pop-out page ({prefix}/call) on its own element, not by sites.
  'popout-window',
];

// The microphone request. The loader makes it itself when the first click comes before the call code, and
// hands it to the controller, so both must ask for the same thing. The browser's voice processing is on
// (audio-processing="off" turns it off), stated rather than left to each browser: a laptop's or phone's
// speaker otherwise feeds the assistant its own voice; voiceIsolation is a plain (ideal) value, which an
// engine without it ignores. A chosen microphone is asked as "ideal" (iOS refuses "exact"); microphone.js
// asks again with "exact" where the browser did not honour it (Chromium), and falls back to the default
// microphone when that one is gone.
export const micConstraints = (/** @type {string | null | undefined} */ deviceId, processing = true, exact = false) => ({
  audio: {
    echoCancellation: processing,
    noiseSuppression: processing,
    autoGainControl: processing,
    voiceIsolation: processing,
    ...(deviceId && { deviceId: { [exact ? 'exact' : 'ideal']: deviceId } }),
  },
});

// What the widget remembers per site (localStorage, per origin): the accepted consent version and the
// chosen devices. Storage may be unavailable (sandboxed iframes, some private modes): then nothing is
// remembered and the widget asks again.
const KEY = 'hms-webcall:';
/** @param {string} name */
export function remembered(name) {
  try {
    return localStorage.getItem(KEY + name);
  } catch {
    return null;
  }
}
/**
 * @param {string} name
 * @param {string} value
 */
export function remember(name, value) {
  try {
    localStorage.setItem(KEY + name, value);
  } catch {
    // not remembered: see above
  }
}

/** Seconds a call may last when neither max-duration nor the server's create answer says: HMS's own limit. */
export const DEFAULT_MAX_DURATION = 300;

const POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'];
const THEMES = ['auto', 'light', 'dark'];
const CREDENTIALS = ['include', 'same-origin', 'omit'];

/**
 * @param {string} name
 * @param {string} value
 */
const warn = (name, value) => console.warn(`hms-webcall: ignoring ${name}=${JSON.stringify(value)}`);

/**
 * @param {string} name
 * @param {string | null} value
 * @param {string[]} allowed
 */
function oneOf(name, value, allowed) {
  if (value == null || value === '') return allowed[0];
  const v = value.trim().toLowerCase();
  if (allowed.includes(v)) return v;
  warn(name, value);
  return allowed[0];
}

/**
 * @param {string | null} value
 * @param {boolean} fallback
 */
function bool(value, fallback) {
  if (value == null) return fallback;
  return !/^(false|0|no|off)$/i.test(value.trim());
}

/**
 * @param {string} name
 * @param {string | null} value
 * @param {number} fallback
 */
function seconds(name, value, fallback) {
  if (value == null || value === '') return fallback;
  const n = Number(value);
  if (Number.isFinite(n) && n > 0) return n;
  warn(name, value);
  return fallback;
}

/**
 * @param {string} name
 * @param {string | null} value
 * @returns {Record<string, unknown> | null}
 */
function jsonObject(name, value) {
  if (value == null || value === '') return null;
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // fall through to the warning
  }
  warn(name, value);
  return null;
}

/**
 * Whether the visitor must (still) agree before a call: there is a consent text (`hasText`) and the
 * version this site's visitor accepted, if any, is not `version`.
 * @param {unknown} hasText
 * @param {string} version
 */
export const consentNeeded = (hasText, version) => !!hasText && remembered('consent') !== version;

// The server takes a consent version of at most 40 characters.
/** @param {string | null} value */
function version(value) {
  if (value == null || value === '') return '1';
  const v = value.trim();
  if (v && v.length <= 40) return v;
  warn('consent-version', value);
  return '1';
}

/**
 * get(name) -> the attribute's string or null. base: the URL the widget was loaded from ("…/hms/"), from
 * which the default endpoint follows; relative endpoints resolve against the page.
 * @param {(name: string) => string | null} get
 * @param {{base: string, pageUrl: string}} where
 * @returns {Config}
 */
export function parseConfig(get, { base, pageUrl }) {
  const endpoint = get('endpoint');
  return {
    endpoint: endpoint ? new URL(endpoint, pageUrl).href : new URL('web-calls', base).href,
    label: get('label') || '',
    position: oneOf('position', get('position'), POSITIONS),
    theme: oneOf('theme', get('theme'), THEMES),
    lang: get('lang') || 'auto',
    assistant: get('assistant') || null,
    assistantName: get('assistant-name') || '',
    showTranscript: bool(get('show-transcript'), true),
    textInput: bool(get('text-input'), true),
    context: jsonObject('context', get('context')),
    credentials: /** @type {RequestCredentials} */ (oneOf('credentials', get('credentials'), CREDENTIALS)),
    csrfHeader: get('csrf-header') || '',
    csrfToken: get('csrf-token') || '',
    csrfMeta: get('csrf-meta') || 'csrf-token',
    csrfCookie: get('csrf-cookie') || '',
    agentTimeout: seconds('agent-timeout', get('agent-timeout'), 15),
    reconnectTimeout: seconds('reconnect-timeout', get('reconnect-timeout'), 15),
    maxDuration: seconds('max-duration', get('max-duration'), 0),
    // Values are not checked to be strings: the translator turns each into one.
    strings: /** @type {import('./i18n.js').Strings} */ (jsonObject('strings', get('strings')) || {}),
    consent: get('consent') || '',
    consentVersion: version(get('consent-version')),
    confirmLeave: bool(get('confirm-leave'), true),
    popout: bool(get('popout'), false),
    popoutWindow: bool(get('popout-window'), false),
    audioProcessing: bool(get('audio-processing'), true),
    talkMode: /** @type {'open' | 'push'} */ (oneOf('talk-mode', get('talk-mode'), ['open', 'push'])),
  };
}

/**
 * The value of the named cookie, or ''.
 * @param {string} cookies
 * @param {string} name
 */
export function readCookie(cookies, name) {
  for (const part of cookies.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return '';
}

/**
 * The create request's headers and body. With a CSRF header configured, its value comes from csrf-token,
 * else the csrf-cookie cookie, else <meta name="{csrf-meta}">; even an empty value is sent, because a
 * custom header alone already forces a CORS preflight on cross-origin requests.
 * @param {Config} config
 * @param {{context?: object | null, consent?: string | null, challenge?: string | null, cookies?: string,
 *   meta?: (name: string) => string}} request
 */
export function createRequest(config, { context, consent, challenge, cookies = '', meta = () => '' }) {
  /** @type {Record<string, unknown>} */
  const body = {};
  if (config.assistant) body.assistant = config.assistant;
  const ctx = context || config.context;
  if (ctx) body.context = ctx;
  if (consent) body.consent = consent;
  if (challenge) body.challenge = challenge;
  return postRequest(config, body, { cookies, meta });
}

/**
 * A JSON POST to the backend, with the CSRF header and credentials the create request uses.
 * @param {Config} config
 * @param {object} body
 * @param {{cookies?: string, meta?: (name: string) => string, headers?: Record<string, string>}} options
 * @returns {RequestInit}
 */
export function postRequest(config, body, { cookies = '', meta = () => '', headers: extra = {} }) {
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json', ...extra };
  if (config.csrfHeader) {
    const fromCookie = config.csrfCookie && readCookie(cookies, config.csrfCookie);
    headers[config.csrfHeader] = config.csrfToken || fromCookie || meta(config.csrfMeta) || '';
  }
  return {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    credentials: config.credentials,
    mode: 'cors',
    cache: 'no-store',
  };
}
