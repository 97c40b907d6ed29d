// A controller wired to fakes (microphones, backend, livekit session, clock) for the tests of consent,
// feedback and devices. Timers never fire by themselves here: these tests are about requests and tracks.
import { parseConfig } from '../src/attributes.js';
import { Controller } from '../src/controller.js';

export const tick = () => new Promise((resolve) => setImmediate(resolve));

export async function settle() {
  for (let i = 0; i < 20; i++) await tick();
}

export function response(status, body, headers = {}) {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => headers[name] ?? null },
    json: async () => {
      if (body === undefined) throw new SyntaxError('no body');
      return body;
    },
  };
}

export const created = (extra = {}) =>
  response(201, {
    call_id: 'call-1',
    room_name: 'web-1',
    token: 'token-1',
    server_url: 'ws://127.0.0.1:7880',
    expires_in: 300,
    max_duration: 300,
    ...extra,
  });

/** A fake MediaStreamTrack from the microphone `deviceId`. */
export function fakeTrack(deviceId) {
  return { deviceId, enabled: true, stopped: false, stop() { this.stopped = true; }, getSettings: () => ({ deviceId }) };
}

/**
 * setup({attrs, responses, consent, micId, mics, ignoresIdeal}) -> {c, log, session, deps} (deps: the
 * controller's, to change in a test). mics: deviceId -> 'ok' | an error name;
 * getUserMedia picks the device from the constraints (deviceId.exact, or deviceId.ideal while that one is
 * there and the browser is not `ignoresIdeal` as Chromium is), 'default' without one.
 */
export function setup({
  attrs = {},
  responses = [created()],
  consent = null,
  micId = null,
  mics = {},
  ignoresIdeal = false,
} = {}) {
  const log = { fetches: [], constraints: [], tracks: [], replaced: [], speakers: [], events: [] };
  const session = {
    async connect() {
      await tick();
      return { identity: 'web-user-1', present: true };
    },
    setMuted() {},
    startAudio: async () => {},
    async disconnect() {},
    async replaceMic(track) {
      await tick();
      if (session.failReplace) throw new Error('replace failed');
      log.replaced.push(track);
    },
    async setSpeaker(id) {
      log.speakers.push(id);
    },
  };
  const deps = {
    config: () => parseConfig((n) => attrs[n] ?? null, { base: 'https://site.example/hms/', pageUrl: 'https://site.example/' }),
    context: () => null,
    consent: () => consent,
    micId: () => micId,
    getUserMedia: async (constraints) => {
      log.constraints.push(constraints);
      await tick();
      const want = constraints.audio.deviceId;
      let id = want?.exact || want?.ideal || 'default';
      if (want?.ideal && (ignoresIdeal || ['OverconstrainedError', 'NotFoundError'].includes(mics[id]))) id = 'default';
      const outcome = mics[id] || 'ok';
      if (outcome !== 'ok') throw Object.assign(new Error(outcome), { name: outcome });
      const track = fakeTrack(id);
      log.tracks.push(track);
      return { getAudioTracks: () => [track] };
    },
    fetch: async (url, init) => {
      log.fetches.push({ url, init });
      await tick();
      const next = responses.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    crossOrigin: () => false,
    createSession: (opts) => {
      log.sessionOptions = opts;
      return session;
    },
    audioContext: () => null,
    audioHost: null,
    cookies: () => 'csrftoken=abc',
    meta: () => '',
    now: () => 1000,
    setTimeout: () => 0,
    clearTimeout: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
  };
  const c = new Controller(deps, (kind, detail) => log.events.push([kind, detail]));
  return { c, log, session, deps };
}

/** An in-memory localStorage on globalThis for the duration of a test (`t` from node:test). */
export function fakeStorage(t, initial = {}) {
  const data = new Map(Object.entries(initial));
  const storage = {
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k),
  };
  const had = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
  Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true, writable: true });
  t.after(() => {
    if (had) Object.defineProperty(globalThis, 'localStorage', had);
    else delete globalThis.localStorage;
  });
  return data;
}
