// <hms-webcall>: the custom element (Shadow DOM) around one Controller. It renders the controller's state
// and turns it into DOM events (hms:state, hms:transcript, hms:ended, hms:error: bubbling, composed).

import { ATTRIBUTES, parseConfig } from './attributes.js';
import { Controller } from './controller.js';
import { describeError } from './errors.js';
import { STRINGS, clock, duration, resolveLang, translator } from './i18n.js';
import { adoptStyles } from './styles.js';

const TEMPLATE = `<div class="r" part="root">
<button class="launch" part="launcher"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg><span data-r="label"></span></button>
<section class="panel" part="panel" data-r="panel" hidden>
<header part="header"><span class="orb" part="level"></span><span class="title" part="title" data-r="title"></span>
<span class="timer" part="timer" role="timer" data-r="timer"></span><button class="close" part="close" data-r="close">\u00d7</button></header>
<div><span class="status" part="status" role="status" data-r="status"></span><span part="speaking" data-r="speaking"></span></div>
<p class="msg" part="message" data-r="msg"><span data-r="text"></span><span class="hint" part="hint" data-r="hint"></span></p>
<button class="primary" part="audio-unlock" data-r="audio"></button>
<ol part="transcript" aria-live="polite" tabindex="0" data-r="list"></ol>
<div class="controls" part="controls"><button part="copy" data-r="copy"></button>
<button part="mute" data-r="mute"></button><button class="danger" part="hangup" data-r="hangup"></button>
<button class="primary" part="retry" data-r="retry"></button></div></section><div class="sr" data-r="audioHost"></div></div>`;

/**
 * env: {base, pageUrl, scriptDefault(name), loadCall(), loadedCall()} from the loader: where the widget
 * was served from, the <script> tag's data- attributes, and the lazily loaded call module.
 */
