// A network drop is not a lost call. The connection counts as down while livekit-client says it is
// reconnecting, or while the browser says it is offline (it knows at once; livekit only notices when its
// pings go unanswered, seconds later). The call is kept for `limitMs`: the transcript and the clock go on,
// livekit reconnects on its own; past the limit the widget gives up, hangs up and says so.
//
// Back online is not yet back in the call: livekit checks the server, then reconnects. The browser's
// `online` keeps the call in "reconnecting" for SETTLE_MS more, for livekit to take over, so the visitor
// does not see "connected" flash between the two.

const SETTLE_MS = 3000;

/**
 * @param {{setTimeout: (fn: () => void, ms: number) => number, clearTimeout: (id: number) => void}} clock
 * @param {number} limit seconds the connection may stay down before the call ends
 * @param {{change: (down: boolean) => void, giveUp: () => void}} on went down (true) or came back (false);
 *   stayed down for `limit` seconds
 */
export function watchConnection(clock, limit, on) {
  let reconnecting = false; // livekit's view
  let offline = false; // the browser's view
  let settle = 0;
  let timer = 0;
  let down = false;

  const update = () => {
    const now = reconnecting || offline || !!settle;
    if (now === down) return;
    down = now;
    if (now) timer = clock.setTimeout(on.giveUp, limit * 1000);
    else clock.clearTimeout(timer);
    on.change(now);
  };
  const unsettle = () => {
    clock.clearTimeout(settle);
    settle = 0;
  };

  return {
    get down() {
      return down;
    },
    /** livekit-client: Reconnecting/SignalReconnecting (true), Reconnected (false). */
    livekit(/** @type {boolean} */ on) {
      reconnecting = on;
      unsettle();
      update();
    },
    /** The browser's offline (false) and online (true) events. */
    network(/** @type {boolean} */ online) {
      if (online && !offline) return;
      offline = !online;
      unsettle();
      if (online && down && !reconnecting) {
        settle = clock.setTimeout(() => {
          settle = 0;
          update();
        }, SETTLE_MS);
      }
      update();
    },
    stop() {
      unsettle();
      clock.clearTimeout(timer);
    },
  };
}
