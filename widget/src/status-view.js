// The call's status in the panel: the timer in the header (the time elapsed, then the time left as the
// limit nears), the status line (a polite live region, so it changes only with the state), and the message
// that says why a call ended or failed and how to go on, or that the browser blocked the sound.

import { describeError } from './errors.js';
import { clock, duration } from './i18n.js';
import { show } from './panel.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */
/** @typedef {import('./state.js').CallError} CallError */

/**
 * The timer, status line and message in the panel `refs`, for the calls of `controller`.
 * @param {{refs: Refs, controller: import('./controller.js').Controller}} parts
 */
export function statusView({ refs, controller }) {
  /** @type {string | null} */
  let endingSoon = null; // the time left when the limit neared, announced once in the status
  let lastDuration = 0; // seconds, of the call that ended

  refs.audio.addEventListener('click', () => controller.unlockAudio());

  return {
    /** A new call: nothing announced yet. */
    reset() {
      endingSoon = null;
    },
    /** @param {number} seconds how long the call that just ended lasted */
    ended(seconds) {
      lastDuration = seconds;
    },
    /**
     * Renders; returns why the call failed (describeError), or null.
     * @param {Translate} t
     * @param {boolean} quiet another view (consent, pop-out notice) has the panel
     */
    update(t, quiet) {
      const { state, connected, active } = controller;

      const elapsed = controller.elapsed();
      const left = controller.maxDuration - elapsed;
      const ending = state === 'live' && left <= 60;
      if (ending && !endingSoon) endingSoon = duration(left, t);
      show(refs.timer, !quiet && ((connected && active) || (state === 'ended' && lastDuration)));
      refs.timer.setAttribute('aria-label', t('timer'));
      refs.timer.textContent = ending ? t('left', { time: clock(left) }) : clock(active ? elapsed : lastDuration);
      refs.timer.classList.toggle('soon', ending);

      const status =
        state === 'connecting'
          ? t(connected ? 'waiting' : 'connecting')
          : state === 'live'
            ? endingSoon
              ? t('leftSoon', { time: endingSoon })
              : t('live')
            : t(state); // 'reconnecting' too
      if (refs.status.textContent !== status) refs.status.textContent = status;
      refs.line.classList.toggle('busy', active && state !== 'live');
      show(refs.line, !quiet);

      const error =
        state === 'error' ? describeError(/** @type {CallError} */ (controller.error), t, navigator.userAgent) : null;
      const reason = controller.endReason;
      const text = error
        ? error.message
        : state === 'ended'
          ? t(reason === 'error' ? 'ended_error' : String(reason), { time: duration(controller.maxDuration, t) })
          : active && controller.audioBlocked
            ? t('audioHint')
            : '';
      show(refs.msg, text && !quiet);
      refs.msg.className = error ? 'msg' : 'msg info';
      refs.msg.setAttribute('role', error ? 'alert' : 'status');
      refs.text.textContent = text;
      refs.hint.textContent = (error && error.hint) || '';
      show(refs.audio, active && controller.audioBlocked);
      refs.audio.textContent = t('audio');
      return error;
    },
  };
}
