// Ambient declarations for `tsc --checkJs` (npm run typecheck) only: nothing here reaches a bundle.

/** The call chunk's hashed file name, e.g. "call-AB12CD34.js": build.mjs replaces it in loader.js. */
declare const __HMS_CALL_CHUNK__: string;

interface Window {
  /** Safari before 14.1. */
  webkitAudioContext?: typeof AudioContext;
  /** The script-tag build's call chunk, once loaded: the exports of ui.js (build.mjs's globalName). */
  __hmsWebcallCall?: typeof import('./ui.js');
  /** What widget.js hands over to its call chunk (shared.js). */
  __hmsWebcallShared?: typeof import('./shared.js').SHARED;
}
