// Opening the visitor's microphone: the remembered device, or the default one when that is gone.

import { micConstraints } from './attributes.js';

/** @typedef {import('./deps.js').GetUserMedia} GetUserMedia */

/**
 * A track from the microphone `deviceId`, or from the default one when that is not there (any more).
 * Rejects as getUserMedia does when no microphone can be opened.
 * @param {GetUserMedia} getUserMedia
 * @param {string | null | undefined} deviceId
 * @returns {Promise<MediaStreamTrack | undefined>}
 */
export async function openMic(getUserMedia, deviceId) {
  try {
    const stream = await getUserMedia(micConstraints(deviceId));
    return stream.getAudioTracks()[0];
  } catch (err) {
    const name = /** @type {{name?: string} | null} */ (err)?.name;
    if (!deviceId || !['OverconstrainedError', 'NotFoundError'].includes(name ?? '')) throw err;
  }
  return (await getUserMedia(micConstraints(null))).getAudioTracks()[0];
}

/**
 * A track from exactly the microphone `deviceId`, or null when it cannot be opened.
 * @param {GetUserMedia | null | undefined} getUserMedia
 * @param {string} deviceId
 * @returns {Promise<MediaStreamTrack | null>}
 */
export async function tryMic(getUserMedia, deviceId) {
  if (!getUserMedia) return null;
  try {
    return (await getUserMedia(micConstraints(deviceId))).getAudioTracks()[0] || null;
  } catch {
    return null;
  }
}

/**
 * Mid-call change of microphone: opens exactly `deviceId` and hands the track to `install` (which replaces
 * the published one). The new track, or null when it cannot be opened, `install` failed or `current()` says
 * the call ended meanwhile; a track that is not used is stopped.
 * @param {GetUserMedia} getUserMedia
 * @param {string} deviceId
 * @param {{enabled: () => boolean, install: (track: MediaStreamTrack) => Promise<void> | void,
 *   current: () => boolean}} use
 * @returns {Promise<MediaStreamTrack | null>}
 */
export async function swapMic(getUserMedia, deviceId, { enabled, install, current }) {
  const track = await tryMic(getUserMedia, deviceId);
  if (!track) return null; // this one cannot be opened: the call keeps the microphone it has
  track.enabled = enabled();
  try {
    if (current()) await install(track);
  } catch {
    track.stop();
    return null;
  }
  if (current()) return track;
  track.stop();
  return null;
}
