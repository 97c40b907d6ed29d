// One call from click to hang-up, free of the DOM and of livekit: everything outside (microphone, network,
// the media session, clocks) comes in through `deps`, so the whole flow runs in Node tests.
//
// Order matters and is the point of this module: the microphone is asked for BEFORE the backend, so a
// visitor without a usable microphone never creates a call (no credit spent, no slot held).

import { MIC, createRequest } from './attributes.js';
import { backendError, isTokenExpired, micErrorCode } from './errors.js';
import { INITIAL, endReason, isActive, reduce } from './state.js';
import { applyUpdate, finalizeAll, isFinal, roleOf } from './transcript.js';

const AGENT_LEFT_GRACE_MS = 2000; // the assistant left: wait this long for the server to close the room
const MAX_DURATION_GRACE_S = 10; // the server ends calls at max_duration; this is only a safety net

/**
 * deps: {config(), context(), getUserMedia(constraints)|null, fetch, crossOrigin(url), createSession(opts)
 *        (call.js), audioContext(): AudioContext|null, audioHost, cookies(), meta(name), now(), setTimeout,
 *        clearTimeout, setInterval, clearInterval}
 * notify(kind, detail): kind is 'state' | 'update' | 'transcript' | 'ended' | 'error' | 'tick' | 'level' |
 * 'audio' | 'mute'
 */
export class Controller {
  constructor(deps, notify) {
    this._d = deps;
    this._notify = notify;
    this.s = INITIAL;
    this.entries = [];
    this.callId = null;
    this.muted = false;
    this.audioBlocked = false;
    this.maxDuration = 0;
    this._run = 0;
    this._timers = [];
  }

  get state() {
    return this.s.state;
  }

  /** Seconds since the call joined its room (the call's billed clock), 0 before. */
  elapsed() {
    return this._at ? (this._d.now() - this._at) / 1000 : 0;
  }

  _set(event) {
    const prev = this.s;
    const next = (this.s = reduce(prev, event));
    if (next.state !== prev.state || next.reconnecting !== prev.reconnecting) {
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
    this.callId = null;
    this.muted = this.audioBlocked = false;
    this._at = 0;
    this._left = this._byUser = this._timedOut = this._present = false;
    this._notify('transcript', { entries: [], entry: null });
    const cfg = d.config();

    // Still inside the gesture: unlock audio and create the room, whose own audio unlock must run in
    // the click too.
    this._ac = d.audioContext();
    this._session = this._session$(run);

    // 1. Microphone first.
    if (!d.getUserMedia) return this._fail({ code: 'mic_unsupported' });
    let mic;
    try {
      mic = (await d.getUserMedia(MIC)).getAudioTracks()[0];
      if (!mic) throw { name: 'NotFoundError' };
    } catch (err) {
      if (!stale()) this._fail({ code: micErrorCode(err) });
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
        if (attempt === 0 && isTokenExpired(err)) continue;
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

  async _create(cfg, run) {
    const d = this._d;
    let init;
    try {
      init = createRequest(cfg, { context: d.context(), cookies: d.cookies(), meta: d.meta });
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
      const code = (await this._refusedOrigin(cfg.endpoint)) ? 'forbidden_origin' : 'network';
      if (run === this._run) this._fail({ code });
      return null;
    }
    if (run !== this._run) return null;
    if (!res.ok) return this._fail(backendError(res.status, body, res.headers.get('Retry-After'), d.now()));
    if (!body || !body.token || !body.server_url) {
      return this._fail({ code: 'upstream_error', status: res.status });
    }
    this.callId = body.call_id || null;
    this.maxDuration = cfg.maxDuration || body.max_duration || 300;
    return body;
  }

  /**
   * A cross-origin request that failed outright: the network, or CORS refusing this page's origin (the
   * browser hides which). A CORS-free probe of the same URL tells them apart: if the server answers it,
   * the network is fine and the origin is what was refused.
   */
  async _refusedOrigin(endpoint) {
    if (!this._d.crossOrigin(endpoint)) return false;
    try {
      await this._d.fetch(endpoint, { mode: 'no-cors', credentials: 'omit', cache: 'no-store' });
    } catch {
      return false;
    }
    console.warn(`hms-webcall: ${endpoint} refused this page's origin (allow it in HMS_ALLOWED_ORIGINS)`);
    return true;
  }

  _session$(run) {
    const mine =
      (fn) =>
      (...args) => {
        if (run === this._run) fn(...args);
      };
    return this._d.createSession({
      audioHost: this._d.audioHost,
      audioContext: this._ac,
      on: {
        joined: mine(() => this._joined()),
        left: mine(() => {
          // HMS closes the room right after the assistant leaves; should it not, end the call ourselves.
          this._left = true;
          this._after(() => this._finish(), AGENT_LEFT_GRACE_MS);
        }),
        transcript: mine((u) => this._transcript(u)),
        level: mine((level, agentState) => this._notify('level', { level, agentState })),
        audio: mine((playing) => {
          this.audioBlocked = !playing;
          this._notify('audio', { blocked: this.audioBlocked });
        }),
        reconnecting: mine((on) => this._set({ type: on ? 'reconnecting' : 'reconnected' })),
        disconnected: mine((reason) => this._finish(null, reason)),
      },
    });
  }

  _joined() {
    this._present = true;
    if (this._set({ type: 'agent_joined' })) this._d.clearTimeout(this._agentTimer);
  }

  _transcript(u) {
    const role = roleOf(u.identity, u.local);
    const entries = applyUpdate(this.entries, { id: u.id, role, text: u.text, final: isFinal(u.final) });
    if (entries === this.entries) return;
    this.entries = entries;
    this._notify('transcript', { entries, entry: entries.find((e) => e.id === u.id) });
  }

  /** Ends a joined call with a reason (worked out from what happened when not given). */
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

  mute(on) {
    this.muted = !!on;
    if (this._session && this.s.connected) this._session.setMuted(this.muted);
    else if (this._mic) this._mic.enabled = !this.muted;
    this._notify('mute', { muted: this.muted });
    return this.muted;
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
    this._mic?.stop();
    this._mic = null;
    this._session?.disconnect().catch(() => {});
    this._session = null;
    this._run++; // late events and awaits of this call are ignored from now on
  }

  _after(fn, ms) {
    const id = this._d.setTimeout(fn, ms);
    this._timers.push([0, id]);
    return id;
  }
}
