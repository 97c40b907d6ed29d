// The npm package's side-effect-free entry (`import { define } from 'hms-webcall/define'`): nothing is
// registered until define() (or HMSWebCallElement.define(tag, registry)) is called, so a site decides when,
// under which tag, and with which defaults. The call panel, the call flow and livekit-client are a dynamic
// import(): a bundler puts them in their own chunk, fetched on the first hover, focus, touch or click, as
// the script-tag build does.

import { TAG, HMSWebCallElement as ShellElement } from './shell.js';

/** @typedef {import('./shell.js').CallModule} CallModule */
/** @typedef {import('./shell.js').Env} Env */

/** @type {Promise<CallModule> | null} */
let loading = null;
/** @type {CallModule | null} */
let loaded = null;

const loadCall = () =>
  loading ||
  (loading = import('./ui.js').then(
    (chunk) => (loaded = chunk),
    (error) => {
      loading = null; // a later intent tries again (the network may be back)
      throw error;
    },
  ));

/**
 * The element's Env in the npm package: the extension under `base` (relative to the page, resolved when
 * first needed, as a server render has no page) and `defaults` for the attributes.
 * @param {string} base
 * @param {Record<string, string>} defaults
 * @returns {Env}
 */
function packageEnv(base, defaults) {
  /** @type {{base: string, pageUrl: string} | null} */
  let page = null;
  const where = () => (page = page || { base: new URL(base, location.href).href, pageUrl: location.href });
  return {
    get base() {
      return where().base;
    },
    get pageUrl() {
      return where().pageUrl;
    },
    scriptDefault: (name) => (Object.hasOwn(defaults, name) ? String(defaults[name]) : null),
    loadCall,
    loadedCall: () => loaded,
  };
}

/**
 * <hms-webcall> as the npm package ships it: its call code is this package's own lazily imported chunk, its
 * server the extension under /hms/ until define() says otherwise. Register it under another tag, or in
 * another registry, with HMSWebCallElement.define(tag, registry); extend it as any element class.
 */
export class HMSWebCallElement extends ShellElement {
  static env = packageEnv('/hms/', {});
}

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
  const env = packageEnv(base, defaults);
  void env.base; // the page's address now, as the element is defined, not when it is first used
  HMSWebCallElement.env = env;
  return HMSWebCallElement.define();
}
