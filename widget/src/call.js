// The livekit-driven media session: the only module that imports livekit-client (it ships in the call
// chunk, which pages that never start a call never download). It reports raw facts through `on`; what they
// mean is decided by the controller, which stays free of livekit and is unit-tested in Node.

import { ConnectionErrorReason, Room, RoomEvent, Track } from 'livekit-client';
import { sendLeaveNow } from './leave-signal.js';

const TOPIC = 'lk.transcription';

/**
 * One lk.transcription update; `final` as the stream's attribute says it ("true"/"false").
 * @typedef {{id: string, identity: string, local: string, text: string, final: string | undefined}} TranscriptUpdate
 */
/**
 * What the session reports, as raw facts.
 * @typedef {object} SessionEvents
 * @property {() => void} joined
 * @property {() => void} left
 * @property {(update: TranscriptUpdate) => void} transcript
 * @property {(sample: LevelSample) => void} level about 8 times a second while in the room
 * @property {(playing: boolean) => void} audio
 * @property {() => void} heard the assistant's first audio arrived (its track's first packets)
 * @property {(on: boolean) => void} reconnecting
 * @property {(online: boolean) => void} network the browser went offline (false) or online (true)
 * @property {(reason: number | undefined) => void} disconnected livekit's DisconnectReason
 */
/**
 * @typedef {object} SessionOptions
 * @property {HTMLElement} audioHost where the assistant's <audio> elements go
 * @property {AudioContext | null} [audioContext]
 * @property {string | null} speaker the chosen speaker's device id
 * @property {SessionEvents} on
 */
/**
 * The levels (0..1) of the assistant and of the visitor's microphone, and what the room says of the agent.
 * @typedef {{level: number, mic: number, agentState: string | undefined, speaking: boolean}} LevelSample
 */
/** @typedef {ReturnType<typeof createSession>} Session */
/** @typedef {(() => number) & {stop(): void}} Meter the remote track's loudness, 0..1 */

/**
 * Creates the room at once, so that when called inside a click the audio unlock (startAudio) runs while
 * the browser still counts it as a user gesture.
 *
 * on: {joined(), left(), transcript({id, identity, local, text, final}), level({level, mic, agentState, speaking}),
 *      audio(playing: bool), reconnecting(bool), disconnected(reason)}
 *
 * @param {SessionOptions} options
 */
