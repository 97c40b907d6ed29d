// One call from click to hang-up, free of the DOM and of livekit: everything outside (microphone, network,
// the media session, clocks) comes in through `deps`, so the whole flow runs in Node tests.
//
// Order matters and is the point of this module: the microphone is asked for BEFORE the backend, so a
// visitor without a usable microphone never creates a call (no credit spent, no slot held).

import { AgentPresence } from './agent-presence.js';
import { DEFAULT_MAX_DURATION } from './attributes.js';
import { proofForCreate } from './challenge.js';
import { requestCall } from './create-call.js';
import { isTokenExpired } from './errors.js';
import { postFeedback } from './feedback.js';
import { micForCall, swapMic } from './microphone.js';
import { openSession } from './session-events.js';
import { startTiming } from './start-timing.js';
import { INITIAL, endReason, isActive, reduce } from './state.js';
import { Timers } from './timers.js';
import { applyUpdate, finalizeAll, isFinal, roleOf } from './transcript.js';
import { isEcho, typedLine, typingError, withTyped } from './typing.js';

const MAX_DURATION_GRACE_S = 10; // the server ends calls at max_duration; this is only a safety net

/** @typedef {import('./attributes.js').Config} Config */
/** @typedef {import('./call.js').Session} Session */
/** @typedef {import('./call.js').TranscriptUpdate} TranscriptUpdate */
/** @typedef {import('./state.js').CallError} CallError */
/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').StateEvent} StateEvent */
/** @typedef {import('./transcript.js').Entry} Entry */

/** @typedef {import('./deps.js').Deps} Deps */
/** @typedef {import('./deps.js').Notify} Notify */

/** One call: `deps` (deps.js) is everything outside the flow; `notify(kind, detail)` reports what happens. */
export class Controller {
  /** @type {Deps} */ #deps;
  /** @type {Notify} */ #notify;
  /** @type {State} the state machine's (state.js) */ #call = INITIAL;
  #run = 0; // which call's events and awaits still count: bumped when a call is over
  /** @type {Timers} */ #timers;
  /** @type {AudioContext | null} */ #audioContext = null;
  /** @type {Session | null} */ #session = null;
  /** @type {ReturnType<typeof openSession>['link'] | null} */ #link = null;
  /** @type {Promise<string | null> | null} the create's proof, being worked out */ #proof = null;
  /** @type {AbortController | null} the create request's */ #abort = null;
  /** @type {{stop(): void, enabled: boolean, getSettings?: () => MediaTrackSettings} | null} */ #mic = null;
  #joinedAt = 0; // when the call joined its room (deps.now()), 0 before
  /** @type {AgentPresence} */ #agent;
  /** @type {ReturnType<typeof startTiming>} */ #timing;
  #hungUp = false;

  /** @type {Entry[]} */ entries = [];
  /** @type {string | null} */ callId = null;
  muted = false;
  typing = false; // the call was started without a microphone: the visitor types
  audioBlocked = false;
  maxDuration = 0; // seconds
  /** @type {string | null} */ feedbackToken = null;
  /** @type {string | null} */ actionsUrl = null;
  /** @type {string | null} */ speaker = null;

  /**
   * @param {Deps} deps
   * @param {Notify} notify
   */
  constructor(deps, notify) {
    this.#deps = deps;
    this.#notify = notify;
    this.#timers = new Timers(deps);
    this.#agent = new AgentPresence(this.#timers, () => this.#finish());
    this.#timing = startTiming(deps.now, (stages) => this.#notify('timing', { stages, callId: this.callId }));
  }

