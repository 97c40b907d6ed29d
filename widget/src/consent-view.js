// The consent text before the first call (the `consent` attribute, or a <template slot="consent"> in the
// element): the microphone is not asked for, nor a call created, before the visitor ticks the box and
// starts. The version they accepted is remembered per site and sent with each create request.

import { remember } from './attributes.js';

/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The consent box in the panel `refs`, for the calls of `controller`.
 * @param {{refs: Refs, host: HTMLElement, controller: import('./controller.js').Controller,
 *   config: () => import('./attributes.js').Config, needsConsent: () => boolean,
 *   emit: (type: string, detail: object) => void, render: () => void, close: () => void,
 *   shown: () => void}} parts `close` closes the panel; `shown` is told when the text is put up
 */
export function consentView({ refs, host, controller, config, needsConsent, emit, render, close, shown }) {
  let asking = false; // the consent text is shown, waiting for the visitor's agreement
  /** @type {{typing?: boolean} | undefined} how the call starts once accepted */
  let how;

  const template = () =>
    /** @type {HTMLTemplateElement | null} */ (host.querySelector(':scope>template[slot=consent]'));
  const configured = () => !!(config().consent || template());

  function accept() {
    if (!refs.cbox.checked) return;
    const version = config().consentVersion;
    remember('consent', version);
    asking = false;
    emit('consent', { version, accepted: true });
    controller.start(how); // still inside the click: the audio unlock counts
  }

  refs.cbox.addEventListener('click', render);
  refs.cstart.addEventListener('click', accept);
  refs.ccancel.addEventListener('click', () => {
    asking = false;
    emit('consent', { version: config().consentVersion, accepted: false });
    close();
  });

  return {
    /** The consent text is shown (it replaces the rest of the panel). */
    get asking() {
      return asking;
    },
    /** The consent version a create request carries: the one accepted, when a text is configured. */
    version() {
      return configured() && !needsConsent() ? config().consentVersion : null;
    },
    /**
     * Starts the call, or first shows the consent text when the visitor has not accepted it yet.
     * @param {{typing?: boolean}} [options] as Controller.start() takes them
     */
    start(options) {
      how = options;
      if (!needsConsent()) return controller.start(options);
      asking = true;
      const tpl = template();
      refs.ctext.textContent = tpl ? '' : config().consent;
      if (tpl) refs.ctext.append(tpl.content.cloneNode(true));
      refs.cbox.checked = false;
      shown();
      render();
      refs.cbox.focus({ preventScroll: true });
    },
    /** The panel closed, or the call went to a pop-out window: the question is off. */
    dismiss() {
      asking = false;
    },
    /** @param {Translate} t */
    update(t) {
      refs.consent.hidden = !asking;
      refs.clabel.textContent = t('consentAccept');
      refs.cstart.textContent = t('consentStart');
      refs.cstart.disabled = !refs.cbox.checked;
      refs.ccancel.textContent = t('cancel');
    },
  };
}
