// What the controller (controller.js) is given and what it reports: the contract between the call flow
// and the page. Types only.

/** @typedef {import('./attributes.js').Config} Config */
/** @typedef {import('./call.js').Session} Session */
/** @typedef {import('./call.js').SessionOptions} SessionOptions */
/** @typedef {import('./state.js').CallError} CallError */
/** @typedef {import('./state.js').CallState} CallState */
/** @typedef {import('./transcript.js').Entry} Entry */

/** @typedef {(constraints: MediaStreamConstraints) => Promise<MediaStream>} GetUserMedia */
/**
 * What the create endpoint answers (the fields the widget reads).
 * @typedef {{token: string, server_url: string, call_id?: string, feedback_token?: string,
 *   actions_url?: string, max_duration?: number}} CreatedCall
 */
/**
 * Everything outside the call flow; see the Controller.
 * @typedef {object} Deps
 * @property {() => Config} config
 * @property {() => object | null | undefined} context
 * @property {() => string | null} [consent]
 * @property {GetUserMedia | null | undefined} getUserMedia
 * @property {(url: string, init?: RequestInit) => Promise<Response>} fetch
 * @property {(url: string) => boolean} crossOrigin
 * @property {(options: SessionOptions) => Session} createSession
 * @property {() => AudioContext | null} audioContext
 * @property {HTMLElement} audioHost
 * @property {() => string} cookies
 * @property {(name: string) => string} meta
 * @property {() => number} now
 * @property {(fn: () => void, ms: number) => number} setTimeout
 * @property {(id: number | undefined) => void} clearTimeout
 * @property {(fn: () => void, ms: number) => number} setInterval
 * @property {(id: number) => void} clearInterval
 * @property {() => string | null} [micId]
 * @property {() => boolean} [canCall] whether the browser can make a call (support.js); true when absent
 * @property {() => number | null} [clickedAt] when (now()'s ms) the element's click asked for the call
 *   before its code was here; null otherwise (then the call starts in the click)
 * @property {(challenge: unknown) => Promise<string | null>} [solveChallenge]
 * @property {() => unknown} [challengeToken]
 */

/**
 * What notify(kind, detail) reports, by kind.
 * @typedef {['state', {state: CallState, previous: CallState}] | ['update', {}] | ['tick', {}]
 *   | ['transcript', {entries: Entry[], entry: Entry | null | undefined}]
 *   | ['ended', {reason: string, callId: string | null, durationSeconds: number}] | ['error', CallError]
 *   | ['level', import('./call.js').LevelSample] | ['audio', {blocked: boolean}]
 *   | ['mute', {muted: boolean}] | ['reconnecting' | 'reconnected', {callId: string | null}]
 *   | ['timing', {stages: Partial<Record<import('./start-timing.js').Stage, number>>, callId: string | null}]} Notice
 */
/** @typedef {(...notice: Notice) => void} Notify */

export {};
