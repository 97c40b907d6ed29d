// The call panel: the entry of the call chunk (call-<hash>.js, with call.js and livekit-client). The loader's
// element mounts it into its shadow root on the first start(); from then on this renders the Controller's
// state and turns it into the element's DOM events (hms:state, hms:transcript, hms:ended, hms:error).

import { remember, remembered } from './attributes.js';
import { createSession } from './call.js';
import { solveChallenge } from './challenge.js';
import { Controller, FEEDBACK_MAX } from './controller.js';
import { deviceLists, offer, selectedDevice } from './devices.js';
import { describeError } from './errors.js';
import { clock, duration, translator } from './i18n.js';
import { inCall, leaveHandlers } from './leave.js';
import { CHANNEL, WINDOW_FEATURES, WINDOW_NAME, popoutBusy, popoutUrl } from './popout.js';
import { STRINGS } from './strings.js';
import { PANEL_CSS, adoptStyles } from './styles.js';
import { toText } from './transcript.js';

const ACTIVE = ['preflight', 'requesting', 'connecting', 'live'];

const TEMPLATE = `<section class="panel" part="panel" hidden>
<header part="header"><span class="orb" part="level"></span><span class="title" part="title" data-r="title"></span>
<span class="timer" part="timer" role="timer" data-r="timer"></span><button class="close" part="close" data-r="close">\u00d7</button></header>
<div class="line" data-r="line"><span part="status" role="status" data-r="status"></span><span part="speaking" data-r="speaking"></span></div>
<p class="msg" part="message" data-r="msg"><span data-r="text"></span><span class="hint" part="hint" data-r="hint"></span></p>
<div class="box" part="consent" data-r="consent"><div part="consent-text" data-r="ctext"></div>
<label class="check"><input type="checkbox" part="consent-check" data-r="cbox"><span data-r="clabel"></span></label>
<div class="controls"><button part="consent-cancel" data-r="ccancel"></button><button class="primary" part="consent-start" data-r="cstart"></button></div></div>
<div class="box" part="popout-notice" data-r="away"><span data-r="awayText"></span><div class="controls">
<button class="primary" part="popout-focus" data-r="focus"></button></div></div>
<button class="primary" part="audio-unlock" data-r="audio"></button>
<ol part="transcript" aria-live="polite" tabindex="0" data-r="list"></ol>
<div class="box" part="feedback" data-r="fb"><span data-r="fbAsk"></span><div class="controls rate">
<button class="thumb" part="feedback-up" aria-pressed="false" data-r="up">\u{1F44D}</button>
<button class="thumb" part="feedback-down" aria-pressed="false" data-r="down">\u{1F44E}</button></div>
<textarea part="feedback-comment" rows="2" data-r="comment"></textarea><span class="hint" role="alert" data-r="fbErr"></span>
<div class="controls"><button part="feedback-skip" data-r="skip"></button><button class="primary" part="feedback-send" data-r="send"></button></div></div>
<p class="msg info" part="feedback-result" role="status" data-r="fbDone"></p>
<div class="devices" part="devices" data-r="devices"><label data-r="micRow"><span data-r="micLabel"></span>
<select part="mic-select" data-r="mic"></select></label><label data-r="spkRow"><span data-r="spkLabel"></span>
<select part="speaker-select" data-r="spk"></select></label></div>
<div class="controls" part="controls"><button part="popout" data-r="popout"></button><button part="copy" data-r="copy"></button>
<button part="mute" data-r="mute"></button><button class="danger" part="hangup" data-r="hangup"></button>
<button class="primary" part="retry" data-r="retry"></button></div></section><div class="sr" data-r="audioHost"></div>`;

/** @typedef {import('./state.js').CallError} CallError */
/** @typedef {import('./devices.js').Device} Device */

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
 */

