// One call from click to hang-up, free of the DOM and of livekit: everything outside (microphone, network,
// the media session, clocks) comes in through `deps`, so the whole flow runs in Node tests.
//
// Order matters and is the point of this module: the microphone is asked for BEFORE the backend, so a
// visitor without a usable microphone never creates a call (no credit spent, no slot held).

import { createRequest } from './attributes.js';
import { proofForCreate } from './challenge.js';
import { backendError, isTokenExpired, micErrorCode, refusedOrigin } from './errors.js';
import { postFeedback } from './feedback.js';
import { openMic, swapMic } from './microphone.js';
import { watchConnection } from './reconnect.js';
import { INITIAL, endReason, isActive, reduce } from './state.js';
import { applyUpdate, finalizeAll, isFinal, roleOf } from './transcript.js';

const AGENT_LEFT_GRACE_MS = 2000; // the assistant left: wait this long for the server to close the room
const MAX_DURATION_GRACE_S = 10; // the server ends calls at max_duration; this is only a safety net

/** @typedef {import('./attributes.js').Config} Config */
/** @typedef {import('./call.js').Session} Session */
/** @typedef {import('./call.js').TranscriptUpdate} TranscriptUpdate */
/** @typedef {import('./state.js').CallError} CallError */
/** @typedef {import('./state.js').StateEvent} StateEvent */
/** @typedef {import('./transcript.js').Entry} Entry */

/** @typedef {import('./deps.js').GetUserMedia} GetUserMedia */
/** @typedef {import('./deps.js').CreatedCall} CreatedCall */
/** @typedef {import('./deps.js').Deps} Deps */
/** @typedef {import('./deps.js').Notify} Notify */

/** One call: `deps` (deps.js) is everything outside the flow; `notify(kind, detail)` reports what happens. */
export class Controller {
  /**
   * @param {Deps} deps
   * @param {Notify} notify
   */
  constructor(deps, notify) {
    this._d = deps;
    this._notify = notify;
    /** @type {import('./state.js').State} */
    this.s = INITIAL;
    /** @type {Entry[]} */
    this.entries = [];
    /** @type {string | null} */
    this.callId = null;
    this.muted = false;
    this.audioBlocked = false;
    this.maxDuration = 0;
    /** @type {string | null} */
    this.feedbackToken = null;
    /** @type {string | null} */
    this.actionsUrl = null;
    /** @type {string | null} */
    this.speaker = null;
    this._run = 0;
    /** @type {Array<[repeat: number, id: number]>} */
    this._timers = [];
  }

  get state() {
    return this.s.state;
  }

  /** Seconds since the call joined its room (the call's billed clock), 0 before. */
  elapsed() {
    return this._at ? (this._d.now() - this._at) / 1000 : 0;
  }

  /** @param {StateEvent} event */
  _set(event) {
    const prev = this.s;
    const next = (this.s = reduce(prev, event));
    if (next.state !== prev.state) {
      this._notify('state', { state: next.state, previous: prev.state });
    } else if (next !== prev) {
      this._notify('update', {}); // e.g. joined the room, still waiting for the assistant: re-render only
    }
    return next !== prev;
  }

  /** Must be called synchronously from the click (or key press) for the audio unlock to count. */
  async start() {
    if (!this._set({ type: 'start' })) return;
    const d = this._d;
    const run = ++this._run;
    const stale = () => run !== this._run;
    this.entries = [];
    this.callId = this.feedbackToken = this.actionsUrl = null;
    this.muted = this.audioBlocked = false;
    this._at = 0;
    this._left = this._byUser = this._timedOut = this._present = false;
    this._notify('transcript', { entries: [], entry: null });
    const cfg = d.config();

    // Still inside the gesture: unlock audio and create the room, whose own audio unlock must run in
    // the click too.
    this._ac = d.audioContext();
    this._session = this._session$(run);

    // Whatever proof the backend may want (a solved challenge, or the page's own verifier token) is
    // fetched and worked out while the microphone prompt is up, so it costs the visitor no time.
    this._proof = proofForCreate(d, cfg);

    // 1. Microphone first.
    if (!d.getUserMedia) return this._fail({ code: 'mic_unsupported' });
    let mic;
    try {
      mic = await openMic(/** @type {GetUserMedia} */ (d.getUserMedia), d.micId?.());
      if (!mic) throw { name: 'NotFoundError' };
    } catch (err) {
      if (!stale()) this._fail({ code: micErrorCode(/** @type {{name?: string} | null} */ (err)) });
      return;
    }
    if (stale()) return mic.stop();
    this._mic = mic;
    mic.enabled = !this.muted;
    this._set({ type: 'mic_ok' });

    // 2 + 3. Create the call and join its room; a token that expired on the way gets one fresh retry.
    let joined;
    for (let attempt = 0; !joined; attempt++) {
      const call = await this._create(cfg, run);
      if (!call) return;
      this._set({ type: 'created' });
      try {
        joined = await this._session.connect(call.server_url, call.token, mic);
      } catch (err) {
        if (stale()) return;
        if (attempt === 0 && isTokenExpired(/** @type {Error} */ (err))) continue;
        console.warn('hms-webcall: could not join the call:', err);
        return this._fail({ code: 'connect_failed' });
      }
      if (stale()) return;
    }

    // 4. In the room: the call's clock runs and the assistant has agentTimeout seconds to show up.
    this._at = d.now();
    this._set({ type: 'connected' });
    if (this.muted) this._session.setMuted(true);
    this._timers.push([1, d.setInterval(() => this._notify('tick', {}), 1000)]);
    this._agentTimer = this._after(() => {
      this._timedOut = true;
      this._finish();
    }, cfg.agentTimeout * 1000);
    this._after(() => this._finish('max_duration'), (this.maxDuration + MAX_DURATION_GRACE_S) * 1000);
    if (joined.present || this._present) this._joined();
  }

