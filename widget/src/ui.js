// The call panel: the entry of the call chunk (call-<hash>.js, with call.js and livekit-client). The loader's
// element mounts it into its shadow root on the first start(); from then on this renders the Controller's
// state and turns it into the element's DOM events (hms:state, hms:transcript, hms:ended, hms:error).
// Each part of the panel is a small view (consent, status, controls, feedback, devices, agent, transcript,
// pop-out); this module wires them to the call and decides which of them has the panel.

import { agentView } from './agent-view.js';
import { actionsFollower } from './actions.js';
import { remembered } from './attributes.js';
import { consentView } from './consent-view.js';
import { controlsView } from './controls-view.js';
import { Controller } from './controller.js';
import { devicesView } from './devices-view.js';
import { describeError } from './errors.js';
import { feedbackView } from './feedback-view.js';
import { translator } from './i18n.js';
import { inCall, leaveHandlers } from './leave.js';
import { pageDeps } from './page-deps.js';
import { TEMPLATE, show } from './panel.js';
import { popoutView } from './popout-view.js';
import { pushToTalk } from './push-to-talk.js';
import { statusView } from './status-view.js';
import { STRINGS } from './strings.js';
import { PANEL_CSS, adoptStyles } from './styles.js';
import { transcriptView } from './transcript-view.js';
import { targetActions } from './targets.js';
import { screenWakeLock } from './wake-lock.js';
import { typingView } from './typing-view.js';

/** @typedef {import('./state.js').CallError} CallError */
/** @typedef {import('./panel.js').Refs} Refs */

/**
 * What the element hands to the panel.
 * @typedef {object} UIOptions
 * @property {HTMLElement & {challenge?: unknown}} host the element
 * @property {HTMLElement} root its .r wrapper, in its shadow root
 * @property {HTMLButtonElement} launcher
 * @property {() => import('./attributes.js').Config} config
 * @property {() => import('./i18n.js').Tables} pageStrings
 * @property {() => object | null | undefined} context
 * @property {() => AudioContext | null} audioContext
 * @property {() => Promise<MediaStream> | null | undefined} takeMic
 * @property {() => number | null} [takeClick] when (Date.now()) the click that loaded the call code was
 * @property {() => boolean} needsConsent
 * @property {(name: string) => string | null} attribute
 * @property {string} base
 * @property {import('./actions.js').Handlers} handlers the page's action handlers (element.actions)
 * @property {import('./page-tools.js').ToolHandlers} tools the page's tool handlers (element.tools)
 */

/**
 * Mounts the panel into the element's shadow root; returns what the element's public API forwards to.
 * @param {UIOptions} options
 */
export function mountUI(options) {
  return new CallPanel(options);
}

/** The panel's parts by their data-r name (panel.js), and the panel itself. */
function panelRefs(/** @type {HTMLElement} */ root) {
  root.insertAdjacentHTML('beforeend', TEMPLATE);
  const refs = /** @type {Record<string, HTMLElement>} */ ({ panel: root.querySelector('.panel') });
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-r]'))) {
    refs[/** @type {string} */ (el.dataset.r)] = el;
  }
  for (const el of root.querySelectorAll('button')) el.type = 'button';
  return /** @type {Refs} */ (/** @type {unknown} */ (refs));
}

class CallPanel {
  /** @type {UIOptions} */
  #options;
  /** @type {Refs} */
  #refs;
  /** @type {Controller} */
  #controller;
  /** @type {(CallError & {message: string}) | null} the last error as hms:error reported it */
  #error = null;
  /** @type {string | null} why the last call ended, as hms:ended reported it */
  #endReason = null;
  #popoutRetries = 0; // of a pop-out window's start, see #notify()
  /** @type {ReturnType<typeof consentView>} */
  #consent;
  /** @type {ReturnType<typeof statusView>} */
  #status;
  /** @type {ReturnType<typeof controlsView>} */
  #controls;
  /** @type {ReturnType<typeof feedbackView>} */
  #feedback;
  /** @type {ReturnType<typeof devicesView>} */
  #devices;
  /** @type {ReturnType<typeof agentView>} */
  #agent;
  /** @type {ReturnType<typeof transcriptView>} */
  #transcript;
  /** @type {ReturnType<typeof popoutView>} */
  #popout;
  /** @type {ReturnType<typeof typingView>} */
  #typing;
  /** @type {ReturnType<typeof actionsFollower>} */
  #followActions;
  /** @type {ReturnType<typeof pushToTalk>} */
  #push;
  #wakeLock = screenWakeLock();

