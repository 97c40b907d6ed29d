// <hms-webcall> as the loader defines it: a real custom element with a shadow root, its configuration and
// its launcher button. The call panel, the call flow and livekit-client arrive together in the call chunk
// (ui.js), fetched on the first hover, focus or touch, and mounted into this element's shadow root.
// The public API (start/end/mute, state, transcript, ...) lives here and forwards to that UI once loaded.
//
// The class is defined at module level, as GitHub's @github/*-element packages do: import it, extend it,
// and register it with HMSWebCallElement.define(tag, registry). Where its call code and server are (Env)
// is a static field the entry that loads it sets: loader.js for widget.js, define.js for the npm package.

import { actionRegistry } from './actions.js';
import { ATTRIBUTES, consentNeeded, micConstraints, parseConfig, remembered } from './attributes.js';
import { SHELL, resolveLang, translator } from './i18n.js';
import { CHANNEL, popoutBusy, receiveCall } from './popout.js';
import { BASE_CSS, adoptStyles } from './styles.js';
import { canCall } from './support.js';

/** The element's tag name, unless a page defines it under another one. */
export const TAG = 'hms-webcall';

// Importing the module where there is no DOM (a server render, Node tests) defines the class without a
// base; only making an element needs one.
const HTMLElement = globalThis.HTMLElement || /** @type {typeof window.HTMLElement} */ (/** @type {unknown} */ (null));

const TEMPLATE =
  '<div class="r" part="root"><button type="button" class="launch" part="launcher">' +
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3z' +
  'm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg><span></span></button>' +
  '<span class="fail" part="load-error" role="alert" hidden></span></div>';

/** @typedef {typeof import('./ui.js')} CallModule the call chunk */
/** @typedef {ReturnType<CallModule['mountUI']>} CallUI */
/** @typedef {import('./i18n.js').Tables} Tables */
/** @typedef {import('./attributes.js').Config} Config */
/** @typedef {{root: HTMLElement, launch: HTMLButtonElement, label: HTMLElement, fail: HTMLElement}} Refs */
/**
 * Where the widget was served from, the <script> tag's data- attributes and the call chunk.
 * @typedef {object} Env
 * @property {string} base the URL of the extension's prefix ("…/hms/")
 * @property {string} pageUrl the page's address, against which a relative endpoint resolves
 * @property {(name: string) => string | null} scriptDefault an attribute's default (data- attribute)
 * @property {() => Promise<CallModule>} loadCall fetches the call chunk (once)
 * @property {() => CallModule | null} loadedCall the call chunk, once it is here
 */

export class HMSWebCallElement extends HTMLElement {
  /**
   * Registers the class (or a subclass) under `tag` in `registry`; returns the class.
   * @param {string} [tag]
   * @param {CustomElementRegistry} [registry]
   */
  static define(tag = TAG, registry = customElements) {
    registry.define(tag, this);
    return this;
  }

  static get observedAttributes() {
    return ATTRIBUTES;
  }

  /**
   * Page-wide string overrides and extra languages: {lang: {key: text}}.
   * @type {Tables}
   */
  static strings = {};

  /**
   * Where the call code and the server are: set by the entry that loads the class (loader.js, define.js)
   * before it is defined; subclasses inherit it.
   * @type {Env | null}
   */
  static env = null;

  /** @type {Refs | null} the shadow root's parts, once built */
  #refs = null;
  /** @type {CallUI | null} the call panel, once the call chunk is mounted */
  #ui = null;
  /** @type {Promise<unknown> | null} the first start(), while the call chunk loads */
  #loading = null;
  /** @type {Promise<MediaStream> | null | undefined} the microphone the first click asked for */
  #mic = null;
  /** @type {number | null} when the first click came (Date.now()), handed to the call with the microphone */
  #clickedAt = null;
  /** @type {AudioContext | null} unlocked inside the first click, handed to the call */
  #audio = null;
  /** @type {Config | null} the parsed attributes, until one changes */
  #config = null;
  /** @type {import('./actions.js').Handlers} the page's action handlers (element.actions) */
  #handlers = new Map();
  /** @type {import('./page-tools.js').ToolHandlers} the page's tool handlers (element.tools) */
  #tools = new Map();
  /** @type {object | null} */
  #context = null;
  /** @type {import('./i18n.js').Strings} */
  #strings = {};
  #loadFailed = false;
  #askedOpener = false;
  #askedPopout = false;

