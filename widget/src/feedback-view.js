// After a call: thumbs up or down, skippable. A thumb is the rating and is sent at once (a visitor who rates
// and then closes the panel or leaves has rated); an optional comment follows as a second request that adds
// to the same rating. Then a thank-you, or why it was not taken.

import { FEEDBACK_MAX } from './feedback.js';
import { show } from './panel.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The feedback form in the panel `refs`, for the calls of `controller`.
 * @param {{refs: Refs, controller: import('./controller.js').Controller, emit: (type: string, detail: object) => void,
 *   render: () => void}} parts
 */
export function feedbackView({ refs, controller, emit, render }) {
  /** @type {{rating: string | null, rated: boolean, done: string, busy: boolean, failed: boolean}} */
  const fb = { rating: null, rated: false, done: '', busy: false, failed: false };

  /**
   * Posts the rating (no comment) or the comment on it; the answer, or null when another call started.
   * @param {string} comment
   */
  async function post(comment) {
    const callId = controller.callId;
    fb.busy = true;
    fb.failed = false;
    render();
    const result = await controller.sendFeedback(/** @type {string} */ (fb.rating), comment);
    fb.busy = false;
    if (callId !== controller.callId) return null; // another call started meanwhile
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
      emit('feedback', { callId: controller.callId, rating, comment: '', result });
      render();
      // The thumbs are done with: the next step has the focus (unless the visitor skipped meanwhile).
      if (!fb.done) refs.comment.focus({ preventScroll: true });
    } else if (result && result !== 'failed') done(result);
  }

  async function send() {
    const comment = refs.comment.value.trim();
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
      emit('feedback', { callId: controller.callId, rating: result === 'skipped' ? null : fb.rating, comment, result });
    }
    render();
    if (refs.fbDone.hidden) return;
    refs.fbDone.tabIndex = -1;
    refs.fbDone.focus({ preventScroll: true });
  }

  refs.comment.maxLength = FEEDBACK_MAX;
  refs.up.addEventListener('click', () => rate('up'));
  refs.down.addEventListener('click', () => rate('down'));
  refs.send.addEventListener('click', send);
  refs.skip.addEventListener('click', () => (fb.rated ? done('sent', '', false) : done('skipped')));

  return {
    /** A new call: nothing asked or answered yet. */
    reset() {
      Object.assign(fb, { rating: null, rated: false, done: '', busy: false, failed: false });
      refs.comment.value = '';
    },
    /**
     * @param {Translate} t
     * @param {boolean} asked the call ended and can be rated
     */
    update(t, asked) {
      show(refs.fb, asked && !fb.done);
      refs.fbAsk.textContent = t(fb.rated ? 'feedbackRated' : 'feedbackAsk');
      /** @type {Array<[HTMLButtonElement, string]>} */
      const thumbs = [[refs.up, 'up'], [refs.down, 'down']];
      for (const [el, r] of thumbs) {
        el.setAttribute('aria-pressed', String(fb.rating === r));
        el.setAttribute('aria-label', t(r === 'up' ? 'feedbackUp' : 'feedbackDown'));
        el.disabled = fb.rated;
      }
      show(refs.comment, fb.rated);
      refs.comment.setAttribute('aria-label', t('feedbackComment'));
      refs.comment.placeholder = t('feedbackComment');
      show(refs.send, fb.rated);
      refs.send.textContent = t('feedbackSend');
      refs.send.disabled = fb.busy;
      refs.skip.textContent = t('feedbackSkip');
      show(refs.fbErr, fb.failed);
      refs.fbErr.textContent = fb.failed ? t('feedback_failed') : '';
      show(refs.fbDone, asked && fb.done && fb.done !== 'skipped');
      refs.fbDone.textContent = fb.done && fb.done !== 'skipped' ? t(`feedback_${fb.done}`) : '';
    },
  };
}
