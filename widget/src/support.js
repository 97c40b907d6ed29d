// Whether this browser can make a call at all. A call is WebRTC, and some browsers have none: builds that
// leave it out (Debian's WebKitGTK), privacy settings and extensions that remove it. Checked in the click
// before anything is spent: no microphone prompt for a call that cannot happen, and no call created (credit,
// a concurrent slot) only to fail connecting. livekit-client's isBrowserSupported() also wants addTrack or
// addTransceiver on it, which every browser the build targets (build.mjs) has wherever it has the class.

/** The page has WebRTC's RTCPeerConnection. */
export const canCall = () => typeof globalThis.RTCPeerConnection == 'function';
