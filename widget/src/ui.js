// The call panel: the entry of the call chunk (call-<hash>.js, with call.js and livekit-client). The loader's
// element mounts it into its shadow root on the first start(); from then on this renders the Controller's
// state and turns it into the element's DOM events (hms:state, hms:transcript, hms:ended, hms:error).

import { createSession } from './call.js';
import { Controller } from './controller.js';
import { describeError } from './errors.js';
import { clock, duration, translator } from './i18n.js';
import { STRINGS } from './strings.js';
import { PANEL_CSS, adoptStyles } from './styles.js';
import { toText } from './transcript.js';

const ACTIVE = ['preflight', 'requesting', 'connecting', 'live'];

const TEMPLATE = `<section class="panel" part="panel" hidden>
<header part="header"><span class="orb" part="level"></span><span class="title" part="title" data-r="title"></span>
<span class="timer" part="timer" role="timer" data-r="timer"></span><button class="close" part="close" data-r="close">\u00d7</button></header>
<div class="line" data-r="line"><span part="status" role="status" data-r="status"></span><span part="speaking" data-r="speaking"></span></div>
<p class="msg" part="message" data-r="msg"><span data-r="text"></span><span class="hint" part="hint" data-r="hint"></span></p>
<button class="primary" part="audio-unlock" data-r="audio"></button>
<ol part="transcript" aria-live="polite" tabindex="0" data-r="list"></ol>
<div class="controls" part="controls"><button part="copy" data-r="copy"></button>
<button part="mute" data-r="mute"></button><button class="danger" part="hangup" data-r="hangup"></button>
<button class="primary" part="retry" data-r="retry"></button></div></section><div class="sr" data-r="audioHost"></div>`;

/**
 * opts: {host (the element), root (its .r wrapper), launcher, config(), pageStrings(), context(),
 *        audioContext(), takeMic()}. Returns the object the element's public API forwards to.
 */
export function mountUI(opts) {
  const { host, root, launcher } = opts;
  adoptStyles(root.getRootNode(), PANEL_CSS);
  root.insertAdjacentHTML('beforeend', TEMPLATE);
  const $ = { panel: root.querySelector('.panel') };
  for (const el of root.querySelectorAll('[data-r]')) $[el.dataset.r] = el;
  for (const el of root.querySelectorAll('button')) el.type = 'button';

  const items = new Map(); // transcript <li> by segment id
  let stick = true; // follow new transcript lines until the reader scrolls up
  let error = null; // the last error as hms:error reported it (with its message)
  let reason = null; // why the last call ended, as hms:ended reported it
  let lastDuration = 0;
  let waitUntil = 0;
  let waitTimer = 0;
  let soon = '';
  let speaking = false;
  let copied = false;

  const md = navigator.mediaDevices;
  const c = new Controller(
    {
      config: opts.config,
      context: opts.context,
      getUserMedia: md?.getUserMedia && ((constraints) => opts.takeMic() || md.getUserMedia(constraints)),
      fetch: (url, init) => fetch(url, init),
      crossOrigin: (url) => new URL(url, location.href).origin !== location.origin,
      createSession,
      audioContext: opts.audioContext,
      audioHost: $.audioHost,
      cookies: () => document.cookie,
      meta: (name) => document.querySelector(`meta[name="${CSS.escape(name)}"]`)?.content || '',
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
  const emit = (type, detail) =>
    host.dispatchEvent(new CustomEvent(`hms:${type}`, { detail, bubbles: true, composed: true }));
  const entriesCopy = () => c.entries.map((e) => ({ ...e }));
  const on = (el, fn) => el.addEventListener('click', fn);

  on($.retry, () => c.start());
  on($.hangup, () => c.end());
  on($.mute, () => c.mute(!c.muted));
  on($.close, close);
  on($.audio, () => c.unlockAudio());
  on($.copy, copy);
  $.panel.addEventListener('keydown', (e) => e.key === 'Escape' && !$.close.hidden && close());
  $.list.addEventListener('scroll', () => {
    const l = $.list;
    stick = l.scrollTop + l.clientHeight >= l.scrollHeight - 24;
  });

  function close() {
    c.reset();
    launcher.focus({ preventScroll: true });
  }

  function notify(kind, detail) {
    if (kind === 'state') {
      if (detail.state === 'preflight') error = reason = soon = null;
      if (detail.state === 'error') {
        const { wait } = describeError(c.s.error, strings());
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
      li.setAttribute('aria-busy', !e.final);
      li.firstChild.textContent = who[e.role];
      if (li.lastChild.textContent !== e.text) li.lastChild.textContent = e.text;
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
    const focused = root.getRootNode().activeElement;
    const show = (el, on) => (el.hidden = !on);

    root.dataset.state = st;
    show(launcher, st === 'idle');
    show($.panel, st !== 'idle');
    $.panel.setAttribute('aria-label', name);
    $.title.textContent = name;
    $.close.setAttribute('aria-label', t('close'));
    show($.close, over);

    // Timer: the elapsed time, then the time left as the limit nears (announced once in the status).
    const elapsed = c.elapsed();
    const left = c.maxDuration - elapsed;
    const ending = st === 'live' && left <= 60;
    if (ending && !soon) soon = duration(left, t);
    show($.timer, (connected && active) || (st === 'ended' && lastDuration));
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
    const err = st === 'error' && describeError(c.s.error, t, navigator.userAgent);
    const text = err
      ? err.message
      : st === 'ended'
        ? t(c.s.reason === 'error' ? 'ended_error' : c.s.reason, { time: duration(c.maxDuration, t) })
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

    const wait = Math.ceil((waitUntil - Date.now()) / 1000);
    if (wait <= 0) clearInterval(waitTimer);
    show($.retry, st === 'ended' || (err && err.retry));
    $.retry.disabled = !!err && wait > 0;
    $.retry.textContent =
      st === 'ended' ? t('again') : err && wait > 0 ? t('retryIn', { wait: duration(wait, t) }) : t('retry');
    show($.copy, over && cfg.showTranscript && c.entries.length);
    $.copy.textContent = t(copied ? 'copied' : 'copy');

    // Keep keyboard focus in the widget when the control that had it disappears.
    if (focused && focused.closest('[hidden]')) {
      const next = [$.hangup, $.retry, $.close, launcher].find((el) => !el.closest('[hidden]'));
      if (next) next.focus({ preventScroll: true });
    }
  }

  return {
    start: () => c.start(),
    end: () => c.end(),
    mute: (on) => c.mute(on),
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
