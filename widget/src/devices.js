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

// Following a headset plugged in or pulled out mid-call (devicechange): the visitor's chosen microphone
// while it is there, else the system's default, which is what a newly plugged-in headset usually becomes.

/**
 * The microphone to use among `devices`: the chosen one while listed, else the default (Chromium's
 * "default" entry stands for a device it lists again under its own id, in the same group).
 * @param {MediaDeviceInfo[]} devices
 * @param {string | null} chosen the remembered choice ("default" or none: follow the default)
 * @returns {MediaDeviceInfo | undefined}
 */
export function micToUse(devices, chosen) {
  const mics = devices.filter((d) => d.kind === 'audioinput' && d.deviceId);
  const def = mics.find((d) => d.deviceId === 'default') || mics[0];
  return (
    mics.find((d) => d.deviceId === chosen && chosen !== 'default') ||
    (def && (mics.find((d) => d !== def && d.groupId && d.groupId === def.groupId) || def))
  );
}

/**
 * Whether the open microphone (its track's settings) is `device`.
 * @param {MediaTrackSettings} settings
 * @param {MediaDeviceInfo} device
 */
export const isInUse = (settings, device) =>
  settings.deviceId === device.deviceId || (!!device.groupId && settings.groupId === device.groupId);
