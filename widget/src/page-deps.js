// The browser as the call controller (controller.js) sees it: the microphone, the network, livekit, the
// page's cookies and <meta> tags, and the clocks. The controller takes them as `deps` (deps.js), so that
// the whole call flow runs in Node tests with fakes instead.

import { remembered } from './attributes.js';
import { createSession } from './call.js';
import { solveChallenge } from './challenge.js';
import { canCall } from './support.js';
import { warmedUp } from './warm-up.js';

/**
 * The controller's view of the page: the browser's microphone, network, cookies, <meta> and clocks.
 * @param {import('./ui.js').UIOptions} options
 * @param {import('./panel.js').Refs} refs
 * @param {() => string | null} consent the accepted consent version to send, if any
 * @returns {import('./deps.js').Deps}
 */
export function pageDeps({ host, config, context, audioContext, takeMic, takeClick }, refs, consent) {
  const media = navigator.mediaDevices;
  return {
    config,
    context,
    consent,
    micId: () => remembered('mic'),
    canCall,
    clickedAt: takeClick,
    solveChallenge,
    challengeToken: () => (typeof host.challenge === 'function' ? host.challenge() : null),
    getUserMedia: media?.getUserMedia && ((constraints) => takeMic() || media.getUserMedia(constraints)),
    fetch: (url, init) => fetch(url, init),
    crossOrigin: (url) => new URL(url, location.href).origin !== location.origin,
    createSession: (options) => warmedUp(createSession(options)),
    audioContext,
    audioHost: refs.audioHost,
    cookies: () => document.cookie,
    meta: (name) => {
      const meta = /** @type {HTMLMetaElement | null} */ (document.querySelector(`meta[name="${CSS.escape(name)}"]`));
      return meta?.content || '';
    },
    now: () => Date.now(),
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (id) => clearTimeout(id),
    setInterval: (f, ms) => setInterval(f, ms),
    clearInterval: (id) => clearInterval(id),
  };
}