  /** idle | preflight | requesting | connecting | live | reconnecting | ended | error */
  get state() { return this.#call.state; }

  /** In the room (the call's clock runs), possibly still waiting for the assistant. */
  get connected() { return this.#call.connected; }

  /** A call is starting or going on: from the click until it ends or fails. */
  get active() { return isActive(this.#call); }

  /** Why the last call failed ({code, status, retryAfter}), while the state is error. */
  get error() { return this.#call.error; }

  /** Why the last call ended (an hms:ended reason), once it has. */
  get endReason() { return this.#call.reason; }

  /** The open microphone's settings (its deviceId and groupId); undefined between calls. */
  get micSettings() { return this.#mic?.getSettings?.(); }

  /** Seconds since the call joined its room (the call's billed clock), 0 before. */
  elapsed() { return this.#joinedAt ? (this.#deps.now() - this.#joinedAt) / 1000 : 0; }

  /** @param {StateEvent} event */
  #set(event) {
    const previous = this.#call;
    const next = (this.#call = reduce(previous, event));
    if (next.state !== previous.state) {
      if (next.state === 'live') this.#timing.mark('live');
      this.#notify('state', { state: next.state, previous: previous.state });
    } else if (next !== previous) {
      this.#notify('update', {}); // e.g. joined the room, still waiting for the assistant: re-render only
    }
    return next !== previous;
  }

  /** This browser can make a call (it has WebRTC); see support.js. */
  get supported() { return this.#deps.canCall?.() !== false; }

  /**
   * Must be called synchronously from the click (or key press) for the audio unlock to count.
   * @param {{typing?: boolean}} [options] `typing`: no microphone is asked for; the visitor types
   */
  async start({ typing = false } = {}) {
    if (!this.#set({ type: 'start' })) return;
    // A browser without WebRTC is told so before anything is spent: no prompt, no call created.
    if (!this.supported) return this.#fail({ code: 'unsupported_browser' });
    const deps = this.#deps;
    const run = ++this.#run;
    const stale = () => run !== this.#run;
    this.entries = [];
    this.callId = this.feedbackToken = this.actionsUrl = null;
    this.muted = this.audioBlocked = false;
    this.#joinedAt = 0;
    this.#hungUp = false;
    this.typing = typing;
    this.#agent.reset();
    this.#timing.begin(deps.clickedAt?.()); // the element's click, when the call code was still on its way
    this.#notify('transcript', { entries: [], entry: null });
    const config = deps.config();

    // Still inside the gesture: unlock audio and create the room, whose own audio unlock must run in
    // the click too.
    this.#audioContext = deps.audioContext();
    const session = (this.#session = this.#openSession(run));

    // Whatever proof the backend may want (a solved challenge, or the page's own verifier token) is
    // fetched and worked out while the microphone prompt is up, so it costs the visitor no time.
    this.#proof = proofForCreate(deps, config);

    // 1. Microphone first (none for a typed call).
    let mic;
    if (!typing) {
      const got = await micForCall(deps.getUserMedia, deps.micId?.(), config.audioProcessing);
      if (stale()) return 'mic' in got ? got.mic.stop() : undefined;
      if ('code' in got) return this.#fail({ code: got.code });
      mic = this.#mic = got.mic;
      mic.enabled = !this.muted;
    }
    this.#set({ type: 'mic_ok' });
    this.#timing.mark('microphone');
    // 2 + 3. Create the call and join its room; a token that expired on the way gets one fresh retry.
    let joined;
    for (let attempt = 0; !joined; attempt++) {
      const call = await this.#create(config, run);
      if (!call) return;
      this.#timing.mark('create');
      this.#set({ type: 'created' });
      try {
        joined = await session.connect(call.server_url, call.token, mic);
      } catch (err) {
        if (stale()) return;
        if (attempt === 0 && isTokenExpired(/** @type {Error} */ (err))) continue;
        console.warn('hms-webcall: could not join the call:', err);
        return this.#fail({ code: 'connect_failed' });
      }
      if (stale()) return;
    }
    this.#enter(joined.present);
  }

  // 4. In the room, once (joined, or the assistant heard first): the clock runs; the assistant has agentTimeout s.
  #enter(present = false) {
    if (this.#joinedAt || this.#call.state !== 'connecting') return;
    this.#joinedAt = this.#deps.now();
    this.#set({ type: 'connected' });
    this.#timing.mark('connect');
    if (this.muted) this.#session?.setMuted(true);
    this.#timers.every(() => this.#notify('tick', {}), 1000);
    this.#agent.expect(this.#deps.config().agentTimeout);
    this.#timers.after(() => this.#finish('max_duration'), (this.maxDuration + MAX_DURATION_GRACE_S) * 1000);
    if (present || this.#agent.present) this.#joined();
  }

  // First heard or read: live by then at the latest (media that flows is in the room, and so is the assistant).
  #heard(/** @type {'audio' | 'transcript'} */ stage) {
    // Its words, or its audio once it is in the room (a server may send a track's packets, silence, first).
    if (stage === 'transcript' || this.#agent.present) (this.#joined(), this.#enter());
    this.#timing.mark(stage);
  }

  /**
   * The created call's token and room, or null when the create failed (reported) or the call was
   * cancelled meanwhile.
   * @param {Config} config
   * @param {number} run
   */
  async #create(config, run) {
    // A proof is used once: a second create (a fresh token after one expired) must be proven again.
    const proof = this.#proof;
    this.#proof = null;
    this.#abort = new AbortController();
    const current = () => run === this.#run;
    const answer = await requestCall(this.#deps, config, { proof, signal: this.#abort.signal, current });
    if (!answer || !current()) return null;
    if ('error' in answer) return this.#fail(answer.error);
    const { call } = answer;
    this.callId = call.call_id || null;
    // Only anonymous callers get one: it proves to the feedback route that they created this call.
    this.feedbackToken = call.feedback_token || null;
    this.actionsUrl = call.actions_url || null; // only from sites with page actions (actions.js)
    this.maxDuration = config.maxDuration || call.max_duration || DEFAULT_MAX_DURATION;
    return call;
  }

  /**
   * The livekit session of call `run`, and the watch on its connection.
   * @param {number} run
   */
  #openSession(run) {
    const { session, link } = openSession(this.#deps, { audioContext: this.#audioContext, speaker: this.speaker }, {
      current: () => run === this.#run,
      connection: (down) =>
        this.#set({ type: down ? 'reconnecting' : 'reconnected' }) &&
        this.#notify(down ? 'reconnecting' : 'reconnected', { callId: this.callId }),
      finish: (reason, disconnectReason) => this.#finish(reason, disconnectReason),
      joined: () => this.#joined(),
      left: (down) => this.#agent.leave(down),
      transcript: (update) => this.#transcript(update),
      level: (sample) => this.#notify('level', sample),
      audio: (playing) => this.#playing(playing),
      heard: () => this.#heard('audio'),
    });
    this.#link = link;
    return session;
  }

  /** @param {boolean} playing whether the browser lets the assistant's audio play (reported on change) */
  #playing(playing) {
    if (this.audioBlocked !== playing) return;
    this.#notify('audio', { blocked: (this.audioBlocked = !playing) });
  }

  #joined() {
    this.#agent.joined();
    this.#timing.mark('assistant');
    this.#set({ type: 'agent_joined' });
  }

  /** @param {TranscriptUpdate} update */
  #transcript(update) {
    const role = roleOf(update.identity, update.local);
    if (role === 'user' && isEcho(this.entries, update.text)) return; // shown when it was typed
    const entry = { id: update.id, role, text: update.text, final: isFinal(update.final) };
    const entries = applyUpdate(this.entries, entry);
    if (entries === this.entries) return;
    if (!this.entries.length) this.#heard('transcript');
    this.entries = entries;
    this.#notify('transcript', { entries, entry: entries.find((e) => e.id === update.id) });
  }

  /**
   * Sends a typed line into the live call (lk.chat) and shows it as the visitor's, marked typed. Rejects
   * with an Error whose `code` is not_live, empty or too_long (typing.js).
   * @param {unknown} text
   */
  async sendText(text) {
    const line = typedLine(text);
    if (this.state !== 'live' || !this.#session) throw typingError('not_live', 'no call is live');
    await this.#session.sendText(line);
    const entries = (this.entries = withTyped(this.entries, line));
    this.#notify('transcript', { entries, entry: entries[entries.length - 1] });
    return line;
  }

  /**
   * Ends a joined call with a reason (worked out from what happened when not given).
   * @param {string | null} [reason]
   * @param {number} [disconnectReason]
   */
  #finish(reason, disconnectReason) {
    if (!this.#call.connected && disconnectReason !== undefined) return; // a failed connect: start() reports it
    const why =
      reason ||
      endReason({
        byUser: this.#hungUp,
        agentTimeout: this.#agent.timedOut,
        disconnectReason,
        agentLeft: this.#agent.left,
        elapsed: this.elapsed(),
        maxDuration: this.maxDuration,
      });
    const durationSeconds = Math.round(this.elapsed());
    if (!this.#set({ type: 'end', reason: why })) return;
    this.#release();
    this.entries = finalizeAll(this.entries);
    this.#notify('transcript', { entries: this.entries, entry: null });
    this.#notify('ended', { reason: why, callId: this.callId, durationSeconds });
  }

  /**
   * @param {CallError} error
   * @returns {null}
   */
  #fail(error) {
    if (this.#set({ type: 'fail', error })) {
      this.#release();
      this.#notify('error', error);
    }
    return null;
  }

  /** Hang up (connecting or live) or cancel (before a call exists: nothing was spent). */
  end() {
    if (this.#call.state === 'preflight' || this.#call.state === 'requesting') {
      this.#abort?.abort();
      this.#release();
      this.#set({ type: 'cancel' });
    } else if (this.active) {
      this.#hungUp = true;
      this.#finish('user_hangup');
    }
  }

  /** Back to idle after an ended or failed call (the panel closes). */
  reset() { this.#set({ type: 'reset' }); }

  /** @param {boolean} on */
  mute(on) {
    this.muted = !!on;
    if (this.#mic) this.#mic.enabled = !this.muted; // also while its publication is still on the way
    if (this.#session && this.#call.connected) this.#session.setMuted(this.muted);
    this.#notify('mute', { muted: this.muted });
    return this.muted;
  }

  /**
   * Uses another microphone. Mid-call the new track replaces the published one (the call goes on, muted
   * or not as before); the old one is let go only once the new one is live.
   * @param {string} deviceId
   */
  async switchMic(deviceId) {
    if (!this.#mic || !this.#deps.getUserMedia) return true;
    const run = this.#run;
    const track = await swapMic(this.#deps.getUserMedia, deviceId, this.#deps.config().audioProcessing, {
      enabled: () => !this.muted,
      install: (t) => (this.#session && this.#call.connected ? this.#session.replaceMic(t) : undefined),
      current: () => run === this.#run && !!this.#mic,
    });
    if (!track) return false;
    this.#mic?.stop(); // let go only now that the new one is live
    this.#mic = track;
    return true;
  }

  /**
   * Plays the assistant on another speaker (where the browser supports choosing one).
   * @param {string | null} deviceId
   */
  setSpeaker(deviceId) {
    this.speaker = deviceId;
    return this.#session ? this.#session.setSpeaker(deviceId) : Promise.resolve();
  }

  /**
   * Sends the visitor's rating of the ended call. Resolves to 'sent', 'forbidden' (not this visitor's
   * call), 'already_rated' or 'failed' (the network, or any other answer: the visitor may try again).
   * @param {string} rating
   * @param {string} [comment]
   */
  async sendFeedback(rating, comment = '') {
    if (!this.callId) return 'failed';
    return postFeedback(this.#deps, this.#deps.config(), this.callId, this.feedbackToken, rating, comment);
  }

  /**
   * Plays the assistant again: the "Tap to hear the assistant" button (inside its click, which browsers
   * require) and a tab back from the background (where it may work without one, else the button shows).
   */
  unlockAudio() {
    if (this.#audioContext?.state === 'suspended') this.#audioContext.resume().catch(() => {});
    this.#session?.startAudio().then(
      () => this.#playing(true),
      () => {},
    );
  }

  #release() {
    this.#timing.end();
    this.#timers.clear();
    this.#link?.stop();
    this.#mic?.stop();
    this.#mic = null;
    this.#session?.disconnect().catch(() => {});
    this.#session = null;
    this.#run++; // late events and awaits of this call are ignored from now on
  }
}
