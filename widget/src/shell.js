// <hms-webcall> as the loader defines it: a real custom element with a shadow root, its configuration and
// its launcher button. The call panel, the call flow and livekit-client arrive together in the call chunk
// (ui.js), fetched on the first hover, focus or touch, and mounted into this element's shadow root.
// The public API (start/end/mute, state, transcript, ...) lives here and forwards to that UI once loaded.

import { ATTRIBUTES, MIC, parseConfig } from './attributes.js';
import { SHELL, resolveLang, translator } from './i18n.js';
import { BASE_CSS, adoptStyles } from './styles.js';

const TEMPLATE =
  '<div class="r" part="root"><button type="button" class="launch" part="launcher">' +
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3z' +
  'm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg><span></span></button>' +
  '<span class="fail" part="load-error" role="alert" hidden></span></div>';

/**
 * env: {base, pageUrl, scriptDefault(name), loadCall(): Promise<chunk module>, loadedCall(): module|null}
 * from the loader: where the widget was served from, the <script> tag's data- attributes, the call chunk.
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
        // gesture, while the call code loads; the UI picks both up.
        const md = navigator.mediaDevices;
        this._mic = md?.getUserMedia?.(MIC);
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
            const detail = { code: 'network', message: this._$.fail.textContent };
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

    /** The last error {code, message, retryAfter, status}, or null. */
    get error() {
      return this._ui ? this._ui.error : null;
    }

    /** Why the last call ended (see hms:ended), or null. */
    get endReason() {
      return this._ui ? this._ui.endReason : null;
    }

    /** Context sent with the create request (an object); overrides the context attribute. */
    get context() {
      return this._context || null;
    }

    set context(value) {
      this._context = value && typeof value === 'object' ? value : null;
    }

    /** String overrides for this element ({key: text}); the keys are in the README. */
    get strings() {
      return this._strings || {};
    }

    set strings(value) {
      this._strings = value && typeof value === 'object' ? value : {};
      this.attributeChangedCallback();
    }

    connectedCallback() {
      if (!this._$) this._build();
      this._render();
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
        const langs = [cfg.lang, this.closest('[lang]')?.lang, ...(navigator.languages || [])];
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
      const r = root.lastElementChild;
      this._$ = { root: r, launch: r.firstChild, label: r.firstChild.lastChild, fail: r.lastChild };
      const intent = () => env.loadCall().catch(() => {});
      for (const type of ['pointerenter', 'focusin', 'touchstart']) {
        this.addEventListener(type, intent, { passive: true, once: true });
      }
      this._$.launch.addEventListener('click', () => this.start());
    }

    _busy(on) {
      this._$?.launch.classList.toggle('busy', on);
      this._$?.launch.setAttribute('aria-busy', on);
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

    /** Hands the shadow root to the call chunk's UI (once per element). */
    _mount(mod) {
      this._failed = false;
      this._ui =
        this._ui ||
        mod.mountUI({
          host: this,
          root: this._$.root,
          launcher: this._$.launch,
          config: () => this._config(),
          pageStrings: () => HMSWebCallElement.strings,
          context: () => this._context,
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
    }
  }

  // Page-wide string overrides and extra languages: {lang: {key: text}}.
  HMSWebCallElement.strings = {};
  customElements.define('hms-webcall', HMSWebCallElement);
  return HMSWebCallElement;
}
