// The call panel: the entry of the call chunk (call-<hash>.js, with call.js and livekit-client). The loader's
// element mounts it into its shadow root on the first start(); from then on this renders the Controller's
// state and turns it into the element's DOM events (hms:state, hms:transcript, hms:ended, hms:error).

import { agentView } from './agent-view.js';
import { actionsFollower } from './actions.js';
import { remember, remembered } from './attributes.js';
import { createSession } from './call.js';
import { solveChallenge } from './challenge.js';
import { Controller } from './controller.js';
import { devicesView } from './devices-view.js';
import { feedbackView } from './feedback-view.js';
import { describeError } from './errors.js';
import { clock, duration, translator } from './i18n.js';
import { inCall, leaveHandlers } from './leave.js';
import { popoutView } from './popout-view.js';
import { isActive } from './state.js';
import { STRINGS } from './strings.js';
import { TEMPLATE } from './panel.js';
import { PANEL_CSS, adoptStyles } from './styles.js';
import { transcriptView } from './transcript-view.js';
import { toText } from './transcript.js';

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
 * @property {() => boolean} needsConsent
 * @property {(name: string) => string | null} attribute
 * @property {string} base
 * @property {import('./actions.js').Handlers} handlers the page's action handlers (element.actions)
 */


/**
 * opts: {host (the element), root (its .r wrapper), launcher, config(), pageStrings(), context(),
 *        audioContext(), takeMic(), needsConsent(), attribute(name), base}. Returns the object the
 *        element's public API forwards to.
 * @param {UIOptions} opts
 */
