// The server the site's last call used is warmed up (DNS, TLS) while the microphone prompt and the create
// request run, so that joining the next call skips those round trips. Only the URL this site's own create
// answer gave for the last call is remembered (per origin, like the chosen devices); the create's answer
// always decides where the call goes.

import { remember, remembered } from './attributes.js';

const KEY = 'server';

/**
 * The session, with its connection prepared to the last call's server and connect() remembering the
 * server it joins.
 * @param {import('./call.js').Session} session
 * @returns {import('./call.js').Session}
 */
export function warmedUp(session) {
  const last = serverUrl(remembered(KEY));
  if (last) session.prepare(last);
  return {
    ...session,
    connect(url, token, mic) {
      remember(KEY, url);
      return session.connect(url, token, mic);
    },
  };
}

/** @param {string | null} value */
function serverUrl(value) {
  try {
    const url = new URL(value || '');
    return ['wss:', 'ws:', 'https:', 'http:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}
