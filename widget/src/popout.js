// "Continue in a small window": the call moves to a small window served by the extension
// ({prefix}/call, the page flask_hms_webcall/_popout.py writes), which hosts the widget; the page hands it
// the element's attributes (handover, receiveCall) and the window starts the call. That window outlives the
// tab's page, so the visitor can browse the site meanwhile. The two talk over a BroadcastChannel (same
// origin only):
//   channel "hms-webcall"
//   {type: "popout-state", state, callId}  the window's widget, on every state change, on request, and
//                                          {state: "closed"} when the window goes
//   {type: "popout-query"}                 a page asks whether a pop-out window has a call going
// A site embedding the widget from another origin gets no messages: the tab then watches the window's
// `closed` flag instead.

export const CHANNEL = 'hms-webcall';
export const WINDOW_NAME = 'hms-webcall-popout';
export const WINDOW_FEATURES = 'popup,width=400,height=640';

// What the page hands to its pop-out window (and the window takes). Not endpoint or credentials (the window
// is on the backend's own origin and uses its default endpoint), not csrf-token (a secret stays on the page
// it was given to).
export const POPOUT_ATTRIBUTES = [
  'label',
  'theme',
  'lang',
  'assistant',
  'assistant-name',
  'show-transcript',
  'text-input',
  'context',
  'agent-timeout',
  'max-duration',
  'reconnect-timeout',
  'strings',
  'consent',
  'consent-version',
  'confirm-leave',
  'csrf-header',
  'csrf-cookie',
  'csrf-meta',
  'audio-processing',
  'talk-mode',
];

// The handover (window.postMessage, so that it works across origins too): the window asks the page that
// opened it, the page answers that window alone, once per click.
export const READY = 'hms-webcall:popout-ready';
export const HANDOVER = 'hms-webcall:popout-call';

/** {prefix}/call for `base` ("…/hms/"): the address carries nothing, the call comes by handover(). */
export const popoutUrl = (/** @type {string} */ base) => new URL('call', base).href;

/**
 * What the page hands over: the element's attributes; a context set as a property travels as JSON.
 * @param {(name: string) => string | null} attribute
 * @param {object | null | undefined} context
 */
export function handover(attribute, context) {
  /** @type {Record<string, string>} */
  const attributes = {};
  for (const name of POPOUT_ATTRIBUTES) {
    const value = name === 'context' && context ? JSON.stringify(context) : attribute(name);
    if (value != null) attributes[name] = value;
  }
  return { type: HANDOVER, attributes };
}

/**
 * The pop-out window's element (the extension's page, flask_hms_webcall/_popout.py) takes its call from the
 * window that opened it, and only when that window's page is on this origin or on one the page lists
 * (<meta name="hms-webcall-openers">, the server's HMS_ALLOWED_ORIGINS): a link or window.open from any
 * other site gets the page's notice, and nothing starts. Taken, the element shows and starts the call.
 * @param {HTMLElement & {start(): unknown}} el
 * @param {Window} [win]
 */
export function receiveCall(el, win = window) {
  const { opener, document: doc } = win;
  const listed = /** @type {HTMLMetaElement | null} */ (doc.querySelector('meta[name="hms-webcall-openers"]'));
  const origins = [win.location.origin, ...(listed?.content.match(/\S+/g) || [])];
  if (!opener) return;
  win.addEventListener('message', function take({ source, origin, data }) {
    if (source !== opener || !origins.includes(origin) || data?.type !== HANDOVER) return;
    win.removeEventListener('message', take);
    for (const name of POPOUT_ATTRIBUTES) {
      const value = data.attributes?.[name];
      if (typeof value === 'string') el.setAttribute(name, value);
    }
    doc.title = el.getAttribute('assistant-name') || doc.title;
    doc.getElementById('hms-webcall-popout-notice')?.remove();
    el.hidden = false;
    el.start();
  });
  opener.postMessage({ type: READY }, '*');
}

/** Whether a pop-out window in this state still has (or is starting) a call. */
export const popoutBusy = (/** @type {string} */ state) => !['idle', 'ended', 'error', 'closed'].includes(state);
