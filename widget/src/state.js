// The call's state machine, pure: (state, event) -> state. Anything not allowed from the current state is
// ignored (the same object comes back), so late events from a finished call can never resurrect it.
//
//   idle -> preflight -> requesting -> connecting -> live -> ended
//             \______________\______________\_________\___-> error
//   preflight/requesting may be cancelled back to idle; ended/error -> preflight (call again) or idle.
//   connecting/live <-> reconnecting while the network is down (back to the state it left), -> ended.

/**
 * @typedef {'idle' | 'preflight' | 'requesting' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'error'}
 *   CallState
 */
/** @typedef {{code: string, status?: number, retryAfter?: number | null}} CallError */
/**
 * @typedef {object} State
 * @property {CallState} state
 * @property {CallState} [back] the state a reconnect goes back to
 * @property {boolean} connected
 * @property {CallError | null} error
 * @property {string | null} reason
 */
/**
 * @typedef {{type: 'start' | 'mic_ok' | 'created' | 'connected' | 'agent_joined' | 'reconnecting'
 *   | 'reconnected' | 'cancel' | 'reset'} | {type: 'fail', error: CallError} | {type: 'end', reason: string}}
 *   StateEvent
 */

/** @type {Readonly<State>} */
export const INITIAL = Object.freeze({
  state: /** @type {CallState} */ ('idle'),
  connected: false, // in the room (the call's clock runs), possibly still waiting for the assistant
  error: /** @type {CallError | null} */ (null), // {code, retryAfter, status}
  reason: /** @type {string | null} */ (null), // end reason
});

/** @type {CallState[]} */
const ACTIVE = ['preflight', 'requesting', 'connecting', 'live', 'reconnecting'];

/** @param {State} s */
export function isActive(s) {
  return ACTIVE.includes(s.state);
}

/**
 * @param {State} s
 * @param {StateEvent} ev
 * @returns {State}
 */
export function reduce(s, ev) {
  const is = (/** @type {CallState[]} */ ...states) => states.includes(s.state);
  switch (ev.type) {
    case 'start':
      return is('idle', 'ended', 'error') ? { ...INITIAL, state: 'preflight' } : s;
    case 'mic_ok':
      return is('preflight') ? { ...s, state: 'requesting' } : s;
    case 'created':
      return is('requesting') ? { ...s, state: 'connecting' } : s;
    case 'connected':
      return is('connecting') ? { ...s, connected: true } : s;
    case 'agent_joined':
      if (is('reconnecting') && s.connected) return { ...s, back: 'live' };
      return is('connecting') && s.connected ? { ...s, state: 'live' } : s;
    case 'reconnecting':
      return is('connecting', 'live') ? { ...s, state: 'reconnecting', back: s.state } : s;
    case 'reconnected':
      return is('reconnecting') ? { ...s, state: s.back || 'live' } : s;
    case 'cancel':
      return is('preflight', 'requesting') ? { ...INITIAL } : s;
    case 'fail':
      return isActive(s) ? { ...s, state: 'error', error: ev.error } : s;
    case 'end':
      return is('connecting', 'live', 'reconnecting') ? { ...s, state: 'ended', reason: ev.reason } : s;
    case 'reset':
      return is('ended', 'error') ? { ...INITIAL } : s;
    default:
      return s;
  }
}

// livekit DisconnectReason values (livekit protocol), by what they mean for the visitor.
/** @type {Array<number | undefined>} */
const SERVER_ENDED = [4, 5, 10]; // PARTICIPANT_REMOVED, ROOM_DELETED, ROOM_CLOSED
/** @type {Array<number | undefined>} */
const FAILED = [2, 7, 15, 16]; // DUPLICATE_IDENTITY, JOIN_FAILURE, MEDIA_FAILURE, AGENT_ERROR

/**
 * Why the call ended, in the words of hms:ended: user_hangup, agent_hangup, max_duration, agent_timeout,
 * connection_lost or error. HMS ends a call the same way at the time limit as when the assistant hangs up
 * (the agent leaves, the room goes), so the time elapsed against max_duration tells the two apart.
 *
 * @param {{byUser?: boolean, agentTimeout?: boolean, disconnectReason?: number, agentLeft?: boolean,
 *   elapsed: number, maxDuration: number}} what
 */
export function endReason({ byUser, agentTimeout, disconnectReason, agentLeft, elapsed, maxDuration }) {
  if (byUser) return 'user_hangup';
  if (agentTimeout) return 'agent_timeout';
  if (agentLeft || SERVER_ENDED.includes(disconnectReason)) {
    return maxDuration && elapsed >= maxDuration - 2 ? 'max_duration' : 'agent_hangup';
  }
  if (disconnectReason === 1) return 'user_hangup'; // CLIENT_INITIATED: this page left or closed the room
  if (FAILED.includes(disconnectReason)) return 'error';
  return 'connection_lost';
}
