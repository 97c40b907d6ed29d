// The media session of one call (call.js, livekit) and the watch on its connection (reconnect.js), wired to
// what their events mean for the call. Events that arrive after the call is over are dropped here, so a
// late one can never touch the next call.

import { watchConnection } from './reconnect.js';

/** @typedef {import('./call.js').Session} Session */

/**
 * What the controller does with the session's events.
 * @typedef {object} CallEvents
 * @property {() => boolean} current the call these events belong to is still the controller's
 * @property {(down: boolean) => void} connection the connection went down (true) or came back (false)
 * @property {(reason?: string | null, disconnectReason?: number) => void} finish
 * @property {() => void} joined the assistant is in the room
 * @property {(down: () => boolean) => void} left the assistant left the room
 * @property {(update: import('./call.js').TranscriptUpdate) => void} transcript
 * @property {(sample: import('./call.js').LevelSample) => void} level
 * @property {(playing: boolean) => void} audio whether the browser lets the assistant's audio play
 * @property {() => void} heard the assistant's first audio arrived
 */

/**
 * Opens the session (inside the click: its audio unlock must run in the gesture) and the connection watch.
 * @param {import('./deps.js').Deps} deps
 * @param {{audioContext: AudioContext | null, speaker: string | null}} media
 * @param {CallEvents} call
 * @returns {{session: Session, link: ReturnType<typeof watchConnection>}}
 */
export function openSession(deps, { audioContext, speaker }, call) {
  /** @type {<A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void} */
  const mine =
    (fn) =>
    (...args) => {
      if (call.current()) fn(...args);
    };
  const link = watchConnection(deps, deps.config().reconnectTimeout, {
    change: mine(call.connection),
    giveUp: mine(() => call.finish('connection_lost')),
  });
  const session = deps.createSession({
    audioHost: deps.audioHost,
    audioContext,
    speaker,
    on: {
      joined: mine(call.joined),
      left: mine(() => call.left(() => link.down)), // a full reconnect unwinds the room: not a leaving
      transcript: mine(call.transcript),
      level: mine(call.level),
      audio: mine(call.audio),
      heard: mine(call.heard),
      reconnecting: mine((on) => link.livekit(on)),
      network: mine((online) => link.network(online)),
      disconnected: mine((reason) => call.finish(null, reason)),
    },
  });
  return { session, link };
}