  /**
   * The create request, answered: the call's token and room, or null when it failed (reported) or the
   * call was cancelled meanwhile.
   * @param {Config} cfg
   * @param {number} run
   * @param {boolean} [challenged]
   * @returns {Promise<CreatedCall | null>}
   */
  async _create(cfg, run, challenged = false) {
    const d = this._d;
    let init;
    // A proof is used once: a second create (a fresh token after one expired) must be proven again.
    const challenge = await (this._proof || null);
    this._proof = null;
    if (run !== this._run) return null;
    try {
      const consent = d.consent?.();
      init = createRequest(cfg, { context: d.context(), consent, challenge, cookies: d.cookies(), meta: d.meta });
    } catch (err) {
      // A context JSON cannot encode (a cycle, a BigInt) is the page's mistake; the visitor still needs
      // the call to fail cleanly, with the microphone released.
      console.warn('hms-webcall: the context cannot be sent as JSON:', err);
      return this._fail({ code: 'invalid_request' });
    }
    this._abort = new AbortController();
    let res;
    let body = null;
    try {
      res = await d.fetch(cfg.endpoint, { ...init, signal: this._abort.signal });
      body = await res.json().catch(() => null);
    } catch {
      if (run !== this._run) return null; // cancelled: the abort is why it failed
      const code = (await refusedOrigin(d, cfg.endpoint)) ? 'forbidden_origin' : 'network';
      if (run === this._run) this._fail({ code });
      return null;
    }
    if (run !== this._run) return null;
    if (res.status === 401 && body?.error?.code === 'challenge_required' && !challenged) {
      // The backend wants a proof this create did not carry: work out the one it sent, then ask again.
      this._proof = proofForCreate(d, cfg, body.error.challenge || null);
      return this._create(cfg, run, true);
    }
    if (!res.ok) return this._fail(backendError(res.status, body, res.headers.get('Retry-After'), d.now()));
    if (!body || !body.token || !body.server_url) {
      return this._fail({ code: 'upstream_error', status: res.status });
    }
    this.callId = body.call_id || null;
    // Only anonymous callers get one: it proves to the feedback route that they created this call.
    this.feedbackToken = body.feedback_token || null;
    this.actionsUrl = body.actions_url || null; // only from sites with page actions (actions.js)
    this.maxDuration = cfg.maxDuration || body.max_duration || 300;
    return body;
  }

  /**
   * @param {number} run
   * @returns {Session}
   */
  _session$(run) {
    /** @type {<A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void} */
    const mine =
      (fn) =>
      (...args) => {
        if (run === this._run) fn(...args);
      };
    const link = (this._link = watchConnection(this._d, this._d.config().reconnectTimeout, {
      change: mine((down) => this._set({ type: down ? 'reconnecting' : 'reconnected' }) &&
        this._notify(down ? 'reconnecting' : 'reconnected', { callId: this.callId })),
      giveUp: mine(() => this._finish('connection_lost')),
    }));
    return this._d.createSession({
      audioHost: this._d.audioHost,
      audioContext: this._ac,
      speaker: this.speaker,
      on: {
        joined: mine(() => this._joined()),
        left: mine(() => {
          if (link.down) return; // a full reconnect unwinds the room; the assistant is still in it
          // HMS closes the room right after the assistant leaves; should it not, end the call ourselves.
          this._left = true;
          this._after(() => this._left && !link.down && this._finish(), AGENT_LEFT_GRACE_MS);
        }),
        transcript: mine((u) => this._transcript(u)),
        level: mine((sample) => this._notify('level', sample)),
        audio: mine((playing) => {
          this.audioBlocked = !playing;
          this._notify('audio', { blocked: this.audioBlocked });
        }),
        reconnecting: mine((on) => link.livekit(on)),
        network: mine((online) => link.network(online)),
        disconnected: mine((reason) => this._finish(null, reason)),
      },
    });
  }

