// <hms-webcall> as the loader defines it: a real custom element with a shadow root, its configuration and
// its launcher button. The call panel, the call flow and livekit-client arrive together in the call chunk
// (ui.js), fetched on the first hover, focus or touch, and mounted into this element's shadow root.
// The public API (start/end/mute, state, transcript, ...) lives here and forwards to that UI once loaded.

import { actionRegistry } from './actions.js';
import { ATTRIBUTES, consentNeeded, micConstraints, parseConfig, remembered } from './attributes.js';
import { SHELL, resolveLang, translator } from './i18n.js';
import { receiveCall } from './popout.js';
import { BASE_CSS, adoptStyles } from './styles.js';

const TEMPLATE =
  '<div class="r" part="root"><button type="button" class="launch" part="launcher">' +
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3z' +
  'm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg><span></span></button>' +
  '<span class="fail" part="load-error" role="alert" hidden></span></div>';

/** @typedef {typeof import('./ui.js')} CallModule the call chunk */
/** @typedef {ReturnType<CallModule['mountUI']>} CallUI */
/** @typedef {import('./i18n.js').Tables} Tables */
/** @typedef {{root: HTMLElement, launch: HTMLButtonElement, label: HTMLElement, fail: HTMLElement}} Refs */
/**
 * @typedef {object} Env
 * @property {string} base
 * @property {string} pageUrl
 * @property {(name: string) => string | null} scriptDefault
 * @property {() => Promise<CallModule>} loadCall
 * @property {() => CallModule | null} loadedCall
 */

/**
 * env: {base, pageUrl, scriptDefault(name), loadCall(): Promise<chunk module>, loadedCall(): module|null}
 * from the loader: where the widget was served from, the <script> tag's data- attributes, the call chunk.
 * @param {Env} env
 */
