// Page tools: questions the site's server lets its assistant ask this page (@webcall.page_tool). A `tool`
// event on the call's action stream names the tool and carries a request; the handler the page registered
// for that name (element.tools.register) answers with JSON data, which is posted to the request's
// answerUrl, authorised as the stream is (the visitor's cookies, or the stream's token in a header) and
// checked there against the tool's schema. Each request is answered once, even when a reconnected stream
// replays it; a handler that throws, or returns what is not JSON, answers {failed: true} at once.

import { postRequest } from './attributes.js';

/**
 * @typedef {{name: string, args: Record<string, unknown>, callId: string, request: string,
 *   answerUrl: string, timeout: number}} ToolRequest
 */
/** @typedef {(args: Record<string, unknown>, request: ToolRequest) => unknown} ToolHandler */
/** @typedef {Map<string, ToolHandler>} ToolHandlers */

/**
 * What to do with each `tool` event's data.
 * @param {object} o
 * @param {ToolHandlers} o.tools the page's handlers
 * @param {(url: string, body: string) => Promise<unknown>} o.post sends an answer (JSON text)
 * @param {(type: string, detail: object) => void} o.emit
 * @param {Pick<Console, 'error'>} [o.console]
 */
export function toolAnswerer({ tools, post, emit, console: out = console }) {
  /** @type {Set<string>} */
  const answered = new Set();
  return async (/** @type {string} */ data) => {
    /** @type {ToolRequest} */
    let request;
    try {
      request = JSON.parse(data);
    } catch {
      return;
    }
    if (!request?.request || answered.has(request.request)) return;
    answered.add(request.request);
    const handler = tools.get(request.name);
    let body = '{"failed":true}';
    try {
      if (!handler) throw new Error('no handler registered');
      body = JSON.stringify({ answer: await handler(request.args || {}, request) });
    } catch (err) {
      out.error(`hms-webcall: the page tool "${request.name}" failed:`, err);
      const e = /** @type {{message?: string} | null} */ (err);
      emit('error', { code: 'tool_failed', tool: request.name, message: String(e?.message || err) });
    }
    await post(request.answerUrl, body).catch(() => {});
  };
}

/**
 * Posts answers as the widget's other requests go (credentials, CSRF header), with the anonymous caller's
 * stream token (from the stream's address) in X-HMS-Actions-Token.
 * @param {import('./attributes.js').Config} cfg
 * @param {string} streamUrl the action stream's absolute address
 */
export function answerPoster(cfg, streamUrl) {
  const stream = new URL(streamUrl);
  const token = stream.searchParams.get('token');
  const meta = (/** @type {string} */ name) =>
    /** @type {HTMLMetaElement | null} */ (document.querySelector(`meta[name="${CSS.escape(name)}"]`))?.content || '';
  return (/** @type {string} */ url, /** @type {string} */ body) => {
    /** @type {Record<string, string>} */
    const headers = token ? { 'X-HMS-Actions-Token': token } : {};
    const init = postRequest(cfg, {}, { cookies: document.cookie, meta, headers });
    return fetch(new URL(url, stream).href, { ...init, body });
  };
}
