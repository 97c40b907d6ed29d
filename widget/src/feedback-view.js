// After a call: thumbs up or down, skippable. A thumb is the rating and is sent at once (a visitor who rates
// and then closes the panel or leaves has rated); an optional comment follows as a second request that adds
// to the same rating. Then a thank-you, or why it was not taken.

import { FEEDBACK_MAX } from './feedback.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The feedback form in the panel `$`, for the calls of controller `c`.
 * @param {{$: Refs, c: import('./controller.js').Controller, emit: (type: string, detail: object) => void,
 *   render: () => void}} parts
 */
export function feedbackView({ $, c, emit, render }) {
  /** @type {{rating: string | null, rated: boolean, done: string, busy: boolean, failed: boolean}} */
  const fb = { rating: null, rated: false, done: '', busy: false, failed: false };

  /**
   * Posts the rating (no comment) or the comment on it; the answer, or null when another call started.
   * @param {string} comment
   */
  async function post(comment) {
    const callId = c.callId;
    fb.busy = true;
    fb.failed = false;
    render();
    const result = await c.sendFeedback(/** @type {string} */ (fb.rating), comment);
    fb.busy = false;
    if (callId !== c.callId) return null; // another call started meanwhile
    fb.failed = result === 'failed';
    render();
    return result;
  }

  /** @param {string} rating */
  async function rate(rating) {
    if (fb.rated || fb.busy) return;
    fb.rating = rating;
    const result = await post('');
    if (result === 'sent') {
      fb.rated = true;
      emit('feedback', { callId: c.callId, rating, comment: '', result });
      render();
      // The thumbs are done with: the next step has the focus (unless the visitor skipped meanwhile).
      if (!fb.done) $.comment.focus({ preventScroll: true });
    } else if (result && result !== 'failed') done(result);
  }

  async function send() {
    const comment = $.comment.value.trim();
    if (fb.busy) return;
    if (!comment) return done('sent', '', false); // nothing to add: the rating was the feedback
    const result = await post(comment);
    if (result && result !== 'failed') done(result, comment);
  }

  /**
   * @param {string} result
   * @param {string} [comment]
   * @param {boolean} [tell] fire hms:feedback (not when the rating was all, and has been told)
   */
  function done(result, comment = '', tell = true) {
    fb.done = result;
    if (tell) {
      emit('feedback', { callId: c.callId, rating: result === 'skipped' ? null : fb.rating, comment, result });
    }
    render();
    if ($.fbDone.hidden) return;
    $.fbDone.tabIndex = -1;
    $.fbDone.focus({ preventScroll: true });
  }

  $.comment.maxLength = FEEDBACK_MAX;
  $.up.addEventListener('click', () => rate('up'));
  $.down.addEventListener('click', () => rate('down'));
  $.send.addEventListener('click', send);
  $.skip.addEventListener('click', () => (fb.rated ? done('sent', '', false) : done('skipped')));

  return {
    /** A new call: nothing asked or answered yet. */
    reset() {
      Object.assign(fb, { rating: null, rated: false, done: '', busy: false, failed: false });
      $.comment.value = '';
    },
    /**
     * @param {Translate} t
     * @param {boolean} asked the call ended and can be rated
     */
    update(t, asked) {
      const show = (/** @type {HTMLElement} */ el, /** @type {unknown} */ on) => (el.hidden = !on);
      show($.fb, asked && !fb.done);
      $.fbAsk.textContent = t(fb.rated ? 'feedbackRated' : 'feedbackAsk');
      /** @type {Array<[HTMLButtonElement, string]>} */
      const thumbs = [[$.up, 'up'], [$.down, 'down']];
      for (const [el, r] of thumbs) {
        el.setAttribute('aria-pressed', String(fb.rating === r));
        el.setAttribute('aria-label', t(r === 'up' ? 'feedbackUp' : 'feedbackDown'));
        el.disabled = fb.rated;
      }
      show($.comment, fb.rated);
      $.comment.setAttribute('aria-label', t('feedbackComment'));
      $.comment.placeholder = t('feedbackComment');
      show($.send, fb.rated);
      $.send.textContent = t('feedbackSend');
      $.send.disabled = fb.busy;
      $.skip.textContent = t('feedbackSkip');
      show($.fbErr, fb.failed);
      $.fbErr.textContent = fb.failed ? t('feedback_failed') : '';
      show($.fbDone, asked && fb.done && fb.done !== 'skipped');
      $.fbDone.textContent = fb.done && fb.done !== 'skipped' ? t(`feedback_${fb.done}`) : '';
    },
  };
}
