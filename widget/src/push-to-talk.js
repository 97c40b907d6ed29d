// Push-to-talk (talk-mode="push"), for noisy rooms and speakers that would feed the assistant its own
// voice: the microphone stays muted except while the visitor holds the "Hold to talk" button (pointer or
// touch) or the Space bar, anywhere on the page but in a field or on another control. A polite live region
// says how while the microphone is off (and so again after each turn).

import { show } from './panel.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

// Where the Space bar belongs to the page: typing, or pressing another control.
const OWN_SPACE = 'input,textarea,select,button,a,[contenteditable]';

/**
 * The talk button in the panel `refs`, for the calls of `controller`.
 * @param {{refs: Refs, controller: import('./controller.js').Controller,
 *   config: () => import('./attributes.js').Config, render: () => void}} parts
 */
export function pushToTalk({ refs, controller, config, render }) {
  let talking = false;
  const push = () => config().talkMode === 'push' && controller.active && controller.state !== 'preflight';

  /** @param {boolean} talk */
  const set = (talk) => {
    if (talk === talking || (talk && !push())) return;
    talking = talk;
    controller.mute(!talk);
    render();
  };
  /** @param {KeyboardEvent} e */
  const key = (e) => {
    const target = /** @type {Element} */ (e.composedPath()[0]);
    if (e.code !== 'Space' || !push() || (target !== refs.talk && target.closest?.(OWN_SPACE))) return;
    e.preventDefault(); // no scrolling, and no click of the button on release
    set(e.type === 'keydown');
  };

  refs.talk.addEventListener('pointerdown', (e) => {
    refs.talk.setPointerCapture(e.pointerId); // the release counts wherever the finger went
    set(true);
  });
  for (const type of ['pointerup', 'pointercancel']) refs.talk.addEventListener(type, () => set(false));
  addEventListener('keydown', key);
  addEventListener('keyup', key);
  addEventListener('blur', () => set(false)); // a key or finger lifted elsewhere is never seen here

  return {
    /** The microphone is open and the call about to join: muted until the visitor talks. */
    started() {
      talking = false;
      if (config().talkMode === 'push') controller.mute(true);
    },
    /** @param {Translate} t */
    update(t) {
      const on = push();
      talking &&= on;
      show(refs.talk, on);
      if (on) show(refs.mute, false);
      refs.talk.textContent = t('talk');
      refs.talk.setAttribute('aria-pressed', String(talking));
      const hint = on && !talking ? t('talkHint') : '';
      if (refs.talkHint.textContent !== hint) refs.talkHint.textContent = hint;
    },
  };
}
