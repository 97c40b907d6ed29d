// widget.js: the small classic script a page includes with <script src="/hms/widget.js" defer>. It defines
// <hms-webcall>, mounts the floating launcher (unless data-launcher="false") and knows where the call chunk
// lives. That file (the call panel, the call flow and livekit-client) is fetched on the first hover, focus
// or click, as a classic script too: no CORS needed when the widget is served from another origin.

import { SHARED } from './shared.js';
import { HMSWebCallElement, TAG } from './shell.js';

// Replaced at build time with the hashed file name of the call chunk, e.g. "call-AB12CD34.js".
const CHUNK = __HMS_CALL_CHUNK__;
const GLOBAL = '__hmsWebcallCall';

(() => {
  if (customElements.get(TAG)) return; // the tag is on the page twice: the first one wins
  const script = /** @type {HTMLScriptElement | null} */ (
    document.currentScript || document.querySelector('script[src*="widget.js"]')
  );
  const base = new URL('.', (script && script.src) || location.href).href;
  /** @type {Promise<import('./shell.js').CallModule> | null} */
  let loading = null;
  /** @type {import('./shell.js').CallModule | null} */
  let loaded = null;

  const loadCall = () =>
    loading ||
    (loading = new Promise((resolve, reject) => {
      const chunk = document.createElement('script');
      const fail = () => {
        loading = null; // a later intent tries again (the network may be back)
        chunk.remove();
        reject(new Error(`hms-webcall: could not load ${chunk.src}`));
      };
      chunk.src = new URL(`static/${CHUNK}`, base).href;
      chunk.async = true;
      if (script && script.nonce) chunk.nonce = script.nonce;
      chunk.onload = () => (window[GLOBAL] ? resolve((loaded = window[GLOBAL])) : fail());
      chunk.onerror = fail;
      document.head.append(chunk);
    }));

  // What the call chunk takes from this file instead of shipping it again (shared.js), read as it starts.
  window.__hmsWebcallShared = SHARED;
  HMSWebCallElement.env = {
    base,
    pageUrl: location.href,
    scriptDefault: (name) => (script ? script.getAttribute(`data-${name}`) : null),
    loadCall,
    loadedCall: () => loaded,
  };
  HMSWebCallElement.define();

  if (script && /^(false|0|no|off)$/i.test(script.getAttribute('data-launcher') || '')) return;
  const mount = () => {
    const el = document.createElement(TAG);
    el.setAttribute('floating', '');
    document.body.append(el);
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
