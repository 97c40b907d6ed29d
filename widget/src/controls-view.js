// The panel's buttons under the call: mute and hang up during it; afterwards try again (held back while a
// rate limit's wait runs, counting down) and copy the transcript.

import { duration } from './i18n.js';
import { show } from './panel.js';
import { toText } from './transcript.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The controls in the panel `refs` (inside `root`), for the calls of `controller`.
 * @param {{refs: Refs, root: HTMLElement, controller: import('./controller.js').Controller,
 *   start: () => unknown, names: () => Record<string, string>, render: () => void}} parts
 *   `start` starts a call again; `names` are the speakers' names in a copied transcript
 */
export function controlsView({ refs, root, controller, start, names, render }) {
  let retryAt = 0; // when trying again makes sense after the last error (Date.now())
  let retryTimer = 0; // re-renders the countdown every second until then
  let copied = false;

  async function copy() {
    const text = toText(controller.entries, names());
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

  refs.retry.addEventListener('click', start);
  refs.hangup.addEventListener('click', () => controller.end());
  refs.mute.addEventListener('click', () => controller.mute(!controller.muted));
  refs.copy.addEventListener('click', copy);

  return {
    /** @param {number} wait seconds until trying again makes sense after this error */
    failed(wait) {
      retryAt = Date.now() + wait * 1000;
      clearInterval(retryTimer);
      if (wait) retryTimer = setInterval(render, 1000);
    },
    /**
     * @param {Translate} t
     * @param {{quiet: boolean, error: {retry?: boolean} | null, showTranscript: boolean}} view `quiet`:
     *   another view has the panel; `error`: why the call failed (describeError)
     */
    update(t, { quiet, error, showTranscript }) {
      const { state, active, muted } = controller;
      show(refs.mute, active && !controller.typing); // a typed call has no microphone
      show(refs.hangup, active);
      refs.mute.textContent = t(muted ? 'unmute' : 'mute');
      refs.mute.setAttribute('aria-pressed', String(muted));
      refs.hangup.textContent = t('hangup');

      const wait = Math.ceil((retryAt - Date.now()) / 1000);
      if (wait <= 0) clearInterval(retryTimer);
      show(refs.retry, !quiet && (state === 'ended' || (error && error.retry)));
      refs.retry.disabled = !!error && wait > 0;
      refs.retry.textContent =
        state === 'ended' ? t('again') : error && wait > 0 ? t('retryIn', { wait: duration(wait, t) }) : t('retry');
      const over = state === 'ended' || state === 'error';
      show(refs.copy, !quiet && over && showTranscript && controller.entries.length);
      refs.copy.textContent = t(copied ? 'copied' : 'copy');
    },
  };
}