  /** @param {UIOptions} options */
  constructor(options) {
    const { host, root, config } = options;
    this.#options = options;
    adoptStyles(/** @type {ShadowRoot} */ (root.getRootNode()), PANEL_CSS);
    const refs = (this.#refs = panelRefs(root));
    const controller = (this.#controller = new Controller(
      pageDeps(options, refs, () => this.#consent.version()),
      (...notice) => this.#notify(...notice),
    ));
    controller.speaker = remembered('speaker');

    const emit = (/** @type {string} */ type, /** @type {object} */ detail) => this.#emit(type, detail);
    const render = () => this.render();
    const start = () => this.start();
    const close = () => this.#close();
    const needsConsent = options.needsConsent;
    const shown = () => this.#devices.list(); // the menus beside the consent text
    this.#consent = consentView({ refs, host, controller, config, needsConsent, emit, render, close, shown });
    this.#status = statusView({ refs, controller });
    this.#controls = controlsView({ refs, root, controller, start, names: () => this.#names(), render });
    this.#feedback = feedbackView({ refs, controller, emit, render });
    this.#devices = devicesView({ refs, controller, emit, render, media: navigator.mediaDevices });
    this.#transcript = transcriptView(refs.list);
    this.#agent = agentView({ root, refs, emit });
    this.#push = pushToTalk({ refs, controller, config, render });
    const typeInstead = () => this.#consent.start({ typing: true });
    this.#typing = typingView({ refs, controller, typeInstead, render });
    refs.close.addEventListener('click', close);
    refs.panel.addEventListener('keydown', (e) => e.key === 'Escape' && !refs.close.hidden && close());

    // The built-ins aimed at the page's targets; a highlight lasts until the next action at the latest.
    const targets = targetActions(refs, () => this.#strings());
    const emitAction = (/** @type {string} */ type, /** @type {object} */ detail) => {
      if (type === 'action') targets.clear();
      emit(type, detail);
    };
    const { handlers, tools } = options;
    this.#followActions = actionsFollower({ controller, config, handlers, tools, emit: emitAction, targets: targets.run });
    // The pop-out: its button and notice, and the window's side (it reports its state to the page).
    const opened = () => this.#consent.dismiss();
    this.#popout = popoutView({ $: refs, c: controller, opts: options, emit, render, opened });
    const leave = leaveHandlers(controller, config, () => config().popoutWindow && this.#popout.post('closed'));
    addEventListener('beforeunload', leave.beforeunload);
    addEventListener('pagehide', leave.pagehide);
    // Back from the background (phones pause a hidden tab's audio): the assistant plays again, or the
    // "Tap to hear" button says what it takes; the screen is kept awake again (the browser let go).
    document.addEventListener('visibilitychange', () => {
      if (document.hidden || !controller.active) return;
      controller.unlockAudio();
      if (controller.connected) this.#wakeLock(true);
    });
  }

  /**
   * start() asks for consent first when it is needed: the microphone is not asked for before. A browser
   * that cannot call is told so at once, without a consent question for a call it cannot make.
   */
  start() {
    return this.#controller.supported ? this.#consent.start() : this.#controller.start();
  }

  end() {
    this.#controller.end();
  }

  /** @param {unknown} text a line to send into the live call (lk.chat) */
  sendText(text) {
    return this.#controller.sendText(text);
  }

  /** @param {boolean} on */
  mute(on) {
    return this.#controller.mute(on);
  }

  /** @param {{state: string, callId?: string | null}} report a pop-out window's state (shell.js asked) */
  popoutState(report) {
    this.#popout.report(report);
  }

  get state() {
    return this.#controller.state;
  }

  get transcript() {
    return this.#entries();
  }

  get callId() {
    return this.#controller.callId;
  }

  get muted() {
    return this.#controller.muted;
  }

  get error() {
    return this.#error;
  }

  get endReason() {
    return this.#endReason;
  }

  #entries() {
    return this.#controller.entries.map((entry) => ({ ...entry }));
  }

  // The element drops its parsed config when an attribute changes, so a translator cached on it is fresh.
  #strings() {
    const config = this.#options.config();
    config.t = config.t || translator(STRINGS, config.lang, config.overrides, this.#options.pageStrings());
    return config.t;
  }

  #names() {
    const t = this.#strings();
    return { user: t('you'), assistant: this.#options.config().assistantName || t('assistant'), typed: t('typed') };
  }

  #emit(/** @type {string} */ type, /** @type {object} */ detail) {
    this.#options.host.dispatchEvent(new CustomEvent(`hms:${type}`, { detail, bubbles: true, composed: true }));
  }

  #close() {
    this.#consent.dismiss();
    this.#controller.reset();
    this.render(); // the consent text closes in the idle state, which reset() leaves as it is
    this.#options.launcher.focus({ preventScroll: true });
  }

