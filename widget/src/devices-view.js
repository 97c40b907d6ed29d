// The microphone and speaker menus: offered when there is a choice (before the call once the microphone is
// allowed, during it and between calls), remembered per site, and switched without dropping the call.
// A headset plugged in or pulled out mid-call is followed (see follow()).

import { remember, remembered } from './attributes.js';
import { deviceLists, isInUse, micToUse, offer, selectedDevice } from './devices.js';
import { show } from './panel.js';

/** @typedef {import('./devices.js').Device} Device */
/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The device menus in the panel `refs`, for the calls of `controller`.
 * @param {{refs: Refs, controller: import('./controller.js').Controller, emit: (type: string, detail: object) => void,
 *   render: () => void, media: MediaDevices | undefined}} parts
 */
export function devicesView({ refs, controller, emit, render, media }) {
  /** @type {{mics: Device[], speakers: Device[]}} */
  let devices = { mics: [], speakers: [] };
  const canSink = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

  /** @returns {Promise<MediaDeviceInfo[]>} */
  async function list() {
    /** @type {MediaDeviceInfo[]} */
    let all = [];
    try {
      all = await /** @type {MediaDevices} */ (media).enumerateDevices();
    } catch {
      // none offered
    }
    devices = deviceLists(all);
    fill(refs.mic, devices.mics, remembered('mic'));
    fill(refs.spk, devices.speakers, controller.speaker);
    render();
    return all;
  }

  /**
   * The devices changed (a headset came or went): the call's microphone moves to the chosen one while it
   * is there, else to the default one, which a headset plugged in usually becomes; reported as
   * hms:device-change with `auto: true`. The sound follows the same rule in the room (call.js).
   */
  async function follow() {
    const all = await list();
    const mic = micToUse(all, remembered('mic'));
    const open = controller.micSettings;
    if (mic && open && !isInUse(open, mic) && (await controller.switchMic(mic.deviceId))) {
      emit('device-change', { kind: 'audioinput', deviceId: mic.deviceId, label: mic.label, auto: true });
    }
  }

  /**
   * @param {HTMLSelectElement} select
   * @param {Device[]} options
   * @param {string | null} id
   */
  function fill(select, options, id) {
    const value = selectedDevice(options, id);
    const same =
      select.options.length === options.length && options.every((d, i) => select.options[i].value === d.id);
    if (!same) select.replaceChildren(...options.map((d) => new Option(d.label, d.id)));
    select.value = value;
  }

  /**
   * @param {'audioinput' | 'audiooutput'} kind
   * @param {HTMLSelectElement} select
   */
  async function choose(kind, select) {
    const deviceId = select.value;
    const label = select.selectedOptions[0]?.text || '';
    if (kind === 'audioinput') {
      remember('mic', deviceId);
      if (!(await controller.switchMic(deviceId))) console.warn('hms-webcall: could not switch to', label);
    } else {
      remember('speaker', deviceId);
      await controller.setSpeaker(deviceId).catch(() => {});
    }
    emit('device-change', { kind, deviceId, label });
  }

  refs.mic.addEventListener('change', () => choose('audioinput', refs.mic));
  refs.spk.addEventListener('change', () => choose('audiooutput', refs.spk));
  media?.addEventListener?.('devicechange', follow);

  return {
    /** Asks the browser which devices there are (their names once the microphone is allowed). */
    list: () => void list(),
    /**
     * @param {Translate} t
     * @param {boolean} hidden another view (the pop-out notice) has the panel
     */
    update(t, hidden) {
      const micChoice = offer(devices.mics);
      const spkChoice = canSink && offer(devices.speakers);
      show(refs.devices, !hidden && (micChoice || spkChoice));
      show(refs.micRow, micChoice);
      show(refs.spkRow, spkChoice);
      refs.micLabel.textContent = t('microphone');
      refs.spkLabel.textContent = t('speaker');
    },
  };
}
