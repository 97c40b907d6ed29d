// The visitor's rating of their call (then, optionally, a comment on it): POST
// {prefix}/web-calls/<call_id>/feedback, with the create response's feedback_token for an anonymous caller.

import { postRequest } from './attributes.js';

export const FEEDBACK_MAX = 500; // characters of comment the feedback route takes

/**
 * Sends a rating. Resolves to 'sent', 'forbidden' (not this visitor's call), 'already_rated' or 'failed'
 * (the network, or any other answer: the visitor may try again).
 * @param {import('./deps.js').Deps} deps the controller's dependencies (fetch, cookies, meta)
 * @param {import('./attributes.js').Config} cfg
 * @param {string} callId
 * @param {string | null} token the create response's feedback_token
 * @param {string} rating
 * @param {string} [comment]
 * @returns {Promise<'sent' | 'forbidden' | 'already_rated' | 'failed'>}
 */
export async function postFeedback(deps, cfg, callId, token, rating, comment = '') {
  /** @type {{rating: string, comment?: string}} */
  const body = { rating };
  const text = String(comment).trim().slice(0, FEEDBACK_MAX);
  if (text) body.comment = text;
  /** @type {Record<string, string>} */
  const headers = token ? { 'X-HMS-Feedback-Token': token } : {};
  const url = `${cfg.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(callId)}/feedback`;
  try {
    // keepalive: a rating sent just before the visitor leaves the page still arrives.
    const init = { ...postRequest(cfg, body, { cookies: deps.cookies(), meta: deps.meta, headers }), keepalive: true };
    const res = await deps.fetch(url, init);
    if (res.ok) return 'sent';
    const code = (await res.json().catch(() => null))?.error?.code;
    if (res.status === 409 || code === 'already_rated') return 'already_rated';
    if (res.status === 403 || code === 'forbidden') return 'forbidden';
  } catch {
    // the network: 'failed' below
  }
  return 'failed';
}