  // The parameters destructured from one rest tuple, so that the type of `detail` follows from `kind`.
  /** @param {import('./deps.js').Notice} notice */
  #notify(...[kind, detail]) {
    const controller = this.#controller;
    const config = this.#options.config();
    if (kind === 'state') {
      if (detail.state === 'preflight') {
        this.#error = this.#endReason = null;
        this.#status.reset();
        this.#feedback.reset();
        this.#agent.reset();
      }
      // The microphone is allowed now: the devices have names, and there is something to choose from.
      if (detail.state === 'requesting') {
        this.#devices.list();
        this.#push.started();
      }
      this.#wakeLock(controller.connected && controller.active); // the screen stays on (wake-lock.js)
      if (config.popoutWindow) this.#popout.post(detail.state);
      this.#followActions(detail.state);
      if (detail.state === 'error') {
        this.#controls.failed(describeError(/** @type {CallError} */ (controller.error), this.#strings()).wait);
      }
      this.#emit('state', { ...detail, reconnecting: detail.state === 'reconnecting' });
    } else if (kind === 'transcript') {
      this.#agent.line(detail.entry);
      this.#emit('transcript', { entries: this.#entries(), entry: detail.entry && { ...detail.entry } });
      this.#transcript(controller.entries, this.#names());
    } else if (kind === 'error') {
      this.#error = { ...detail, message: describeError(detail, this.#strings()).message };
      this.#emit('error', this.#error);
      // The pop-out window's call follows the one the tab just hung up, whose slot the server frees when
      // HMS reports that call ended: a moment later. Until then the window is "too many calls".
      if (config.popoutWindow && detail.code === 'too_many_calls' && this.#popoutRetries++ < 5) {
        setTimeout(() => this.start(), 1500);
      }
    } else if (kind === 'timing') {
      return this.#emit('timing', detail);
    } else if (kind === 'audio') {
      this.#emit('audio-blocked', detail);
    } else if (kind === 'reconnecting') {
      this.#emit('reconnecting', detail);
    } else if (kind === 'reconnected') {
      this.#emit('reconnected', detail);
    } else if (kind === 'ended') {
      this.#endReason = detail.reason;
      this.#status.ended(detail.durationSeconds);
      this.#emit('ended', detail);
    } else if (kind === 'level') {
      this.#options.root.style.setProperty('--lvl', detail.level.toFixed(2));
      if (!this.#agent.level(detail, controller.state === 'live')) return;
    }
    this.render();
  }

  render() {
    const { root, launcher } = this.#options;
    const refs = this.#refs;
    const controller = this.#controller;
    const config = this.#options.config();
    const t = this.#strings();
    const { state, active } = controller;
    const name = this.#names().assistant;
    const focused = /** @type {ShadowRoot} */ (root.getRootNode()).activeElement;

    // The consent text or the pop-out notice replaces the rest of the panel while shown.
    const asking = this.#consent.asking;
    const away = this.#popout.away;
    const idle = state === 'idle' && !asking && !away;
    const quiet = asking || !!away;
    root.dataset.state = away ? 'popout' : asking ? 'consent' : state;
    show(launcher, idle);
    show(refs.panel, !idle);
    refs.panel.setAttribute('aria-label', name);
    refs.title.textContent = name;
    refs.close.setAttribute('aria-label', t('close'));
    show(refs.close, state === 'ended' || state === 'error' || asking);

    const error = this.#status.update(t, quiet);
    this.#agent.render(t, { you: t('you'), name }, state === 'live', controller.muted);
    this.#consent.update(t);
    show(refs.away, away);
    refs.awayText.textContent = t('popoutAway');
    refs.focus.textContent = t('popoutFocus');

    // Feedback on the ended call, once: skippable, then a thank-you (or why it was not taken).
    this.#feedback.update(t, state === 'ended' && !!controller.callId && !quiet);
    this.#devices.update(t, !!away);
    show(refs.popout, config.popout && !config.popoutWindow && !quiet && inCall(state) && !!window.open);
    refs.popout.textContent = t('popout');

    show(refs.list, !quiet && config.showTranscript && (active || controller.entries.length));
    refs.list.setAttribute('aria-label', t('transcript'));
    this.#controls.update(t, { quiet, error, showTranscript: config.showTranscript });
    this.#push.update(t);
    this.#typing.update(t, { quiet, enabled: config.textInput });

    // Keep keyboard focus in the widget when the control that had it disappears.
    if (focused && focused.closest('[hidden]')) {
      const next = [refs.hangup, refs.fbDone, refs.retry, refs.focus, refs.close, launcher].find(
        (el) => !el.closest('[hidden]'),
      );
      if (next) next.focus({ preventScroll: true });
    }
  }
}