  /** The class this element was made from: a subclass may carry its own env and strings. */
  get #elementClass() {
    return /** @type {typeof HMSWebCallElement} */ (this.constructor);
  }

  get #env() {
    return /** @type {Env} */ (this.#elementClass.env);
  }

  /** Starts a call. Call it from a click handler: browsers only let audio play after a user gesture. */
  start() {
    // The chunk is here (the usual case: hover or focus fetched it): start synchronously, still inside
    // the click, so the call's audio unlock counts as part of the gesture.
    if (!this.#refs) this.#build(); // started from script before it was put on the page
    const loaded = this.#env.loadedCall();
    if (this.#ui || loaded) return this.#mount(loaded).start();
    if (!this.#loading) {
      // First call before the chunk is here: ask for the microphone and unlock audio now, inside the
      // gesture, while the call code loads; the UI picks both up. Not before the visitor has agreed to
      // the consent text, which the UI shows first, nor in a browser that cannot call (the UI says so).
      const media = navigator.mediaDevices;
      const processing = this.#parsedConfig().audioProcessing;
      if (canCall() && !this.#needsConsent()) {
        this.#mic = media?.getUserMedia?.(micConstraints(remembered('mic'), processing));
        this.#clickedAt = Date.now();
      }
      this.#mic?.catch(() => {});
      this.#audioContext();
      this.#busy(true);
      const loading = (this.#loading = this.#env.loadCall().then(
        (chunk) => {
          if (this.#loading !== loading) return; // end() cancelled it while the code loaded
          this.#loading = null;
          this.#busy(false);
          return this.#mount(chunk).start(); // takes over the microphone request (takeMic)
        },
        () => {
          if (this.#loading !== loading) return;
          this.#cancelLoading();
          this.#loadFailed = true;
          this.#render();
          const detail = { code: 'network', message: /** @type {Refs} */ (this.#refs).fail.textContent };
          this.dispatchEvent(new CustomEvent('hms:error', { detail, bubbles: true, composed: true }));
        },
      ));
    }
    return this.#loading;
  }

  /** Hangs up, or cancels a call that is still starting. */
  end() {
    if (this.#ui) this.#ui.end();
    else if (this.#loading) this.#cancelLoading();
  }

  /**
   * Sends a typed line into the live call (LiveKit's lk.chat topic) and shows it in the transcript as the
   * visitor's. Rejects with an Error whose `code` is not_live, empty or too_long.
   * @param {string} text
   * @returns {Promise<string>} the line as sent (trimmed)
   */
  sendText(text) {
    return this.#ui
      ? this.#ui.sendText(text)
      : Promise.reject(Object.assign(new Error('hms-webcall: no call is live'), { code: 'not_live' }));
  }

  /** mute() or mute(true) mutes the microphone, mute(false) unmutes; returns the muted state. */
  mute(on = true) {
    return this.#ui ? this.#ui.mute(on) : false;
  }

  /** idle | preflight | requesting | connecting | live | reconnecting | ended | error (state.js) */
  get state() {
    return this.#ui ? this.#ui.state : 'idle';
  }

  /** [{id, role: "user"|"assistant", text, final}] in order (a copy). */
  get transcript() {
    return this.#ui ? this.#ui.transcript : [];
  }

  get callId() {
    return this.#ui ? this.#ui.callId : null;
  }

  get muted() {
    return this.#ui ? this.#ui.muted : false;
  }

  /** Page actions: actions.register(name, fn) handles the action `name`; it returns the unregister. */
  get actions() {
    return actionRegistry(this.#handlers);
  }

  /** Page tools: tools.register(name, async fn) answers the server's page tool `name` with fn's JSON. */
  get tools() {
    return actionRegistry(/** @type {import('./actions.js').Handlers} */ (/** @type {unknown} */ (this.#tools)));
  }

  /** The last error {code, message, retryAfter, status}, or null. */
  get error() {
    return this.#ui ? this.#ui.error : null;
  }

  /** Why the last call ended (see hms:ended), or null. */
  get endReason() {
    return this.#ui ? this.#ui.endReason : null;
  }

  /**
   * Context sent with the create request (an object); overrides the context attribute.
   * @returns {object | null}
   */
  get context() {
    return this.#context;
  }

  /** @param {unknown} value */
  set context(value) {
    this.#context = value && typeof value === 'object' ? value : null;
  }

  /**
   * String overrides for this element ({key: text}); the keys are in the README.
   * @returns {import('./i18n.js').Strings}
   */
  get strings() {
    return this.#strings;
  }

  /** @param {unknown} value */
  set strings(value) {
    this.#strings = value && typeof value === 'object' ? /** @type {import('./i18n.js').Strings} */ (value) : {};
    this.attributeChangedCallback();
  }

  connectedCallback() {
    if (!this.#refs) this.#build();
    this.#render();
    // The pop-out page's element starts the call the page that opened it hands over, and no other.
    if (this.#parsedConfig().popoutWindow && !this.#askedOpener) {
      this.#askedOpener = true;
      receiveCall(this);
    }
  }

  disconnectedCallback() {
    // Taken off the page mid-call (a SPA route change): hang up rather than leave a call running.
    queueMicrotask(() => this.isConnected || this.end());
  }

  attributeChangedCallback() {
    this.#config = null;
    if (this.#refs) this.#render();
  }

  /** A consent text is configured and this site's visitor has not accepted its version yet. */
  #needsConsent() {
    const config = this.#parsedConfig();
    return consentNeeded(config.consent || this.querySelector(':scope>template[slot=consent]'), config.consentVersion);
  }

  /**
   * With `popout`: asks whether a pop-out window of this site has a call going (the visitor came here
   * by navigating from the page that opened it); if so, the panel says so. See popout.js.
   */
  #askPopout() {
    if (this.#askedPopout || !this.#parsedConfig().popout || !window.BroadcastChannel) return;
    this.#askedPopout = true;
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = ({ data }) => {
      if (data?.type !== 'popout-state' || !popoutBusy(data.state)) return;
      channel.close();
      this.#env.loadCall().then((chunk) => this.#mount(chunk).popoutState(data), () => {});
    };
    channel.postMessage({ type: 'popout-query' });
    setTimeout(() => channel.close(), 5000);
  }

  #parsedConfig() {
    if (!this.#config) {
      const env = this.#env;
      const config = parseConfig((name) => this.getAttribute(name) ?? env.scriptDefault(name), env);
      const page = /** @type {HTMLElement | null} */ (this.closest('[lang]'));
      const langs = [config.lang, page?.lang, ...(navigator.languages || [])];
      config.lang = resolveLang(langs, SHELL, this.#elementClass.strings);
      config.overrides = { ...config.strings, ...this.#strings };
      this.#config = config;
    }
    return this.#config;
  }

  #audioContext() {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (AudioContextClass && (!this.#audio || this.#audio.state === 'closed')) this.#audio = new AudioContextClass();
    if (this.#audio?.state === 'suspended') this.#audio.resume().catch(() => {});
    return this.#audio;
  }

  #build() {
    const shadow = this.attachShadow({ mode: 'open' });
    adoptStyles(shadow, BASE_CSS);
    shadow.innerHTML += TEMPLATE;
    const root = /** @type {HTMLElement} */ (shadow.lastElementChild);
    const refs = /** @type {Refs} */ ({
      root,
      launch: root.firstChild,
      label: /** @type {ChildNode} */ (root.firstChild).lastChild,
      fail: root.lastChild,
    });
    this.#refs = refs;
    const intent = () => this.#env.loadCall().catch(() => {});
    for (const type of ['pointerenter', 'focusin', 'touchstart']) {
      this.addEventListener(type, intent, { passive: true, once: true });
    }
    refs.launch.addEventListener('click', () => this.start());
  }

  /** @param {boolean} on */
  #busy(on) {
    this.#refs?.launch.classList.toggle('busy', on);
    this.#refs?.launch.setAttribute('aria-busy', String(on));
  }

  /**
   * The first start() gives up waiting for the call code (it failed to load, or end() cancelled, also
   * when the element left the page) and lets go of the microphone its click asked for.
   */
  #cancelLoading() {
    this.#loading = null;
    this.#busy(false);
    this.#mic?.then((stream) => stream.getTracks().forEach((track) => track.stop()), () => {});
    this.#mic = this.#clickedAt = null;
  }

  /**
   * Hands the shadow root to the call chunk's UI (once per element).
   * @param {CallModule | null} chunk the call chunk; only null once the UI is mounted
   * @returns {CallUI}
   */
  #mount(chunk) {
    this.#loadFailed = false;
    const refs = /** @type {Refs} */ (this.#refs);
    this.#ui =
      this.#ui ||
      /** @type {CallModule} */ (chunk).mountUI({
        host: this,
        root: refs.root,
        launcher: refs.launch,
        config: () => this.#parsedConfig(),
        pageStrings: () => this.#elementClass.strings,
        context: () => this.#context,
        needsConsent: () => this.#needsConsent(),
        // The raw attribute (or the script tag's default), for the pop-out window's address.
        attribute: (name) => this.getAttribute(name) ?? this.#env.scriptDefault(name),
        base: this.#env.base,
        handlers: this.#handlers,
        tools: this.#tools,
        audioContext: () => this.#audioContext(),
        // The microphone request the first click already made, handed over once.
        takeMic: () => {
          const mic = this.#mic;
          this.#mic = null;
          return mic;
        },
        takeClick: () => {
          const at = this.#clickedAt;
          this.#clickedAt = null;
          return at;
        },
      });
    this.#render();
    return this.#ui;
  }

  #render() {
    const refs = this.#refs;
    if (!refs) return;
    const config = this.#parsedConfig();
    const t = translator(SHELL, config.lang, config.overrides, this.#elementClass.strings);
    if (this.hasAttribute('floating')) this.setAttribute('data-hms-position', config.position);
    refs.root.className = `r ${config.theme}`;
    refs.root.lang = config.lang;
    refs.label.textContent = config.label || t('start');
    refs.fail.hidden = !this.#loadFailed;
    refs.fail.textContent = this.#loadFailed ? t('network') : '';
    this.#ui?.render();
    this.#askPopout();
  }
}