export function createSession({ audioHost, audioContext, speaker, on }) {
  // Not livekit's own page-leave handling: it hangs up on beforeunload, even when the visitor then
  // answers "stay" to the leave question. The UI hangs up on pagehide instead.
  // The room plays the assistant on the chosen speaker. On a device change it moves the sound to the
  // default one when that speaker is gone (not in Safari, where that slows the sound down), and it stays on
  // the default one while none was chosen: a headset plugged in, which the system makes its default, is heard.
  const room = new Room({
    adaptiveStream: false,
    dynacast: false,
    disconnectOnPageLeave: false,
    ...(speaker && { audioOutput: { deviceId: speaker } }),
  });
  /** @type {Meter | null} */
  let meter = null;
  /** @type {Meter | null} */
  let micMeter = null;
  let poll = 0;
  let report = () => {}; // samples the levels and the assistant's state (set once connected)
  /** @type {import('livekit-client').LocalTrackPublication | null} */
  let micPublication = null;
  let muted = false; // asked before the microphone was published: applied once it is
  /** @type {Promise<void>} settles once the microphone is published (connect) */
  let published = Promise.resolve();
  // The analyser hangs off the element's AudioContext, which outlasts the call: it goes when the call
  // does, with the level polling.
  const stopMetering = () => {
    clearInterval(poll);
    meter?.stop();
    micMeter?.stop();
    meter = micMeter = null;
  };

  room.startAudio().catch(() => {});
  const online = () => on.network(true);
  const offline = () => on.network(false);
  addEventListener('online', online);
  addEventListener('offline', offline);

  const agent = () => room.remoteParticipants.values().next().value;

  room
    .on(RoomEvent.ParticipantConnected, () => on.joined())
    .on(RoomEvent.ParticipantDisconnected, () => {
      if (!room.remoteParticipants.size) on.left();
    })
    .on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind !== Track.Kind.Audio) return;
      // Inline, so iOS plays it in the page rather than as media of its own; attach() starts it with
      // play() and reports a refusal (AudioPlaybackStatusChanged), for the panel's "Tap to hear" button.
      const el = document.createElement('audio');
      el.setAttribute('playsinline', '');
      track.attach(el);
      audioHost.append(el);
      // A remote track is muted until its first packets arrive: then the visitor can hear the assistant.
      const media = track.mediaStreamTrack;
      if (media.muted) media.addEventListener('unmute', on.heard, { once: true });
      else on.heard();
      meter?.stop();
      meter = measure(audioContext, track.mediaStreamTrack);
    })
    .on(RoomEvent.TrackUnsubscribed, (track) => {
      for (const el of track.detach()) el.remove();
    })
    .on(RoomEvent.AudioPlaybackStatusChanged, () => on.audio(room.canPlaybackAudio))
    // A state can last less than a sampling period (a fast assistant thinks for a few milliseconds).
    .on(RoomEvent.ParticipantAttributesChanged, () => report())
    .on(RoomEvent.Reconnecting, () => on.reconnecting(true))
    .on(RoomEvent.SignalReconnecting, () => on.reconnecting(true))
    .on(RoomEvent.Reconnected, () => on.reconnecting(false))
    .on(RoomEvent.Disconnected, (reason) => {
      stopMetering();
      on.disconnected(reason);
    });

  room.registerTextStreamHandler(TOPIC, async (reader, participant) => {
    const info = reader.info;
    let text = '';
    const send = (/** @type {string | undefined} */ final) =>
      on.transcript({
        id: info.attributes?.['lk.segment_id'] || info.id,
        identity: participant.identity,
        local: room.localParticipant.identity,
        text,
        final,
      });
    try {
      for await (const chunk of reader) {
        text += chunk;
        send(info.attributes?.['lk.transcription_final']);
      }
    } catch {
      // a stream cut short still shows what arrived
    }
    // The trailer's attributes (where lk.transcription_final usually turns "true") are merged by now.
    send(reader.info.attributes?.['lk.transcription_final']);
    report(); // a finished turn may start a short thinking state, between two samples

  });

  return {
    /**
     * @param {string} url
     * @param {string} token
     * @param {MediaStreamTrack} [mic]
     */
    async connect(url, token, mic) {
      try {
        await room.connect(url, token, { autoSubscribe: true });
      } catch (error) {
        const err = /** @type {{reason?: unknown, notAllowed?: boolean} | null} */ (error);
        // The server refused the token (errors.js decides whether it was for being expired). Compared by
        // value: the error's reasonName is not reliable in livekit-client 2.23.
        if (err && err.reason === ConnectionErrorReason.NotAllowed) err.notAllowed = true;
        throw err;
      }
      // In the room; the microphone is published before this resolves, but the assistant may be heard
      // meanwhile (its own negotiation takes a round trip or more): the call is live by then (controller.js).
      published = mic
        ? room.localParticipant.publishTrack(mic, { source: Track.Source.Microphone, dtx: true }).then((p) => {
            micPublication = p;
            if (muted) p.track?.mute();
            micMeter = measure(audioContext, mic);
          })
        : Promise.resolve();
      clearInterval(poll);
      report = () => {
        const p = agent();
        on.level({
          level: meter ? meter() : p ? p.audioLevel : 0,
          mic: micMeter ? micMeter() : room.localParticipant.audioLevel,
          agentState: p?.attributes['lk.agent.state'],
          speaking: !!p?.isSpeaking,
        });
      };
      poll = setInterval(report, 120);
      await published;
      return { identity: room.localParticipant.identity, present: room.remoteParticipants.size > 0 };
    },
    /** @param {boolean} on */
    setMuted(on) {
      muted = on;
      const track = micPublication && micPublication.track;
      if (track) return on ? track.mute() : track.unmute();
    },
    /**
     * Swaps the published microphone track for another without leaving the room.
     * @param {MediaStreamTrack} track
     */
    async replaceMic(track) {
      await published; // a microphone chosen while the first one is still being published replaces it after
      if (!micPublication?.track) return;
      await micPublication.track.replaceTrack(track, { userProvidedTrack: true });
      micMeter?.stop();
      micMeter = measure(audioContext, track);
    },
    /** @param {string | null} deviceId */
    async setSpeaker(deviceId) {
      await room.switchActiveDevice('audiooutput', deviceId || 'default').catch(() => {});
    },
    /**
     * Warms up the connection to a server (DNS, TLS) before connect() is called: livekit-client's
     * prepareConnection, which never throws.
     * @param {string} url
     */
    prepare: (url) => room.prepareConnection(url),
    startAudio: () => room.startAudio(),
    /** A typed line, as LiveKit agents take text input. @param {string} text */
    sendText: (text) => room.localParticipant.sendText(text, { topic: 'lk.chat' }),
    disconnect() {
      stopMetering();
      removeEventListener('online', online);
      removeEventListener('offline', offline);
      sendLeaveNow(room); // now: the page may be going, and room.disconnect()'s own leave is awaited
      return room.disconnect();
    },
  };
}

// The assistant's loudness (RMS of the waveform, scaled to 0..1) from its remote track, through the audio
// context the click unlocked; without one, the server's audioLevel alone drives the indicator.
/**
 * @param {AudioContext | null | undefined} ctx
 * @param {MediaStreamTrack} mediaStreamTrack
 * @returns {Meter | null}
 */
function measure(ctx, mediaStreamTrack) {
  if (!ctx) return null;
  try {
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    const source = ctx.createMediaStreamSource(new MediaStream([mediaStreamTrack]));
    source.connect(analyser);
    const buf = new Uint8Array(analyser.fftSize);
    const level = () => {
      analyser.getByteTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += ((v - 128) / 128) ** 2;
      return Math.min(1, Math.sqrt(sum / buf.length) * 4);
    };
    level.stop = () => source.disconnect();
    return level;
  } catch {
    return null;
  }
}
