// Proof of work (ALTCHA's scheme): find n ≤ maxnumber with SHA-256(salt + n) === challenge, then send back
// base64(JSON) of the challenge with that number. The search runs in a Web Worker so the page stays
// responsive; where a strict Content-Security-Policy forbids blob: workers it runs on the main thread
// instead. It starts while the microphone prompt is still up, so it costs the visitor no time.

/**
 * A proof-of-work challenge as the backend sends it.
 * @typedef {{algorithm: string, challenge: string, salt: string, signature: string, maxnumber: number}} Challenge
 */

/**
 * A SHA-256 function of ASCII strings, answering lower-case hex. Written out rather than crypto.subtle:
 * subtle exists only in secure contexts and answers one promise per hash; and this factory must stand
 * alone, because the worker's program is made from its source text.
 * @returns {(text: string) => string}
 */
export function makeSha256() {
  // The fractional parts of the square and cube roots of the first primes (FIPS 180-4, 4.2.2 and 5.3.3).
  /** @type {number[]} */
  const K = [];
  /** @type {number[]} */
  const H0 = [];
  for (let n = 2, found = 0; found < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (!prime) continue;
    if (found < 8) H0[found] = ((Math.sqrt(n) % 1) * 2 ** 32) | 0;
    K[found++] = ((Math.cbrt(n) % 1) * 2 ** 32) | 0;
  }
  const w = new Int32Array(64);
  return (text) => sha256(text, K, H0, w);
}

/**
 * @param {string} text
 * @param {number[]} K
 * @param {number[]} H0
 * @param {Int32Array} w
 */
function sha256(text, K, H0, w) {
  const H = H0.slice();
  const bytes = [];
  for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i) & 0xff);
  const bits = bytes.length * 8;
  bytes.push(0x80);
  while (bytes.length % 64 !== 56) bytes.push(0);
  for (let i = 7; i >= 0; i--) bytes.push(i > 3 ? 0 : (bits >>> (i * 8)) & 0xff);
  const rotr = (/** @type {number} */ x, /** @type {number} */ r) => (x >>> r) | (x << (32 - r));
  for (let block = 0; block < bytes.length; block += 64) {
    for (let i = 0; i < 16; i++) {
      const j = block + i * 4;
      w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7]; // prettier-ignore
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h; // prettier-ignore
  }
  return H.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');
}

/** SHA-256 of an ASCII string, as lower-case hex. */
export const sha256Hex = makeSha256();

/**
 * Search [0, maxnumber] for the number whose SHA-256(salt + n) is the challenge; `null` when there is none.
 * @param {{challenge: string, salt: string, maxnumber: number}} challenge
 * @param {(text: string) => string} [hash]
 */
export function findNumber({ challenge, salt, maxnumber }, hash = sha256Hex) {
  for (let n = 0; n <= maxnumber; n++) if (hash(salt + n) === challenge) return n;
  return null;
}

/**
 * The `challenge` field of the create body for a solved challenge.
 * @param {Challenge} challenge
 * @param {number} number
 */
export function encodeSolution(challenge, number) {
  const { algorithm, salt, signature } = challenge;
  return btoa(JSON.stringify({ algorithm, challenge: challenge.challenge, number, salt, signature }));
}

/**
 * Whether `value` is a challenge this widget can solve.
 * @param {any} value anything the server sent
 * @returns {value is Challenge}
 */
export function isChallenge(value) {
  return (
    !!value &&
    value.algorithm === 'SHA-256' &&
    typeof value.challenge === 'string' &&
    typeof value.salt === 'string' &&
    typeof value.signature === 'string' &&
    Number.isInteger(value.maxnumber) &&
    value.maxnumber >= 0
  );
}

// The worker's whole program: findNumber, with the messages around it.
const WORKER_SOURCE = `const sha256 = ${sha256.toString()};
const makeSha256 = ${makeSha256.toString()};
const findNumber = ${findNumber.toString()};
onmessage = (event) => postMessage(findNumber(event.data, makeSha256()));`;

/**
 * @param {Challenge} challenge
 * @returns {Promise<number | null>}
 */
function inWorker(challenge) {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return new Promise((resolve, reject) => {
    /** @type {Worker} */
    let worker;
    try {
      worker = new Worker(url);
    } catch (err) {
      URL.revokeObjectURL(url);
      reject(err);
      return;
    }
    /** @type {<T>(fn: (value: T) => void) => (value: T) => void} */
    const done = (fn) => (value) => {
      worker.terminate();
      URL.revokeObjectURL(url);
      fn(value);
    };
    worker.onmessage = done((/** @type {MessageEvent<number | null>} */ event) => resolve(event.data));
    worker.onerror = done((/** @type {ErrorEvent} */ event) => {
      event.preventDefault?.();
      reject(new Error('challenge worker failed'));
    });
    worker.postMessage({ challenge: challenge.challenge, salt: challenge.salt, maxnumber: challenge.maxnumber });
  });
}

/**
 * Solve `challenge`: the create body's `challenge` value, or `null` when it cannot be solved. Off the main
 * thread where the page allows a worker.
 * @param {unknown} challenge
 * @param {{useWorker?: boolean}} [options]
 * @returns {Promise<string | null>}
 */
export async function solveChallenge(challenge, { useWorker = typeof Worker === 'function' } = {}) {
  if (!isChallenge(challenge)) return null;
  let number = null;
  try {
    number = useWorker ? await inWorker(challenge) : findNumber(challenge);
  } catch {
    number = findNumber(challenge); // a CSP without blob: workers: the main thread it is
  }
  return number === null ? null : encodeSolution(challenge, number);
}

/**
 * The create body's `challenge`: the page's own verifier token (element.challenge), or the solution of
 * the backend's proof-of-work challenge (`fresh`, or fetched from {prefix}/challenge); null when there
 * is none. Never rejects: without a proof the backend answers challenge_required, which is handled.
 * @param {import('./deps.js').Deps} deps the controller's dependencies
 * @param {import('./attributes.js').Config} cfg
 * @param {unknown} [fresh]
 * @returns {Promise<string | null>}
 */
export async function proofForCreate(deps, cfg, fresh = null) {
  try {
    const token = deps.challengeToken ? await deps.challengeToken() : null;
    if (token) return String(token);
    let challenge = fresh;
    if (!challenge && deps.solveChallenge) {
      // A sibling of the create endpoint: {prefix}/web-calls -> {prefix}/challenge.
      const res = await deps.fetch(new URL('challenge', cfg.endpoint).href, {
        credentials: cfg.credentials,
        mode: 'cors',
        cache: 'no-store',
        headers: { Accept: 'application/json' },
      });
      challenge = res.ok ? (await res.json())?.challenge : null;
    }
    return challenge && deps.solveChallenge ? await deps.solveChallenge(challenge) : null;
  } catch {
    return null;
  }
}
