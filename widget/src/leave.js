// Leaving the page mid-call. While a call exists (connecting or live), beforeunload asks the browser's own
// "leave site?" question, unless confirm-leave="false". When the page goes anyway (pagehide), the call is
// hung up cleanly (room.disconnect(): the call's report says user_hangup, not a lost connection).
// With confirm-leave="false" it hangs up at beforeunload already: Firefox closes the call's connection as
// the next page is requested, before pagehide, so a hang-up there never reaches the server (the call would
// end only at the server's departure timeout, as a dropped one). beforeunload comes after the navigate
// event, and a navigation a script takes over (Navigation API intercept) fires none, so a single-page app's
// own route changes do not end the call.

/** @type {string[]} */
const IN_CALL = ['connecting', 'live', 'reconnecting'];

/** Whether a call exists that leaving the page would end. */
export const inCall = (/** @type {string} */ state) => IN_CALL.includes(state);

/**
 * The window's beforeunload and pagehide listeners for one widget. controller: {state, end()};
 * config(): {confirmLeave}; gone(): what else to do when the page goes (the pop-out window says so).
 *
 * @param {{readonly state: string, end(): void}} controller
 * @param {() => {confirmLeave: boolean}} config
 * @param {() => void} [gone]
 */
export function leaveHandlers(controller, config, gone = () => {}) {
  return {
    /** @param {BeforeUnloadEvent} event */
    beforeunload(event) {
      if (!inCall(controller.state)) return;
      if (!config().confirmLeave) {
        controller.end();
        return;
      }
      event.preventDefault();
      event.returnValue = ''; // older browsers ask only when returnValue is set
    },
    pagehide() {
      controller.end();
      gone();
    },
  };
}
