// The microphone and speaker menus: offered when there is a choice (before the call once the microphone is
// allowed, during it and between calls), remembered per site, and switched without dropping the call.

import { remember, remembered } from './attributes.js';
import { deviceLists, offer, selectedDevice } from './devices.js';

/** @typedef {import('./devices.js').Device} Device */
/** @typedef {import('./panel.js').Refs} Refs */
/** @typedef {import('./i18n.js').Translate} Translate */

/**
 * The device menus in the panel `$`, for the calls of controller `c`.
 * @param {{$: Refs, c: import('./controller.js').Controller, emit: (type: string, detail: object) => void,
 *   render: () => void, md: MediaDevices | undefined}} parts
 */
export function devicesView({ $, c, emit, render, md }) {
  /** @type {{mics: Device[], speakers: Device[]}} */
  let devices = { mics: [], speakers: [] };
  const canSink = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

  async function list() {
    try {
      devices = deviceLists(await /** @type {MediaDevices} */ (md).enumerateDevices());
    } catch {
      devices = { mics: [], speakers: [] };
    }
    fill($.mic, devices.mics, remembered('mic'));
    fill($.spk, devices.speakers, c.speaker);
    render();
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
      if (!(await c.switchMic(deviceId))) console.warn('hms-webcall: could not switch to', label);
    } else {
      remember('speaker', deviceId);
      await c.setSpeaker(deviceId).catch(() => {});
    }
    emit('device-change', { kind, deviceId, label });
  }

  $.mic.addEventListener('change', () => choose('audioinput', $.mic));
  $.spk.addEventListener('change', () => choose('audiooutput', $.spk));
  md?.addEventListener?.('devicechange', list);

  return {
    /** Asks the browser which devices there are (their names once the microphone is allowed). */
    list,
    /**
     * @param {Translate} t
     * @param {boolean} hidden another view (the pop-out notice) has the panel
     */
    update(t, hidden) {
      const show = (/** @type {HTMLElement} */ el, /** @type {unknown} */ on) => (el.hidden = !on);
      const micChoice = offer(devices.mics);
      const spkChoice = canSink && offer(devices.speakers);
      show($.devices, !hidden && (micChoice || spkChoice));
      show($.micRow, micChoice);
      show($.spkRow, spkChoice);
      $.micLabel.textContent = t('microphone');
      $.spkLabel.textContent = t('speaker');
    },
  };
}