export function defineElement(env) {
  class HMSWebCallElement extends HTMLElement {
    static get observedAttributes() {
      return ATTRIBUTES;
    }

    /** Starts a call. Call it from a click handler: browsers only let audio play after a user gesture. */
    start() {
      // The chunk is here (the usual case: hover or focus fetched it): start synchronously, still inside
      // the click, so the call's audio unlock counts as part of the gesture.
      if (!this._$) this._build(); // started from script before it was put on the page
      const mod = env.loadedCall();
      if (this._ui || mod) return this._mount(mod).start();
      if (!this._loading) {
        // First call before the chunk is here: ask for the microphone and unlock audio now, inside the
        // gesture, while the call code loads; the UI picks both up. Not before the visitor has agreed to
        // the consent text, which the UI shows first.
        const md = navigator.mediaDevices;
        if (!this._needsConsent()) this._mic = md?.getUserMedia?.(micConstraints(remembered('mic')));
        this._mic?.catch(() => {});
        this._audioContext();
        this._busy(true);
        const loading = (this._loading = env.loadCall().then(
          (mod) => {
            if (this._loading !== loading) return; // end() cancelled it while the code loaded
            this._loading = null;
            this._busy(false);
            return this._mount(mod).start(); // takes over the microphone request (takeMic)
          },
          () => {
            if (this._loading !== loading) return;
            this._cancelLoading();
            this._failed = true;
            this._render();
            const detail = { code: 'network', message: /** @type {Refs} */ (this._$).fail.textContent };
            this.dispatchEvent(new CustomEvent('hms:error', { detail, bubbles: true, composed: true }));
          },
        ));
      }
      return this._loading;
    }

    /** Hangs up, or cancels a call that is still starting. */
    end() {
      if (this._ui) this._ui.end();
      else if (this._loading) this._cancelLoading();
    }

    /** mute() or mute(true) mutes the microphone, mute(false) unmutes; returns the muted state. */
    mute(on = true) {
      return this._ui ? this._ui.mute(on) : false;
    }

    /** idle | preflight | requesting | connecting | live | ended | error */
    get state() {
      return this._ui ? this._ui.state : 'idle';
    }

    /** [{id, role: "user"|"assistant", text, final}] in order (a copy). */
    get transcript() {
      return this._ui ? this._ui.transcript : [];
    }

    get callId() {
      return this._ui ? this._ui.callId : null;
    }

    get muted() {
      return this._ui ? this._ui.muted : false;
    }

    /** Page actions: actions.register(name, fn) handles the action `name`; it returns the unregister. */
    get actions() {
      return actionRegistry(this._handlers());
    }

    /** @returns {import('./actions.js').Handlers} */
    _handlers() {
      return (this._acts = this._acts || new Map());
    }

    /** The last error {code, message, retryAfter, status}, or null. */
    get error() {
      return this._ui ? this._ui.error : null;
    }

    /** Why the last call ended (see hms:ended), or null. */
    get endReason() {
      return this._ui ? this._ui.endReason : null;
    }

    /**
     * Context sent with the create request (an object); overrides the context attribute.
     * @returns {object | null}
     */
    get context() {
      return this._context || null;
    }

    /** @param {unknown} value */
    set context(value) {
      /** @type {object | null} */
      this._context = value && typeof value === 'object' ? value : null;
    }

    /**
     * String overrides for this element ({key: text}); the keys are in the README.
     * @returns {import('./i18n.js').Strings}
     */
    get strings() {
      return this._strings || {};
    }

    /** @param {unknown} value */
    set strings(value) {
      /** @type {import('./i18n.js').Strings} */
      this._strings = value && typeof value === 'object' ? /** @type {import('./i18n.js').Strings} */ (value) : {};
      this.attributeChangedCallback();
    }

    connectedCallback() {
      if (!this._$) this._build();
      this._render();
      // The pop-out page's element starts the call the page that opened it hands over, and no other.
      if (this._config().popoutWindow && !this._askedOpener) {
        this._askedOpener = true;
        receiveCall(this);
      }
    }

    /** A consent text is configured and this site's visitor has not accepted its version yet. */
    _needsConsent() {
      const cfg = this._config();
      return consentNeeded(cfg.consent || this.querySelector(':scope>template[slot=consent]'), cfg.consentVersion);
    }

    /**
     * With `popout`: asks whether a pop-out window of this site has a call going (the visitor came here
     * by navigating from the page that opened it); if so, the panel says so. See popout.js.
     */
    _askPopout() {
      if (this._asked || !this._config().popout || !window.BroadcastChannel) return;
      this._asked = true;
      const ch = new BroadcastChannel('hms-webcall');
      ch.onmessage = ({ data }) => {
        if (data?.type !== 'popout-state' || /^(idle|ended|error|closed)$/.test(data.state)) return;
        ch.close();
        env.loadCall().then((mod) => this._mount(mod).popoutState(data), () => {});
      };
      ch.postMessage({ type: 'popout-query' });
      setTimeout(() => ch.close(), 5000);
    }

    disconnectedCallback() {
      // Taken off the page mid-call (a SPA route change): hang up rather than leave a call running.
      queueMicrotask(() => this.isConnected || this.end());
    }

    attributeChangedCallback() {
      this._cfg = null;
      if (this._$) this._render();
    }

    _config() {
      if (!this._cfg) {
        const cfg = parseConfig((n) => this.getAttribute(n) ?? env.scriptDefault(n), env);
        const page = /** @type {HTMLElement | null} */ (this.closest('[lang]'));
        const langs = [cfg.lang, page?.lang, ...(navigator.languages || [])];
        cfg.lang = resolveLang(langs, SHELL, HMSWebCallElement.strings);
        cfg.overrides = { ...cfg.strings, ...this._strings };
        this._cfg = cfg;
      }
      return this._cfg;
    }

    _audioContext() {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (AC && (!this._ac || this._ac.state === 'closed')) this._ac = new AC();
      if (this._ac?.state === 'suspended') this._ac.resume().catch(() => {});
      return this._ac || null;
    }

    _build() {
      const root = this.attachShadow({ mode: 'open' });
      adoptStyles(root, BASE_CSS);
      root.innerHTML += TEMPLATE;
      const r = /** @type {HTMLElement} */ (root.lastElementChild);
      /** @type {Refs} */
      this._$ = /** @type {Refs} */ ({
        root: r,
        launch: r.firstChild,
        label: /** @type {ChildNode} */ (r.firstChild).lastChild,
        fail: r.lastChild,
      });
      const intent = () => env.loadCall().catch(() => {});
      for (const type of ['pointerenter', 'focusin', 'touchstart']) {
        this.addEventListener(type, intent, { passive: true, once: true });
      }
      this._$.launch.addEventListener('click', () => this.start());
    }

    /** @param {boolean} on */
    _busy(on) {
      this._$?.launch.classList.toggle('busy', on);
      this._$?.launch.setAttribute('aria-busy', String(on));
    }

    /**
     * The first start() gives up waiting for the call code (it failed to load, or end() cancelled, also
     * when the element left the page) and lets go of the microphone its click asked for.
     */
    _cancelLoading() {
      this._loading = null;
      this._busy(false);
      this._mic?.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
      this._mic = null;
    }

    /**
     * Hands the shadow root to the call chunk's UI (once per element).
     * @param {CallModule | null} mod the call chunk; only null once the UI is mounted
     * @returns {CallUI}
     */
    _mount(mod) {
      this._failed = false;
      const $ = /** @type {Refs} */ (this._$);
      this._ui =
        this._ui ||
        /** @type {CallModule} */ (mod).mountUI({
          host: this,
          root: $.root,
          launcher: $.launch,
          config: () => this._config(),
          pageStrings: () => HMSWebCallElement.strings,
          context: () => this._context,
          needsConsent: () => this._needsConsent(),
          // The raw attribute (or the script tag's default), for the pop-out window's address.
          attribute: (name) => this.getAttribute(name) ?? env.scriptDefault(name),
          base: env.base,
          handlers: this._handlers(),
          audioContext: () => this._audioContext(),
          // The microphone request the first click already made, handed over once.
          takeMic: () => {
            const mic = this._mic;
            this._mic = null;
            return mic;
          },
        });
      this._render();
      return this._ui;
    }

    _render() {
      const $ = this._$;
      if (!$) return;
      const cfg = this._config();
      const text = translator(SHELL, cfg.lang, cfg.overrides, HMSWebCallElement.strings);
      if (this.hasAttribute('floating')) this.setAttribute('data-hms-position', cfg.position);
      $.root.className = `r ${cfg.theme}`;
      $.root.lang = cfg.lang;
      $.label.textContent = cfg.label || text('start');
      $.fail.hidden = !this._failed;
      $.fail.textContent = this._failed ? text('network') : '';
      this._ui?.render();
      this._askPopout();
    }
  }

  // Page-wide string overrides and extra languages: {lang: {key: text}}.
  /** @type {Tables} */
  HMSWebCallElement.strings = {};
  customElements.define('hms-webcall', HMSWebCallElement);
  return HMSWebCallElement;
}
