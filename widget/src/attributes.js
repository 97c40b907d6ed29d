// Configuration from attributes: <hms-webcall name="..."> or data-name="..." on the <script> tag. An
// element's own attribute wins over the script tag's, which wins over the default. Bad values fall back to
// the default (with a console warning) rather than break the page.

export const ATTRIBUTES = [
  'endpoint',
  'label',
  'position',
  'theme',
  'lang',
  'assistant',
  'assistant-name',
  'show-transcript',
  'context',
  'credentials',
  'csrf-header',
  'csrf-token',
  'csrf-meta',
  'csrf-cookie',
  'agent-timeout',
  'max-duration',
  'strings',
];

// The microphone request. The loader makes it itself when the first click comes before the call code, and
// hands it to the controller, so both must ask for the same thing.
export const MIC = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } };

const POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'];
const THEMES = ['auto', 'light', 'dark'];
const CREDENTIALS = ['include', 'same-origin', 'omit'];

const warn = (name, value) => console.warn(`hms-webcall: ignoring ${name}=${JSON.stringify(value)}`);

function oneOf(name, value, allowed) {
  if (value == null || value === '') return allowed[0];
  const v = value.trim().toLowerCase();
  if (allowed.includes(v)) return v;
  warn(name, value);
  return allowed[0];
}

function bool(value, fallback) {
  if (value == null) return fallback;
  return !/^(false|0|no|off)$/i.test(value.trim());
}

function seconds(name, value, fallback) {
  if (value == null || value === '') return fallback;
  const n = Number(value);
  if (Number.isFinite(n) && n > 0) return n;
  warn(name, value);
  return fallback;
}

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
 * get(name) -> the attribute's string or null. base: the URL the widget was loaded from ("…/hms/"), from
 * which the default endpoint follows; relative endpoints resolve against the page.
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
    context: jsonObject('context', get('context')),
    credentials: oneOf('credentials', get('credentials'), CREDENTIALS),
    csrfHeader: get('csrf-header') || '',
    csrfToken: get('csrf-token') || '',
    csrfMeta: get('csrf-meta') || 'csrf-token',
    csrfCookie: get('csrf-cookie') || '',
    agentTimeout: seconds('agent-timeout', get('agent-timeout'), 15),
    maxDuration: seconds('max-duration', get('max-duration'), 0),
    strings: jsonObject('strings', get('strings')) || {},
  };
}

/** The value of the named cookie, or ''. */
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
 */
export function createRequest(config, { context, cookies = '', meta = () => '' }) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (config.csrfHeader) {
    const fromCookie = config.csrfCookie && readCookie(cookies, config.csrfCookie);
    headers[config.csrfHeader] = config.csrfToken || fromCookie || meta(config.csrfMeta) || '';
  }
  const body = {};
  if (config.assistant) body.assistant = config.assistant;
  const ctx = context || config.context;
  if (ctx) body.context = ctx;
  return {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    credentials: config.credentials,
    mode: 'cors',
    cache: 'no-store',
  };
}
