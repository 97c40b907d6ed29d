// The create request of one call (POST {prefix}/web-calls) and what its answer means for the widget: the
// call's token and room, or the error the visitor is shown. Free of the DOM: `deps` (deps.js) brings fetch.

import { createRequest } from './attributes.js';
import { proofForCreate } from './challenge.js';
import { backendError, refusedOrigin } from './errors.js';

/** @typedef {import('./deps.js').CreatedCall} CreatedCall */
/** @typedef {import('./state.js').CallError} CallError */

/**
 * Asks the backend for a call. `proof` is the create's challenge value being worked out (challenge.js); a
 * backend that still wants one (challenge_required, with the challenge it sent) is asked once more with
 * that one solved. Resolves to {call}, {error}, or null once `current()` says the call was cancelled
 * (`signal` aborts the request then).
 * @param {import('./deps.js').Deps} deps
 * @param {import('./attributes.js').Config} config
 * @param {{proof: Promise<string | null> | null, signal: AbortSignal, current: () => boolean}} request
 * @returns {Promise<{call: CreatedCall} | {error: CallError} | null>}
 */
export async function requestCall(deps, config, { proof, signal, current }) {
  for (let challenged = false; ; challenged = true) {
    const challenge = await (proof || null);
    if (!current()) return null;
    let init;
    try {
      const request = { context: deps.context(), consent: deps.consent?.(), challenge, cookies: deps.cookies() };
      init = createRequest(config, { ...request, meta: deps.meta });
    } catch (err) {
      // A context JSON cannot encode (a cycle, a BigInt) is the page's mistake; the visitor still needs
      // the call to fail cleanly, with the microphone released.
      console.warn('hms-webcall: the context cannot be sent as JSON:', err);
      return { error: { code: 'invalid_request' } };
    }
    let res;
    let body = null;
    try {
      res = await deps.fetch(config.endpoint, { ...init, signal });
      body = await res.json().catch(() => null);
    } catch {
      if (!current()) return null; // cancelled: the abort is why it failed
      const code = (await refusedOrigin(deps, config.endpoint)) ? 'forbidden_origin' : 'network';
      return current() ? { error: { code } } : null;
    }
    if (!current()) return null;
    if (res.status === 401 && body?.error?.code === 'challenge_required' && !challenged) {
      // The backend wants a proof this create did not carry: work out the one it sent, then ask again.
      proof = proofForCreate(deps, config, body.error.challenge || null);
      continue;
    }
    if (!res.ok) return { error: backendError(res.status, body, res.headers.get('Retry-After'), deps.now()) };
    if (!body || !body.token || !body.server_url) return { error: { code: 'upstream_error', status: res.status } };
    return { call: body };
  }
}
