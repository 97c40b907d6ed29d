// The npm package's side-effect-free entry (`import { define } from 'hms-webcall/define'`): nothing is
// registered until define() is called, so a site decides when, and with which defaults. The call panel,
// the call flow and livekit-client are a dynamic import(): a bundler puts them in their own chunk, fetched
// on the first hover, focus, touch or click, as the script-tag build does.

import { defineElement } from './shell.js';

const TAG = 'hms-webcall';

/**
 * Registers <hms-webcall> (once per page: a second call returns the class already registered).
 *
 * options.base: the URL of the Flask extension's prefix ("/hms/" by default), from which the default
 *   endpoint ("{base}web-calls") follows; relative to the page.
 * options.defaults: attribute defaults for every element ({theme: "dark"}), as the script tag's data-
 *   attributes are for the script-tag build. An element's own attribute wins.
 *
 * @param {{base?: string, defaults?: Record<string, string>}} [options]
 * @returns {CustomElementConstructor} the element's class
 */
export function define({ base = '/hms/', defaults = {} } = {}) {
  const existing = customElements.get(TAG);
  if (existing) return existing;
  /** @type {Promise<import('./shell.js').CallModule> | null} */
  let loading = null;
  /** @type {import('./shell.js').CallModule | null} */
  let loaded = null;
  const loadCall = () =>
    loading ||
    (loading = import('./ui.js').then(
      (mod) => (loaded = mod),
      (error) => {
        loading = null; // a later intent tries again (the network may be back)
        throw error;
      },
    ));
  return defineElement({
    base: new URL(base, location.href).href,
    pageUrl: location.href,
    scriptDefault: (name) => (Object.hasOwn(defaults, name) ? String(defaults[name]) : null),
    loadCall,
    loadedCall: () => loaded,
  });
}
