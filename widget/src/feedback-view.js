// After a call: thumbs up or down, an optional comment, skippable; then a thank-you, or why it was not
// taken. Sent once per call by the controller (POST {prefix}/web-calls/<id>/feedback).

import { FEEDBACK_MAX } from './feedback.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The feedback form in the panel `$`, for the calls of controller `c`.
 * @param {{$: Refs, c: import('./controller.js').Controller, emit: (type: string, detail: object) => void,
 *   render: () => void}} parts
 */
export function feedbackView({ $, c, emit, render }) {
  /** @type {{rating: string | null, done: string, busy: boolean, failed: boolean}} */
  const fb = { rating: null, done: '', busy: false, failed: false };

  /** @param {string} rating */
  function rate(rating) {
    fb.rating = rating;
    render();
  }

  async function send() {
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
    else done(result, comment);
    render();
  }

  /**
   * @param {string} result
   * @param {string} [comment]
   */
  function done(result, comment = '') {
    fb.done = result;
    emit('feedback', { callId: c.callId, rating: result === 'skipped' ? null : fb.rating, comment, result });
    render();
    if ($.fbDone.hidden) return;
    $.fbDone.tabIndex = -1;
    $.fbDone.focus({ preventScroll: true });
  }

  $.comment.maxLength = FEEDBACK_MAX;
  $.up.addEventListener('click', () => rate('up'));
  $.down.addEventListener('click', () => rate('down'));
  $.send.addEventListener('click', send);
  $.skip.addEventListener('click', () => done('skipped'));

  return {
    /** A new call: nothing asked or answered yet. */
    reset() {
      Object.assign(fb, { rating: null, done: '', busy: false, failed: false });
      $.comment.value = '';
    },
    /**
     * @param {Translate} t
     * @param {boolean} asked the call ended and can be rated
     */
    update(t, asked) {
      const show = (/** @type {HTMLElement} */ el, /** @type {unknown} */ on) => (el.hidden = !on);
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
    },
  };
}