export function defineElement(env) {
  class HMSWebCallElement extends HTMLElement {
    static get observedAttributes() {
      return ATTRIBUTES;
    }

    constructor() {
      super();
      this._items = new Map();
      this._stick = true;
      this._wait = 0;
      const md = navigator.mediaDevices;
      this._c = new Controller(
        {
          config: () => this._config(),
          context: () => this._context,
          getUserMedia: md?.getUserMedia && ((c) => md.getUserMedia(c)),
          fetch: (url, init) => fetch(url, init),
          loadCall: env.loadCall,
          loadedCall: env.loadedCall,
          audioContext: () => {
            const AC = window.AudioContext || window.webkitAudioContext;
            if (AC && (!this._ac || this._ac.state === 'closed')) this._ac = new AC();
            if (this._ac?.state === 'suspended') this._ac.resume().catch(() => {});
            return this._ac || null;
          },
          audioHost: null,
          cookies: () => document.cookie,
          meta: (name) => document.querySelector(`meta[name="${CSS.escape(name)}"]`)?.content || '',
          now: Date.now,
          setTimeout: (f, ms) => setTimeout(f, ms),
          clearTimeout: (id) => clearTimeout(id),
          setInterval: (f, ms) => setInterval(f, ms),
          clearInterval: (id) => clearInterval(id),
        },
        (kind, detail) => this._on(kind, detail),
      );
    }

    // ---- public API ---------------------------------------------------------------------------------

    /** Starts a call. Call it from a click handler: browsers only let audio play after a user gesture. */
    start() {
      return this._c.start();
    }

    /** Hangs up, or cancels a call that is still starting. */
    end() {
      this._c.end();
    }

    /** mute() or mute(true) mutes the microphone, mute(false) unmutes; returns the muted state. */
    mute(on = true) {
      return this._c.mute(on);
    }

    get state() {
      return this._c.state;
    }

    /** [{id, role: "user"|"assistant", text, final}], in order; a copy. */
    get transcript() {
      return this._c.entries.map((e) => ({ ...e }));
    }

    get callId() {
      return this._c.callId;
    }

    get muted() {
      return this._c.muted;
    }

    /** The last error {code, message, retryAfter, status}, or null. */
    get error() {
      return this._error || null;
    }

    /** Why the last call ended (see hms:ended), or null. */
    get endReason() {
      return this._reason || null;
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

    // ---- lifecycle ----------------------------------------------------------------------------------

    connectedCallback() {
      if (!this._$) this._build();
      this._render();
    }

    disconnectedCallback() {
      // Taken off the page mid-call (a SPA route change): hang up rather than leave a call running.
      queueMicrotask(() => this.isConnected || this._c.end());
    }

    attributeChangedCallback() {
      this._cfg = null;
      if (this._$) this._render();
    }

    // ---- internals ----------------------------------------------------------------------------------

    _config() {
      if (!this._cfg) {
        const cfg = parseConfig((n) => this.getAttribute(n) ?? env.scriptDefault(n), env);
        cfg.lang = resolveLang([cfg.lang, this.closest('[lang]')?.lang, ...navigator.languages]);
        cfg.t = translator(cfg.lang, { ...cfg.strings, ...this._strings });
        this._cfg = cfg;
      }
      return this._cfg;
    }

    _build() {
      const root = this.attachShadow({ mode: 'open' });
      adoptStyles(root);
      root.innerHTML += TEMPLATE;
      const $ = (this._$ = { root: root.firstElementChild, launch: root.querySelector('.launch') });
      for (const el of root.querySelectorAll('[data-r]')) $[el.dataset.r] = el;
      for (const el of root.querySelectorAll('button')) el.type = 'button';
      this._c._d.audioHost = $.audioHost;

      const intent = () => env.loadCall().catch(() => {});
      for (const type of ['pointerenter', 'focusin', 'touchstart']) {
        this.addEventListener(type, intent, { passive: true, once: true });
      }
      const on = (el, fn) => el.addEventListener('click', fn);
      on($.launch, () => this.start());
      on($.retry, () => this.start());
      on($.hangup, () => this.end());
      on($.mute, () => this.mute(!this.muted));
      on($.close, () => this._close());
      on($.audio, () => this._c.unlockAudio());
      on($.copy, () => this._copy());
      $.panel.addEventListener('keydown', (e) => e.key === 'Escape' && !$.close.hidden && this._close());
      $.list.addEventListener('scroll', () => {
        const l = $.list;
        this._stick = l.scrollTop + l.clientHeight >= l.scrollHeight - 24;
      });
    }

    _close() {
      this._c.reset();
      this._$.launch.focus();
    }

    _emit(type, detail) {
      this.dispatchEvent(new CustomEvent(`hms:${type}`, { detail, bubbles: true, composed: true }));
    }

    _on(kind, detail) {
      const c = this._c;
      const $ = this._$;
      if (kind === 'state') {
        if (detail.state === 'preflight') this._error = this._reason = this._soon = null;
        this._emit('state', { ...detail, reconnecting: c.s.reconnecting });
      } else if (kind === 'transcript') {
        this._emit('transcript', { entries: this.transcript, entry: detail.entry && { ...detail.entry } });
        const mod = env.loadedCall();
        if (!$ || !mod) return;
        if (!detail.entries.length) this._stick = true;
        mod.renderTranscript($.list, this._items, c.entries, this._names());
        if (this._stick) $.list.scrollTop = $.list.scrollHeight;
      } else if (kind === 'error') {
        const { message, wait } = describeError(detail, this._config().t, navigator.userAgent);
        this._error = { ...detail, message };
        this._wait = Date.now() + wait * 1000;
        clearInterval(this._waitTimer);
        if (wait) this._waitTimer = setInterval(() => this._render(), 1000);
        this._emit('error', this._error);
      } else if (kind === 'ended') {
        this._reason = detail.reason;
        this._duration = detail.durationSeconds;
        this._emit('ended', detail);
      } else if (kind === 'level' && $) {
        const speaking = detail.agentState === 'speaking' || detail.level > 0.08;
        $.root.style.setProperty('--lvl', detail.level.toFixed(2));
        if (speaking === this._speaking) return;
        this._speaking = speaking;
        $.root.toggleAttribute('data-speaking', speaking);
      }
      this._render();
    }

    _names() {
      const { t, assistantName } = this._config();
      return { user: t('you'), assistant: assistantName || t('assistant') };
    }

    async _copy() {
      const text = env.loadedCall().toText(this._c.entries, this._names());
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const area = document.createElement('textarea');
        area.value = text;
        this.shadowRoot.append(area);
        area.select();
        document.execCommand('copy');
        area.remove();
      }
      this._copied = true;
      this._render();
      setTimeout(() => {
        this._copied = false;
        this._render();
      }, 2000);
    }

    _render() {
      const $ = this._$;
      if (!$) return;
      const cfg = this._config();
      const { t } = cfg;
      const c = this._c;
      const { state: st, reconnecting, connected } = c.s;
      const active = ['preflight', 'requesting', 'connecting', 'live'].includes(st);
      const over = st === 'ended' || st === 'error';
      const live = st === 'live' && !reconnecting;
      const name = this._names().assistant;
      const focused = this.shadowRoot.activeElement;
      const show = (el, on) => (el.hidden = !on);

      if (this.hasAttribute('floating')) this.setAttribute('data-hms-position', cfg.position);
      $.root.className = `r ${cfg.theme}${active && !live ? ' busy' : ''}`;
      $.root.dataset.state = st;
      $.root.lang = cfg.lang;
      $.label.textContent = cfg.label || t('start');
      show($.launch, st === 'idle');
      show($.panel, st !== 'idle');
      $.panel.setAttribute('aria-label', name);
      $.title.textContent = name;
      $.close.setAttribute('aria-label', t('close'));
      show($.close, over);

      // Timer: the elapsed time, then the time left as the limit nears (announced once in the status).
      const elapsed = c.elapsed();
      const left = c.maxDuration - elapsed;
      const soon = st === 'live' && left <= 60;
      if (soon && !this._soon) this._soon = duration(left, t);
      show($.timer, (connected && active) || (st === 'ended' && this._duration));
      $.timer.setAttribute('aria-label', t('timer'));
      $.timer.textContent = soon ? t('left', { time: clock(left) }) : clock(active ? elapsed : this._duration);
      $.timer.classList.toggle('soon', soon);

      // Status (a polite live region, so it only changes with the state) and the speaking indicator.
      const status = reconnecting
        ? t('reconnecting')
        : st === 'connecting'
          ? t(connected ? 'waiting' : 'connecting')
          : st === 'live'
            ? this._soon
              ? t('leftSoon', { time: this._soon })
              : t('live')
            : t(st);
      if ($.status.textContent !== status) $.status.textContent = status;
      $.speaking.textContent = !live
        ? ''
        : ` · ${c.muted ? t('muted') : this._speaking ? t('speaking', { name }) : t('listening')}`;

      // Message: why it ended or failed and how to go on; or that the browser blocked the sound.
      const err = st === 'error' && this._error && describeError(this._error, t, navigator.userAgent);
      const text = err
        ? err.message
        : st === 'ended'
          ? t(this._reason === 'error' ? 'ended_error' : this._reason, { time: duration(c.maxDuration, t) })
          : active && c.audioBlocked
            ? t('audioHint')
            : '';
      show($.msg, text);
      $.msg.className = err ? 'msg' : 'msg info';
      $.msg.setAttribute('role', err ? 'alert' : 'status');
      $.text.textContent = text;
      $.hint.textContent = (err && err.hint) || '';
      show($.audio, active && c.audioBlocked);
      $.audio.textContent = t('audio');

      show($.list, cfg.showTranscript && (active || c.entries.length));
      $.list.setAttribute('aria-label', t('transcript'));
      show($.mute, active);
      show($.hangup, active);
      $.mute.textContent = t(c.muted ? 'unmute' : 'mute');
      $.mute.setAttribute('aria-pressed', c.muted);
      $.hangup.textContent = t('hangup');

      const wait = Math.ceil((this._wait - Date.now()) / 1000);
      show($.retry, st === 'ended' || (err && err.retry));
      $.retry.disabled = err && wait > 0;
      $.retry.textContent = st === 'ended' ? t('again') : err && wait > 0 ? t('retryIn', { wait: duration(wait, t) }) : t('retry');
      show($.copy, over && cfg.showTranscript && c.entries.length);
      $.copy.textContent = t(this._copied ? 'copied' : 'copy');

      // Keep keyboard focus in the widget when the control that had it disappears.
      if (focused && focused.closest('[hidden]')) {
        for (const el of [$.hangup, $.retry, $.close, $.launch]) if (!el.closest('[hidden]')) return el.focus();
      }
    }
  }

  HMSWebCallElement.strings = STRINGS;
  customElements.define('hms-webcall', HMSWebCallElement);
  return HMSWebCallElement;
}
