// What the assistant is doing (listening, thinking, speaking), worked out from what the room already gives:
// the agent's own `lk.agent.state` attribute where it publishes one (LiveKit Agents do), else whether it is
// speaking (the server's active-speaker flag or the loudness of its audio) and the transcript's timing: the
// visitor's final line means it heard a turn and is working on the answer. Pure: the clock comes in with
// every call, so Node tests drive it.

/** @typedef {'listening' | 'thinking' | 'speaking'} AgentStateName */
/**
 * One look at the room: the agent's attribute, the server's speaking flag, its audio level (0..1).
 * @typedef {{attribute?: string, speaking?: boolean, level?: number}} AgentSample
 */

/** @type {string[]} */
const STATES = ['listening', 'thinking', 'speaking'];
const LOUD = 0.08; // an audio level above this is the assistant speaking
const HANGOVER_MS = 600; // the pause between two words is not the end of its turn
const THINK_MS = 15000; // no answer this long after the visitor's turn: it is listening again

export class AgentState {
  constructor() {
    /** @type {AgentStateName | null} */
    this.state = null;
    this._heard = -Infinity; // when the visitor's last turn ended (their final transcript line)
    this._loud = -Infinity; // when the assistant was last heard
  }

  /**
   * A transcript line arrived. The assistant's words come as they are spoken, so they count as speaking;
   * the visitor still talking (an interim line) is not a finished turn.
   * @param {'user' | 'assistant'} role
   * @param {boolean} final
   * @param {number} now ms
   */
  line(role, final, now) {
    if (role === 'assistant') this._loud = now;
    else this._heard = final ? now : -Infinity;
  }

  /**
   * @param {AgentSample} sample
   * @param {number} now ms
   * @returns {AgentStateName | null} the new state when it changed, else null
   */
  sample({ attribute, speaking, level = 0 }, now) {
    if (speaking || level > LOUD) this._loud = now;
    const next = /** @type {AgentStateName} */ (
      attribute && STATES.includes(attribute)
        ? attribute
        : now - this._loud < HANGOVER_MS
          ? 'speaking'
          : this._heard > this._loud && now - this._heard < THINK_MS
            ? 'thinking'
            : 'listening'
    );
    return next === this.state ? null : (this.state = next);
  }
}