  _joined() {
    this._present = true;
    this._left = false; // back after a reconnect
    if (this._set({ type: 'agent_joined' })) this._d.clearTimeout(this._agentTimer);
  }

  /** @param {TranscriptUpdate} u */
  _transcript(u) {
    const role = roleOf(u.identity, u.local);
    const entries = applyUpdate(this.entries, { id: u.id, role, text: u.text, final: isFinal(u.final) });
    if (entries === this.entries) return;
    this.entries = entries;
    this._notify('transcript', { entries, entry: entries.find((e) => e.id === u.id) });
  }

  /**
   * Ends a joined call with a reason (worked out from what happened when not given).
   * @param {string | null} [reason]
   * @param {number} [disconnectReason]
   */
  _finish(reason, disconnectReason) {
    if (!this.s.connected && disconnectReason !== undefined) return; // a failed connect: start() reports it
    const why =
      reason ||
      endReason({
        byUser: this._byUser,
        agentTimeout: this._timedOut,
        disconnectReason,
        agentLeft: this._left,
        elapsed: this.elapsed(),
        maxDuration: this.maxDuration,
      });
    const durationSeconds = Math.round(this.elapsed());
    if (!this._set({ type: 'end', reason: why })) return;
    this._release();
    this.entries = finalizeAll(this.entries);
    this._notify('transcript', { entries: this.entries, entry: null });
    this._notify('ended', { reason: why, callId: this.callId, durationSeconds });
  }

  /**
   * @param {CallError} error
   * @returns {null}
   */
  _fail(error) {
    if (this._set({ type: 'fail', error })) {
      this._release();
      this._notify('error', error);
    }
    return null;
  }

  /** Hang up (connecting or live) or cancel (before a call exists: nothing was spent). */
  end() {
    if (this.s.state === 'preflight' || this.s.state === 'requesting') {
      this._abort?.abort();
      this._release();
      this._set({ type: 'cancel' });
    } else if (isActive(this.s)) {
      this._byUser = true;
      this._finish('user_hangup');
    }
  }

  /** Back to idle after an ended or failed call (the panel closes). */
  reset() {
    this._set({ type: 'reset' });
  }

  /** @param {boolean} on */
  mute(on) {
    this.muted = !!on;
    if (this._session && this.s.connected) this._session.setMuted(this.muted);
    else if (this._mic) this._mic.enabled = !this.muted;
    this._notify('mute', { muted: this.muted });
    return this.muted;
  }

  /**
   * Uses another microphone. Mid-call the new track replaces the published one (the call goes on, muted
   * or not as before); the old one is let go only once the new one is live.
   * @param {string} deviceId
   */
  async switchMic(deviceId) {
    if (!this._mic || !this._d.getUserMedia) return true;
    const run = this._run;
    const track = await swapMic(this._d.getUserMedia, deviceId, {
      enabled: () => !this.muted,
      install: (t) => (this._session && this.s.connected ? this._session.replaceMic(t) : undefined),
      current: () => run === this._run && !!this._mic,
    });
    if (!track) return false;
    this._mic?.stop(); // let go only now that the new one is live
    this._mic = track;
    return true;
  }

  /**
   * Plays the assistant on another speaker (where the browser supports choosing one).
   * @param {string | null} deviceId
   */
  setSpeaker(deviceId) {
    this.speaker = deviceId;
    return this._session ? this._session.setSpeaker(deviceId) : Promise.resolve();
  }

  /**
   * Sends the visitor's rating of the ended call. Resolves to 'sent', 'forbidden' (not this visitor's
   * call), 'already_rated' or 'failed' (the network, or any other answer: the visitor may try again).
   * @param {string} rating
   * @param {string} [comment]
   */
  async sendFeedback(rating, comment = '') {
    if (!this.callId) return 'failed';
    return postFeedback(this._d, this._d.config(), this.callId, this.feedbackToken, rating, comment);
  }

  /** The "tap to enable audio" button: must run inside its click. */
  unlockAudio() {
    if (this._ac?.state === 'suspended') this._ac.resume().catch(() => {});
    this._session?.startAudio().then(
      () => this._notify('audio', { blocked: (this.audioBlocked = false) }),
      () => {},
    );
  }

  _release() {
    const d = this._d;
    for (const [repeat, id] of this._timers) repeat ? d.clearInterval(id) : d.clearTimeout(id);
    this._timers = [];
    this._link?.stop();
    this._mic?.stop();
    this._mic = null;
    this._session?.disconnect().catch(() => {});
    this._session = null;
    this._run++; // late events and awaits of this call are ignored from now on
  }

  /**
   * @param {() => void} fn
   * @param {number} ms
   */
  _after(fn, ms) {
    const id = this._d.setTimeout(fn, ms);
    this._timers.push([0, id]);
    return id;
  }
}
