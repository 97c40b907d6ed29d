// Keeps the phone's screen on during a live call, where the browser has the Screen Wake Lock API: a screen
// that dims and locks mid-sentence also stops the page's audio on some phones. The browser lets go of the
// lock when the tab is hidden; hold(true) again when the visitor comes back asks for it anew.

/** A hold(on) that holds the screen awake while `on` (the call is live) and lets it sleep again after. */
export function screenWakeLock() {
  /** @type {Promise<WakeLockSentinel | null> | null | undefined} */
  let lock = null;
  /** @param {boolean} on */
  return (on) => {
    lock?.then((sentinel) => sentinel?.release()).catch(() => {});
    // Refused (a hidden tab, a policy, low battery): the screen may sleep as it did before.
    lock = on ? navigator.wakeLock?.request('screen').catch(() => null) : null;
  };
}
