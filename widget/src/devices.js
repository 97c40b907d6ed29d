// Microphone and speaker choice, pure: enumerateDevices() -> what the panel offers. Labels are empty until
// the page may use the microphone, so the choice appears once permission is granted.

/** @typedef {{id: string, label: string}} Device */

/**
 * {mics: [{id, label}], speakers: [{id, label}]} from enumerateDevices().
 * @param {MediaDeviceInfo[]} devices
 * @returns {{mics: Device[], speakers: Device[]}}
 */
export function deviceLists(devices) {
  const pick = (/** @type {MediaDeviceKind} */ kind) =>
    devices.filter((d) => d.kind === kind && d.deviceId && d.label).map((d) => ({ id: d.deviceId, label: d.label }));
  return { mics: pick('audioinput'), speakers: pick('audiooutput') };
}

/**
 * The option to show as selected: the remembered device while it is there, else the browser's default.
 * @param {Device[]} list
 * @param {string | null} id
 */
export function selectedDevice(list, id) {
  return list.some((d) => d.id === id) ? /** @type {string} */ (id) : list[0]?.id || '';
}

/** A choice is only worth offering between two or more devices. */
export const offer = (/** @type {Device[]} */ list) => list.length > 1;
