// Whether the assistant is in the call, and what its absence means. Once the call is in its room, the
// assistant has agent-timeout seconds to join; when it leaves, HMS closes the room right after, and should
// that not happen within a moment, the call is ended here. A full reconnect unwinds the room, the assistant
// included: that is not leaving.

const LEFT_GRACE_MS = 2000; // the assistant left: wait this long for the server to close the room

export class AgentPresence {
  /** @type {import('./timers.js').Timers} */
  #timers;
  /** @type {() => void} */
  #end;
  #timeout = 0;
  present = false; // joined (possibly before this side's own join completed)
  left = false; // left the room, which is not closed yet
  timedOut = false; // did not join in time

  /**
   * @param {import('./timers.js').Timers} timers the call's (cleared when it ends)
   * @param {() => void} end ends the call, its reason worked out from this presence (state.js endReason)
   */
  constructor(timers, end) {
    this.#timers = timers;
    this.#end = end;
  }

  /** A new call: nobody there yet. */
  reset() {
    this.present = this.left = this.timedOut = false;
  }

  /**
   * The call is in its room: the assistant has `seconds` to join.
   * @param {number} seconds
   */
  expect(seconds) {
    this.#timeout = this.#timers.after(() => {
      this.timedOut = true;
      this.#end();
    }, seconds * 1000);
  }

  /** It joined (or is back after a reconnect): the wait is over. */
  joined() {
    this.present = true;
    this.left = false;
    this.#timers.cancel(this.#timeout);
  }

  /**
   * It left the room.
   * @param {() => boolean} down the connection is down (a reconnect is unwinding the room)
   */
  leave(down) {
    if (down()) return;
    this.left = true;
    this.#timers.after(() => this.left && !down() && this.#end(), LEFT_GRACE_MS);
  }
}