/**
 * The panel's elements by their data-r name (and the panel itself).
 * @typedef {Record<'panel' | 'title' | 'timer' | 'line' | 'status' | 'speaking' | 'msg' | 'text' | 'hint'
 *   | 'consent' | 'ctext' | 'clabel' | 'away' | 'awayText' | 'list' | 'fb' | 'fbAsk' | 'fbErr' | 'fbDone'
 *   | 'devices' | 'micRow' | 'micLabel' | 'spkRow' | 'spkLabel' | 'audioHost', HTMLElement>
 *   & Record<'close' | 'ccancel' | 'cstart' | 'focus' | 'audio' | 'up' | 'down' | 'skip' | 'send' | 'popout'
 *   | 'copy' | 'mute' | 'hangup' | 'retry', HTMLButtonElement>
 *   & {cbox: HTMLInputElement, comment: HTMLTextAreaElement, mic: HTMLSelectElement, spk: HTMLSelectElement}}
 *   Refs
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

  const items = new Map(); // transcript <li> by segment id
  let stick = true; // follow new transcript lines until the reader scrolls up
  /** @type {(CallError & {message: string}) | null} */
  let error = null; // the last error as hms:error reported it (with its message)
  /** @type {string | null} */
  let reason = null; // why the last call ended, as hms:ended reported it
  let lastDuration = 0;
  let waitUntil = 0;
  let waitTimer = 0;
  /** @type {string | null} */
  let soon = '';
  let speaking = false;
  let copied = false;
  let retries = 0; // of a pop-out window's start, see notify()
  let asking = false; // the consent text is shown, waiting for the visitor's agreement
  /** @type {string | null} */
  let away = null; // the state of the call in a pop-out window, while it has one
  /** @type {Window | null} */
  let popup = null; // that window, when this page opened it
  /** @type {{mics: Device[], speakers: Device[]}} */
  let devices = { mics: [], speakers: [] };
  /** @type {{rating: string | null, done: string, busy: boolean, failed: boolean}} */
  const fb = { rating: null, done: '', busy: false, failed: false }; // feedback on the last call
  const canSink = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

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
  $.comment.maxLength = FEEDBACK_MAX;
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
  on($.up, () => rate('up'));
  on($.down, () => rate('down'));
  on($.send, sendFeedback);
  on($.skip, () => feedbackDone('skipped'));
  on($.popout, popOut);
  on($.focus, () => (popup && !popup.closed ? popup : window.open('', WINDOW_NAME, WINDOW_FEATURES))?.focus());
  $.mic.addEventListener('change', () => chooseDevice('audioinput', $.mic));
  $.spk.addEventListener('change', () => chooseDevice('audiooutput', $.spk));
  md?.addEventListener?.('devicechange', listDevices);
  $.panel.addEventListener('keydown', (e) => e.key === 'Escape' && !$.close.hidden && close());

  const leave = leaveHandlers(c, opts.config, () => opts.config().popoutWindow && post('closed'));
  addEventListener('beforeunload', leave.beforeunload);
  addEventListener('pagehide', leave.pagehide);

  // The pop-out window's widget reports its state; the tab's widget (with `popout`) listens.
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
  if (channel) channel.onmessage = ({ data }) => onChannel(data || {});
  /** @param {string} state */
  function post(state) {
    channel?.postMessage({ type: 'popout-state', state, callId: c.callId });
  }
  /** @param {{type?: string, state: string, callId?: string | null}} data a channel message (popout.js) */
  function onChannel(data) {
    const cfg = opts.config();
    if (data.type === 'popout-query' && cfg.popoutWindow) post(c.state);
    else if (data.type === 'popout-state' && cfg.popout && !cfg.popoutWindow) popoutState(data);
  }

  /**
   * What a pop-out window reported (or, with state "closed", that it went).
   * @param {{state: string, callId?: string | null}} report
   */
  function popoutState({ state, callId = null }) {
    const busy = popoutBusy(state);
    if (!busy && !away) return;
    if (state !== away) emit('popout', { state, callId });
    away = busy ? state : null;
    if (!busy) popup = null;
    render();
  }

  function popOut() {
    const win = window.open(popoutUrl(opts.base, opts.attribute, opts.context()), WINDOW_NAME, WINDOW_FEATURES);
    if (!win) return; // a popup blocker: the call stays here
    popup = win;
    // A call cannot move between pages: this one ends, the window starts its own.
    c.end();
    c.reset();
    asking = false;
    popoutState({ state: 'opened' });
    // Across origins no channel message arrives: the window closing is the end of it.
    const watch = setInterval(() => {
      if (popup !== win) clearInterval(watch);
      else if (win.closed) {
        clearInterval(watch);
        popoutState({ state: 'closed' });
      }
    }, 1000);
  }

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
    listDevices();
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

  /** @param {string} rating */
  function rate(rating) {
    fb.rating = rating;
    render();
  }

  async function sendFeedback() {
    if (!fb.rating || fb.busy) return;
    const callId = c.callId;
    const comment = $.comment.value.trim();
    fb.busy = true;
    fb.failed = false;
    render();
    const result = await c.sendFeedback(fb.rating, comment);
    fb.busy = false;
    if (callId !== c.callId) return; // another call started meanwhile
    if (result === 'failed') fb.failed = true;
    else feedbackDone(result, comment);
    render();
  }

  /**
   * @param {string} result
   * @param {string} [comment]
   */
  function feedbackDone(result, comment = '') {
    fb.done = result;
    emit('feedback', { callId: c.callId, rating: result === 'skipped' ? null : fb.rating, comment, result });
    render();
    if ($.fbDone.hidden) return;
    $.fbDone.tabIndex = -1;
    $.fbDone.focus({ preventScroll: true });
  }

  async function listDevices() {
    try {
      devices = deviceLists(await md.enumerateDevices());
    } catch {
      devices = { mics: [], speakers: [] };
    }
    fill($.mic, devices.mics, remembered('mic'));
    fill($.spk, devices.speakers, c.speaker);
    render();
  }

  /**
   * @param {HTMLSelectElement} select
   * @param {Device[]} list
   * @param {string | null} id
   */
  function fill(select, list, id) {
    const value = selectedDevice(list, id);
    const same = select.options.length === list.length && list.every((d, i) => select.options[i].value === d.id);
    if (!same) select.replaceChildren(...list.map((d) => new Option(d.label, d.id)));
    select.value = value;
  }

  /**
   * @param {'audioinput' | 'audiooutput'} kind
   * @param {HTMLSelectElement} select
   */
  async function chooseDevice(kind, select) {
    const deviceId = select.value;
    const label = select.selectedOptions[0]?.text || '';
    if (kind === 'audioinput') {
      remember('mic', deviceId);
      if (!(await c.switchMic(deviceId))) console.warn('hms-webcall: could not switch to', label);
    } else {
      remember('speaker', deviceId);
      await c.setSpeaker(deviceId).catch(() => {});
    }
    emit('device-change', { kind, deviceId, label });
  }

  $.list.addEventListener('scroll', () => {
    const l = $.list;
    stick = l.scrollTop + l.clientHeight >= l.scrollHeight - 24;
  });

  function close() {
    asking = false;
    c.reset();
    render(); // the consent text closes in the idle state, which reset() leaves as it is
    launcher.focus({ preventScroll: true });
  }

  // The parameters destructured from one rest tuple, so that the type of `detail` follows from `kind`.
  /** @param {import('./controller.js').Notice} notice */
  function notify(...[kind, detail]) {
    if (kind === 'state') {
      if (detail.state === 'preflight') {
        error = reason = soon = null;
        Object.assign(fb, { rating: null, done: '', busy: false, failed: false });
        $.comment.value = '';
      }
      // The microphone is allowed now: the devices have names, and there is something to choose from.
      if (detail.state === 'requesting') listDevices();
      if (opts.config().popoutWindow) post(detail.state);
      if (detail.state === 'error') {
        const { wait } = describeError(/** @type {CallError} */ (c.s.error), strings());
        waitUntil = Date.now() + wait * 1000;
        clearInterval(waitTimer);
        if (wait) waitTimer = setInterval(render, 1000);
      }
      emit('state', { ...detail, reconnecting: c.s.reconnecting });
    } else if (kind === 'transcript') {
      emit('transcript', { entries: entriesCopy(), entry: detail.entry && { ...detail.entry } });
      renderTranscript();
    } else if (kind === 'error') {
      error = { ...detail, message: describeError(detail, strings()).message };
      emit('error', error);
      // The pop-out window's call follows the one the tab just hung up, whose slot the server frees when
      // HMS reports that call ended: a moment later. Until then the window is "too many calls".
      if (opts.config().popoutWindow && detail.code === 'too_many_calls' && retries++ < 5) {
        setTimeout(start, 1500);
      }
    } else if (kind === 'ended') {
      reason = detail.reason;
      lastDuration = detail.durationSeconds;
      emit('ended', detail);
    } else if (kind === 'level') {
      const now = detail.agentState === 'speaking' || detail.level > 0.08;
      root.style.setProperty('--lvl', detail.level.toFixed(2));
      if (now === speaking) return;
      speaking = now;
      root.toggleAttribute('data-speaking', now);
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

  // One <li> per segment, updated in place: screen readers (the list is aria-live) hear what is new,
  // not the whole list again.
  function renderTranscript() {
    const entries = c.entries;
    if (!entries.length) {
      $.list.textContent = '';
      items.clear();
      stick = true;
    }
    const who = names();
    for (const e of entries) {
      let li = items.get(e.id);
      if (!li) {
        li = document.createElement('li');
        li.append(document.createElement('b'), document.createElement('span'));
        items.set(e.id, li);
        $.list.append(li);
      }
      li.className = e.final ? e.role : `${e.role} interim`;
      li.setAttribute('part', `entry entry-${e.role}${e.final ? '' : ' entry-interim'}`);
      // Screen readers wait for a line to be final instead of reading it again word by word.
      li.setAttribute('aria-busy', String(!e.final));
      /** @type {ChildNode} */ (li.firstChild).textContent = who[e.role];
      const said = /** @type {ChildNode} */ (li.lastChild);
      if (said.textContent !== e.text) said.textContent = e.text;
    }
    if (stick) $.list.scrollTop = $.list.scrollHeight;
  }

  function render() {
    const cfg = opts.config();
    const t = strings();
    const { state: st, reconnecting, connected } = c.s;
    const active = ACTIVE.includes(st);
    const over = st === 'ended' || st === 'error';
    const live = st === 'live' && !reconnecting;
    const name = names().assistant;
    const focused = /** @type {ShadowRoot} */ (root.getRootNode()).activeElement;
    const show = (/** @type {HTMLElement} */ el, /** @type {unknown} */ on) => (el.hidden = !on);

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
    const status = reconnecting
      ? t('reconnecting')
      : st === 'connecting'
        ? t(connected ? 'waiting' : 'connecting')
        : st === 'live'
          ? soon
            ? t('leftSoon', { time: soon })
            : t('live')
          : t(st);
    if ($.status.textContent !== status) $.status.textContent = status;
    $.line.classList.toggle('busy', active && !live);
    $.speaking.textContent = live
      ? ` · ${c.muted ? t('muted') : speaking ? t('speaking', { name }) : t('listening')}`
      : '';

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
    const asked = st === 'ended' && c.callId && !quiet;
    show($.fb, asked && !fb.done);
    $.fbAsk.textContent = t('feedbackAsk');
    /** @type {Array<[HTMLButtonElement, string]>} */
    const thumbs = [[$.up, 'up'], [$.down, 'down']];
    for (const [el, r] of thumbs) {
      el.setAttribute('aria-pressed', String(fb.rating === r));
      el.setAttribute('aria-label', t(r === 'up' ? 'feedbackUp' : 'feedbackDown'));
      el.disabled = fb.busy;
    }
    $.comment.setAttribute('aria-label', t('feedbackComment'));
    $.comment.placeholder = t('feedbackComment');
    $.send.textContent = t('feedbackSend');
    $.send.disabled = !fb.rating || fb.busy;
    $.skip.textContent = t('feedbackSkip');
    show($.fbErr, fb.failed);
    $.fbErr.textContent = fb.failed ? t('feedback_failed') : '';
    show($.fbDone, asked && fb.done && fb.done !== 'skipped');
    $.fbDone.textContent = fb.done && fb.done !== 'skipped' ? t(`feedback_${fb.done}`) : '';

    // Devices: before the call (once the microphone is allowed), during it and between calls.
    const micChoice = offer(devices.mics);
    const spkChoice = canSink && offer(devices.speakers);
    show($.devices, !away && (micChoice || spkChoice));
    show($.micRow, micChoice);
    show($.spkRow, spkChoice);
    $.micLabel.textContent = t('microphone');
    $.spkLabel.textContent = t('speaker');
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
    popoutState,
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
