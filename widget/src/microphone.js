// Opening the visitor's microphone: the remembered device, or the default one when that is gone, with the
// voice processing the audio-processing attribute asks for.

import { micConstraints } from './attributes.js';
import { micErrorCode } from './errors.js';

/** @typedef {import('./deps.js').GetUserMedia} GetUserMedia */

/**
 * A track from the microphone `deviceId` (the default one when null). The id is asked as "ideal", as iOS
 * wants; where the browser gave another microphone (Chromium ignores an ideal deviceId), it is asked again
 * as "exact". Rejects as getUserMedia does.
 * @param {GetUserMedia} getUserMedia
 * @param {string | null | undefined} deviceId
 * @param {boolean} [processing]
 */
async function open(getUserMedia, deviceId, processing) {
  const track = (await getUserMedia(micConstraints(deviceId, processing))).getAudioTracks()[0];
  if (!track || !deviceId || track.getSettings().deviceId === deviceId) return track;
  track.stop();
  return (await getUserMedia(micConstraints(deviceId, processing, true))).getAudioTracks()[0];
}

/**
 * The microphone for a new call, or the error code that stops the call before anything is spent.
 * @param {GetUserMedia | null | undefined} getUserMedia
 * @param {string | null | undefined} deviceId
 * @param {boolean} [processing]
 * @returns {Promise<{mic: MediaStreamTrack} | {code: string}>}
 */
export async function micForCall(getUserMedia, deviceId, processing) {
  if (!getUserMedia) return { code: 'mic_unsupported' };
  try {
    const mic = await openMic(getUserMedia, deviceId, processing);
    return mic ? { mic } : { code: micErrorCode({ name: 'NotFoundError' }) };
  } catch (err) {
    return { code: micErrorCode(/** @type {{name?: string} | null} */ (err)) };
  }
}

/**
 * A track from the microphone `deviceId`, or from the default one when that is not there (any more).
 * Rejects as getUserMedia does when no microphone can be opened.
 * @param {GetUserMedia} getUserMedia
 * @param {string | null | undefined} deviceId
 * @param {boolean} [processing]
 * @returns {Promise<MediaStreamTrack | undefined>}
 */
export async function openMic(getUserMedia, deviceId, processing) {
  try {
    return await open(getUserMedia, deviceId, processing);
  } catch (err) {
    const name = /** @type {{name?: string} | null} */ (err)?.name;
    if (!deviceId || !['OverconstrainedError', 'NotFoundError'].includes(name ?? '')) throw err;
  }
  return open(getUserMedia, null, processing);
}

/**
 * A track from exactly the microphone `deviceId`, or null when it cannot be opened.
 * @param {GetUserMedia | null | undefined} getUserMedia
 * @param {string} deviceId
 * @param {boolean} [processing]
 * @returns {Promise<MediaStreamTrack | null>}
 */
export async function tryMic(getUserMedia, deviceId, processing) {
  if (!getUserMedia) return null;
  try {
    return (await open(getUserMedia, deviceId, processing)) || null;
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
 * @param {boolean | undefined} processing
 * @param {{enabled: () => boolean, install: (track: MediaStreamTrack) => Promise<void> | void,
 *   current: () => boolean}} use
 * @returns {Promise<MediaStreamTrack | null>}
 */
export async function swapMic(getUserMedia, deviceId, processing, { enabled, install, current }) {
  const track = await tryMic(getUserMedia, deviceId, processing);
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
