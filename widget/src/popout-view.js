// "Continue in a small window": the tab's call ends and the window ({prefix}/call) starts its own, because a
// WebRTC call cannot move between pages, with the attributes this page hands over when the window asks
// (popout.js). The window's widget reports its state on a BroadcastChannel; the tab's widget shows "the
// call continues in the other window" until it is over.

import { CHANNEL, READY, WINDOW_FEATURES, WINDOW_NAME, handover, popoutBusy, popoutUrl } from './popout.js';

/** @typedef {import('./panel.js').Refs} Refs */

/**
 * The pop-out control and notice in the panel `$`, for the calls of controller `c`.
 * @param {{$: Refs, c: import('./controller.js').Controller, opts: import('./ui.js').UIOptions,
 *   emit: (type: string, detail: object) => void, render: () => void, opened: () => void}} parts
 *   `opened` is told when this page's call gave way to the window's.
 */
export function popoutView({ $, c, opts, emit, render, opened }) {
  /** @type {string | null} */
  let away = null; // the state of the call in a pop-out window, while it has one
  /** @type {Window | null} */
  let popup = null; // that window, when this page opened it
  /** @type {ReturnType<typeof handover> | null} */
  let call = null; // what this page hands to that window when it asks: once per click

  // Only the window this page opened gets the call, and only while it shows a page of the backend's origin.
  const backend = new URL(opts.base).origin;
  addEventListener('message', ({ source, origin, data }) => {
    if (!call || source !== popup || origin !== backend || data?.type !== READY) return;
    /** @type {Window} */ (popup).postMessage(call, backend);
    call = null;
  });

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
    else if (data.type === 'popout-state' && cfg.popout && !cfg.popoutWindow) report(data);
  }

  /**
   * What a pop-out window reported (or, with state "closed", that it went).
   * @param {{state: string, callId?: string | null}} message
   */
  function report({ state, callId = null }) {
    const busy = popoutBusy(state);
    if (!busy && !away) return;
    if (state !== away) emit('popout', { state, callId });
    away = busy ? state : null;
    if (!busy) popup = null;
    render();
  }

  function open() {
    const win = window.open(popoutUrl(opts.base), WINDOW_NAME, WINDOW_FEATURES);
    if (!win) return; // a popup blocker: the call stays here
    popup = win;
    call = handover(opts.attribute, opts.context());
    c.end();
    c.reset();
    opened();
    report({ state: 'opened' });
    // Across origins no channel message arrives: the window closing is the end of it.
    const watch = setInterval(() => {
      if (popup !== win) clearInterval(watch);
      else if (win.closed) {
        clearInterval(watch);
        report({ state: 'closed' });
      }
    }, 1000);
  }

  $.popout.addEventListener('click', open);
  $.focus.addEventListener('click', () =>
    (popup && !popup.closed ? popup : window.open('', WINDOW_NAME, WINDOW_FEATURES))?.focus(),
  );

  return {
    /** The state of the call in the pop-out window while there is one, else null. */
    get away() {
      return away;
    },
    post,
    report,
  };
}
