// Typing into the call: the text field under the transcript while a call is live (Enter sends the line
// on lk.chat, see typing.js), and "Type instead" after the microphone failed (a call without one).

import { show } from './panel.js';
import { MAX_TYPED, MIC_CODES } from './typing.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The text field and the "Type instead" button in the panel `refs`, for the calls of `controller`.
 * @param {{refs: Refs, controller: import('./controller.js').Controller, typeInstead: () => unknown,
 *   render: () => void}} parts `typeInstead` starts a call without a microphone
 */
export function typingView({ refs, controller, typeInstead, render }) {
  const input = refs.sayText;
  /** @type {string} why the last line was not sent ('' when it was) */
  let failed = '';
  let focused = false; // the field of a typed call got the focus once it was live
  const tooLong = () => [...input.value.trim()].length > MAX_TYPED;

  refs.saySend.type = 'submit'; // the panel makes its buttons plain ones
  refs.say.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (tooLong() || !input.value.trim()) return;
    try {
      await controller.sendText(input.value);
      input.value = failed = '';
    } catch {
      failed = 'typeFailed';
    }
    render();
  });
  input.addEventListener('input', () => {
    failed = '';
    render();
  });
  refs.typeInstead.addEventListener('click', typeInstead);

  return {
    /**
     * @param {Translate} t
     * @param {{quiet: boolean, enabled: boolean}} view `quiet`: another view has the panel; `enabled`:
     *   the text-input attribute is not off
     */
    update(t, { quiet, enabled }) {
      const { state, error } = controller;
      const on = enabled && !quiet && (state === 'live' || state === 'reconnecting');
      show(refs.say, on);
      input.setAttribute('aria-label', (input.placeholder = t('typeLabel')));
      refs.saySend.textContent = t('typeSend');
      const note = tooLong() ? t('typeTooLong', { max: MAX_TYPED }) : failed && t(failed);
      input.setAttribute('aria-invalid', String(tooLong()));
      if (refs.sayHint.textContent !== note) refs.sayHint.textContent = note;
      if (on && controller.typing && !focused) input.focus({ preventScroll: true });
      focused = on;

      show(refs.typeInstead, enabled && !quiet && state === 'error' && MIC_CODES.includes(error?.code ?? ''));
      refs.typeInstead.textContent = t('typeInstead');
    },
  };
}
