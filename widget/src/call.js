// The livekit-driven media session: the only module that imports livekit-client (it ships in the call
// chunk, which pages that never start a call never download). It reports raw facts through `on`; what they
// mean is decided by the controller, which stays free of livekit and is unit-tested in Node.

import { ConnectionErrorReason, Room, RoomEvent, Track } from 'livekit-client';

const TOPIC = 'lk.transcription';

/**
 * Creates the room at once, so that when called inside a click the audio unlock (startAudio) runs while
 * the browser still counts it as a user gesture.
 *
 * on: {joined(), left(), transcript({id, identity, local, text, final}), level(0..1, agentState),
 *      audio(playing: bool), reconnecting(bool), disconnected(reason)}
 */
export function createSession({ audioHost, audioContext, on }) {
  const room = new Room({ adaptiveStream: false, dynacast: false, disconnectOnPageLeave: true });
  let meter = null;
  let poll = 0;
  let micPublication = null;
  // The analyser hangs off the element's AudioContext, which outlasts the call: it goes when the call
  // does, with the level polling.
  const stopMetering = () => {
    clearInterval(poll);
    meter?.stop();
    meter = null;
  };

  room.startAudio().catch(() => {});

  const agent = () => room.remoteParticipants.values().next().value;

  room
    .on(RoomEvent.ParticipantConnected, () => on.joined())
    .on(RoomEvent.ParticipantDisconnected, () => {
      if (!room.remoteParticipants.size) on.left();
    })
    .on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind !== Track.Kind.Audio) return;
      audioHost.append(track.attach());
      meter?.stop();
      meter = measure(audioContext, track.mediaStreamTrack);
    })
    .on(RoomEvent.TrackUnsubscribed, (track) => {
      for (const el of track.detach()) el.remove();
    })
    .on(RoomEvent.AudioPlaybackStatusChanged, () => on.audio(room.canPlaybackAudio))
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
    const send = (final) =>
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
  });

  return {
    async connect(url, token, mic) {
      try {
        await room.connect(url, token, { autoSubscribe: true });
      } catch (err) {
        // The server refused the token (errors.js decides whether it was for being expired). Compared by
        // value: the error's reasonName is not reliable in livekit-client 2.23.
        if (err && err.reason === ConnectionErrorReason.NotAllowed) err.notAllowed = true;
        throw err;
      }
      if (mic) {
        micPublication = await room.localParticipant.publishTrack(mic, {
          source: Track.Source.Microphone,
          dtx: true,
        });
      }
      clearInterval(poll);
      poll = setInterval(() => {
        const p = agent();
        on.level(Math.max(meter ? meter() : 0, p ? p.audioLevel : 0), p && p.attributes['lk.agent.state']);
      }, 120);
      return { identity: room.localParticipant.identity, present: room.remoteParticipants.size > 0 };
    },
    setMuted(muted) {
      const track = micPublication && micPublication.track;
      if (track) return muted ? track.mute() : track.unmute();
    },
    startAudio: () => room.startAudio(),
    disconnect() {
      stopMetering();
      return room.disconnect();
    },
  };
}

// The assistant's loudness (RMS of the waveform, scaled to 0..1) from its remote track, through the audio
// context the click unlocked; without one, the server's audioLevel alone drives the indicator.
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
