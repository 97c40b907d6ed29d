// "Continue in a small window": the call moves to a small window served by the extension
// ({prefix}/call, the page flask_hms_webcall/_popout.py writes), which hosts the widget with the same
// attributes and starts the call itself. That window outlives the tab's page, so the visitor can browse
// the site meanwhile. The two talk over a BroadcastChannel (same origin only):
//   channel "hms-webcall"
//   {type: "popout-state", state, callId}  the window's widget, on every state change, on request, and
//                                          {state: "closed"} when the window goes
//   {type: "popout-query"}                 a page asks whether a pop-out window has a call going
// A site embedding the widget from another origin gets no messages: the tab then watches the window's
// `closed` flag instead.

export const CHANNEL = 'hms-webcall';
export const WINDOW_NAME = 'hms-webcall-popout';
export const WINDOW_FEATURES = 'popup,width=400,height=640';

// What the pop-out page takes from its address; flask_hms_webcall/_popout.py keeps the same list. Not
// endpoint or credentials (the window is on the backend's own origin and uses its default endpoint), not
// csrf-token (a secret does not belong in an address).
export const POPOUT_ATTRIBUTES = [
  'label',
  'theme',
  'lang',
  'assistant',
  'assistant-name',
  'show-transcript',
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
];

/**
 * {prefix}/call?<the attributes> for `base` ("…/hms/"); a context set as a property travels as JSON.
 * @param {string} base
 * @param {(name: string) => string | null} attribute
 * @param {object | null | undefined} context
 */
export function popoutUrl(base, attribute, context) {
  const url = new URL('call', base);
  for (const name of POPOUT_ATTRIBUTES) {
    const value = name === 'context' && context ? JSON.stringify(context) : attribute(name);
    if (value != null) url.searchParams.set(name, value);
  }
  return url.href;
}

/** Whether a pop-out window in this state still has (or is starting) a call. */
export const popoutBusy = (/** @type {string} */ state) => !['idle', 'ended', 'error', 'closed'].includes(state);
