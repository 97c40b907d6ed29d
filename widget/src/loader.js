// widget.js: the small classic script a page includes with <script src="/hms/widget.js" defer>. It defines
// <hms-webcall>, mounts the floating launcher (unless data-launcher="false") and knows where the media
// session file lives. That file (livekit-client and call.js) is fetched on the first hover, focus or click,
// as a classic script too: no CORS needed when the widget is served from another origin than the page.

import { defineElement } from './element.js';

// Replaced at build time with the hashed file name of the media session bundle, e.g. "call-AB12CD34.js".
const CHUNK = __HMS_CALL_CHUNK__;
const GLOBAL = '__hmsWebcallCall';

(() => {
  if (customElements.get('hms-webcall')) return; // the tag is on the page twice: the first one wins
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const base = new URL('.', (script && script.src) || location.href).href;
  let loaded = null;
  let loading = null;

  const loadCall = () =>
    loading ||
    (loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      const fail = () => {
        loading = null; // a later intent tries again (the network may be back)
        s.remove();
        reject(new Error(`hms-webcall: could not load ${s.src}`));
      };
      s.src = new URL(`static/${CHUNK}`, base).href;
      s.async = true;
      if (script && script.nonce) s.nonce = script.nonce;
      s.onload = () => (window[GLOBAL] ? resolve((loaded = window[GLOBAL])) : fail());
      s.onerror = fail;
      document.head.append(s);
    }));

  defineElement({
    base,
    pageUrl: location.href,
    scriptDefault: (name) => (script ? script.getAttribute(`data-${name}`) : null),
    loadCall,
    loadedCall: () => loaded,
  });

  if (script && /^(false|0|no|off)$/i.test(script.getAttribute('data-launcher') || '')) return;
  const mount = () => {
    const el = document.createElement('hms-webcall');
    el.setAttribute('floating', '');
    document.body.append(el);
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