export function mountUI(opts) {
  const { host, root, launcher } = opts;
  adoptStyles(/** @type {ShadowRoot} */ (root.getRootNode()), PANEL_CSS);
  root.insertAdjacentHTML('beforeend', TEMPLATE);
  const $ = /** @type {Refs} */ ({ panel: root.querySelector('.panel') });
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-r]'))) {
    /** @type {Record<string, HTMLElement>} */ ($)[/** @type {string} */ (el.dataset.r)] = el;
  }
  for (const el of root.querySelectorAll('button')) el.type = 'button';

  /** @type {(CallError & {message: string}) | null} */
  let error = null; // the last error as hms:error reported it (with its message)
  /** @type {string | null} */
  let reason = null; // why the last call ended, as hms:ended reported it
  let lastDuration = 0;
  let waitUntil = 0;
  let waitTimer = 0;
  /** @type {string | null} */
  let soon = '';
  let copied = false;
  let retries = 0; // of a pop-out window's start, see notify()
  let asking = false; // the consent text is shown, waiting for the visitor's agreement

  const md = navigator.mediaDevices;
  const c = new Controller(
    {
      config: opts.config,
      context: opts.context,
      consent: () => (hasConsent() && !opts.needsConsent() ? opts.config().consentVersion : null),
      micId: () => remembered('mic'),
      solveChallenge,
      challengeToken: () => (typeof host.challenge === 'function' ? host.challenge() : null),
      getUserMedia: md?.getUserMedia && ((constraints) => opts.takeMic() || md.getUserMedia(constraints)),
      fetch: (url, init) => fetch(url, init),
      crossOrigin: (url) => new URL(url, location.href).origin !== location.origin,
      createSession,
      audioContext: opts.audioContext,
      audioHost: $.audioHost,
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
    },
    notify,
  );

  // The element drops its parsed config when an attribute changes, so a translator cached on it is fresh.
  const strings = () => {
    const cfg = opts.config();
    cfg.t = cfg.t || translator(STRINGS, cfg.lang, cfg.overrides, opts.pageStrings());
    return cfg.t;
  };
  const names = () => {
    const t = strings();
    return { user: t('you'), assistant: opts.config().assistantName || t('assistant') };
  };
  const emit = (/** @type {string} */ type, /** @type {object} */ detail) =>
    host.dispatchEvent(new CustomEvent(`hms:${type}`, { detail, bubbles: true, composed: true }));
  const entriesCopy = () => c.entries.map((e) => ({ ...e }));
  /**
   * @param {HTMLElement} el
   * @param {() => unknown} fn
   */
  const on = (el, fn) => el.addEventListener('click', fn);

  c.speaker = remembered('speaker');
  const feedback = feedbackView({ $, c, emit, render });
  const devices = devicesView({ $, c, emit, render, md });
  const renderTranscript = transcriptView($.list);
  const agent = agentView({ root, $, emit });
  on($.retry, start);
  on($.hangup, () => c.end());
  on($.mute, () => c.mute(!c.muted));
  on($.close, close);
  on($.audio, () => c.unlockAudio());
  on($.copy, copy);
  on($.cbox, render);
  on($.cstart, accept);
  on($.ccancel, () => {
    asking = false;
    emit('consent', { version: opts.config().consentVersion, accepted: false });
    close();
  });
  $.panel.addEventListener('keydown', (e) => e.key === 'Escape' && !$.close.hidden && close());

  const follow = actionsFollower({ c, config: opts.config, handlers: opts.handlers, emit });
  const popout = popoutView({ $, c, opts, emit, render, opened: () => (asking = false) });
  const leave = leaveHandlers(c, opts.config, () => opts.config().popoutWindow && popout.post('closed'));
  addEventListener('beforeunload', leave.beforeunload);
  addEventListener('pagehide', leave.pagehide);

  function hasConsent() {
    return !!(opts.config().consent || consentTemplate());
  }

  function consentTemplate() {
    return /** @type {HTMLTemplateElement | null} */ (host.querySelector(':scope>template[slot=consent]'));
  }

  /** start() asks for consent first when it is needed: the microphone is not asked for before. */
  function start() {
    if (!opts.needsConsent()) return c.start();
    asking = true;
    const tpl = consentTemplate();
    $.ctext.textContent = tpl ? '' : opts.config().consent;
    if (tpl) $.ctext.append(tpl.content.cloneNode(true));
    $.cbox.checked = false;
    devices.list();
    render();
    $.cbox.focus({ preventScroll: true });
  }

  function accept() {
    if (!$.cbox.checked) return;
    const version = opts.config().consentVersion;
    remember('consent', version);
    asking = false;
    emit('consent', { version, accepted: true });
    c.start(); // still inside the click: the audio unlock counts
  }


  function close() {
    asking = false;
    c.reset();
    render(); // the consent text closes in the idle state, which reset() leaves as it is
    launcher.focus({ preventScroll: true });
  }

  // The parameters destructured from one rest tuple, so that the type of `detail` follows from `kind`.
  /** @param {import('./deps.js').Notice} notice */
  function notify(...[kind, detail]) {
    if (kind === 'state') {
      if (detail.state === 'preflight') {
        error = reason = soon = null;
        feedback.reset();
        agent.reset();
      }
      // The microphone is allowed now: the devices have names, and there is something to choose from.
      if (detail.state === 'requesting') devices.list();
      if (opts.config().popoutWindow) popout.post(detail.state);
      follow(detail.state);
      if (detail.state === 'error') {
        const { wait } = describeError(/** @type {CallError} */ (c.s.error), strings());
        waitUntil = Date.now() + wait * 1000;
        clearInterval(waitTimer);
        if (wait) waitTimer = setInterval(render, 1000);
      }
      emit('state', { ...detail, reconnecting: c.s.reconnecting });
    } else if (kind === 'transcript') {
      agent.line(detail.entry);
      emit('transcript', { entries: entriesCopy(), entry: detail.entry && { ...detail.entry } });
      renderTranscript(c.entries, names());
    } else if (kind === 'error') {
      error = { ...detail, message: describeError(detail, strings()).message };
      emit('error', error);
      // The pop-out window's call follows the one the tab just hung up, whose slot the server frees when
      // HMS reports that call ended: a moment later. Until then the window is "too many calls".
      if (opts.config().popoutWindow && detail.code === 'too_many_calls' && retries++ < 5) {
        setTimeout(start, 1500);
      }
    } else if (kind === 'reconnecting') {
      emit('reconnecting', detail);
    } else if (kind === 'reconnected') {
      emit('reconnected', detail);
    } else if (kind === 'ended') {
      reason = detail.reason;
      lastDuration = detail.durationSeconds;
      emit('ended', detail);
    } else if (kind === 'level') {
      root.style.setProperty('--lvl', detail.level.toFixed(2));
      if (!agent.level(detail, c.state === 'live')) return;
    }
    render();
  }

  async function copy() {
    const text = toText(c.entries, names());
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement('textarea');
      area.value = text;
      root.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    copied = true;
    render();
    setTimeout(() => {
      copied = false;
      render();
    }, 2000);
  }

  function render() {
    const cfg = opts.config();
    const t = strings();
    const { state: st, connected } = c.s;
    const active = isActive(c.s);
    const over = st === 'ended' || st === 'error';
    const live = st === 'live';
    const name = names().assistant;
    const focused = /** @type {ShadowRoot} */ (root.getRootNode()).activeElement;
    const show = (/** @type {HTMLElement} */ el, /** @type {unknown} */ on) => (el.hidden = !on);

    const away = popout.away;
    const idle = st === 'idle' && !asking && !away;
    const quiet = asking || away; // the consent text or the pop-out notice replaces the rest
    root.dataset.state = away ? 'popout' : asking ? 'consent' : st;
    show(launcher, idle);
    show($.panel, !idle);
    $.panel.setAttribute('aria-label', name);
    $.title.textContent = name;
    $.close.setAttribute('aria-label', t('close'));
    show($.close, over || asking);

    // Timer: the elapsed time, then the time left as the limit nears (announced once in the status).
    const elapsed = c.elapsed();
    const left = c.maxDuration - elapsed;
    const ending = st === 'live' && left <= 60;
    if (ending && !soon) soon = duration(left, t);
    show($.timer, !quiet && ((connected && active) || (st === 'ended' && lastDuration)));
    $.timer.setAttribute('aria-label', t('timer'));
    $.timer.textContent = ending ? t('left', { time: clock(left) }) : clock(active ? elapsed : lastDuration);
    $.timer.classList.toggle('soon', ending);

    // Status (a polite live region, so it only changes with the state) and the speaking indicator.
    const status =
      st === 'connecting'
        ? t(connected ? 'waiting' : 'connecting')
        : st === 'live'
          ? soon
            ? t('leftSoon', { time: soon })
            : t('live')
          : t(st); // 'reconnecting' too
    if ($.status.textContent !== status) $.status.textContent = status;
    $.line.classList.toggle('busy', active && !live);
    agent.render(t, { you: t('you'), name }, live, c.muted);

    // Message: why it ended or failed and how to go on; or that the browser blocked the sound.
    const err = st === 'error' && describeError(/** @type {CallError} */ (c.s.error), t, navigator.userAgent);
    const text = err
      ? err.message
      : st === 'ended'
        ? t(c.s.reason === 'error' ? 'ended_error' : String(c.s.reason), { time: duration(c.maxDuration, t) })
        : active && c.audioBlocked
          ? t('audioHint')
          : '';
    show($.msg, text && !quiet);
    $.msg.className = err ? 'msg' : 'msg info';
    $.msg.setAttribute('role', err ? 'alert' : 'status');
    $.text.textContent = text;
    $.hint.textContent = (err && err.hint) || '';
    show($.audio, active && c.audioBlocked);
    $.audio.textContent = t('audio');

    // Consent, then the pop-out notice: each replaces the rest of the panel while shown.
    show($.consent, asking);
    $.clabel.textContent = t('consentAccept');
    $.cstart.textContent = t('consentStart');
    $.cstart.disabled = !$.cbox.checked;
    $.ccancel.textContent = t('cancel');
    show($.away, away);
    $.awayText.textContent = t('popoutAway');
    $.focus.textContent = t('popoutFocus');
    show($.line, !quiet);

    // Feedback on the ended call, once: skippable, then a thank-you (or why it was not taken).
    const asked = st === 'ended' && !!c.callId && !quiet;
    feedback.update(t, asked);

    devices.update(t, !!away);
    show($.popout, cfg.popout && !cfg.popoutWindow && !quiet && inCall(st) && !!window.open);
    $.popout.textContent = t('popout');

    show($.list, !quiet && cfg.showTranscript && (active || c.entries.length));
    $.list.setAttribute('aria-label', t('transcript'));
    show($.mute, active);
    show($.hangup, active);
    $.mute.textContent = t(c.muted ? 'unmute' : 'mute');
    $.mute.setAttribute('aria-pressed', String(c.muted));
    $.hangup.textContent = t('hangup');

    const wait = Math.ceil((waitUntil - Date.now()) / 1000);
    if (wait <= 0) clearInterval(waitTimer);
    show($.retry, !quiet && (st === 'ended' || (err && err.retry)));
    $.retry.disabled = !!err && wait > 0;
    $.retry.textContent =
      st === 'ended' ? t('again') : err && wait > 0 ? t('retryIn', { wait: duration(wait, t) }) : t('retry');
    show($.copy, !quiet && over && cfg.showTranscript && c.entries.length);
    $.copy.textContent = t(copied ? 'copied' : 'copy');

    // Keep keyboard focus in the widget when the control that had it disappears.
    if (focused && focused.closest('[hidden]')) {
      const next = [$.hangup, $.fbDone, $.retry, $.focus, $.close, launcher].find((el) => !el.closest('[hidden]'));
      if (next) next.focus({ preventScroll: true });
    }
  }

  return {
    start,
    popoutState: (/** @type {{state: string, callId?: string | null}} */ report) => popout.report(report),
    end: () => c.end(),
    mute: (/** @type {boolean} */ on) => c.mute(on),
    render,
    get state() {
      return c.state;
    },
    get transcript() {
      return entriesCopy();
    },
    get callId() {
      return c.callId;
    },
    get muted() {
      return c.muted;
    },
    get error() {
      return error;
    },
    get endReason() {
      return reason;
    },
  };
}
