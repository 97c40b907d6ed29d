// Page actions: what the site's server lets its assistant do in this page. While the call is live the widget
// follows {prefix}/web-calls/<id>/actions (Server-Sent Events; the create response's actions_url, given only
// by sites that have page actions); each action becomes an hms:action event on the element and runs the
// handler the page registered for its name (element.actions.register), or the built-in `navigate`.
// An action's args are data: nothing here ever puts them into the DOM as markup or runs them as code.

import { answerPoster, toolAnswerer } from './page-tools.js';
import { postRequest } from './attributes.js';
import { CHANNEL } from './popout.js';
import { targetLabel } from './targets.js';

/** @typedef {{name: string, args: Record<string, unknown>, callId: string | null}} PageAction */
/** @typedef {(args: Record<string, unknown>, action: PageAction) => unknown} ActionHandler */
/** @typedef {Map<string, ActionHandler>} Handlers */

/**
 * The registry behind element.actions: register(name, fn) returns the function that unregisters it.
 * @param {Handlers} handlers
 */
export function actionRegistry(handlers) {
  return {
    /**
     * @param {string} name
     * @param {ActionHandler} fn
     */
    register(name, fn) {
      if (typeof name !== 'string' || !name || typeof fn !== 'function') {
        throw new TypeError('actions.register(name, fn): a name and a function');
      }
      handlers.set(name, fn);
      return () => {
        if (handlers.get(name) === fn) handlers.delete(name);
      };
    },
  };
}

/**
 * The built-in `navigate` ({url}): same-origin addresses only. In the pop-out window the page that opened
 * it goes there and the call goes on here; an address on the same page only moves to its anchor; any other
 * is a page load, which ends the call as leaving the page does (a single-page app registers its own
 * `navigate` to keep it).
 * @param {Record<string, unknown>} args
 * @param {{location: Location, opener?: Window | null, popoutWindow?: boolean}} win
 */
export function navigate(args, win) {
  const here = win.location;
  const url = new URL(String(args?.url ?? ''), here.href);
  if (url.origin !== here.origin || !/^https?:$/.test(url.protocol)) {
    throw Object.assign(new Error(`navigate: ${url.origin} is not this site`), { code: 'action_refused' });
  }
  let opener = null;
  try {
    opener = win.popoutWindow && win.opener && !win.opener.closed && win.opener.location.origin === here.origin;
  } catch {
    opener = null; // another origin's page: not ours to move
  }
  if (opener) return /** @type {Window} */ (win.opener).location.assign(url.href);
  if (url.href.split('#')[0] === here.href.split('#')[0] && url.hash) return void (here.hash = url.hash);
  here.assign(url.href);
}

/**
 * @typedef {object} Runner
 * @property {Handlers} handlers
 * @property {(type: string, detail: object) => void} emit dispatches hms:<type> on the element
 * @property {(action: PageAction) => unknown} builtin what to do for a name the page has no handler for
 * @property {Pick<Console, 'error'>} [console]
 */

/**
 * A page action that failed (a throwing or rejecting handler, an event that is not JSON): to the console and
 * hms:error, never thrown.
 * @param {unknown} err
 * @param {string} name the action's name ('?' when it could not be read)
 * @param {Pick<Runner, 'emit' | 'console'>} r
 */
function failed(err, name, { emit, console: out = console }) {
  const e = /** @type {{code?: string, message?: string} | null} */ (err);
  out.error(`hms-webcall: the page action "${name}" failed:`, err);
  emit('error', { code: e?.code || 'action_failed', message: String(e?.message || err), action: name });
}

/**
 * One action in this page: hms:action, then its handler (or the built-in); a failure is reported, never
 * thrown.
 * @param {unknown} data the action as the server sent it
 * @param {Runner} r
 */
export function runAction(data, r) {
  const { handlers, builtin } = r;
  const d = /** @type {{name?: unknown, args?: unknown, callId?: string}} */ (data || {});
  /** @type {PageAction} */
  const action = {
    name: String(d.name),
    args: d.args && typeof d.args === 'object' ? /** @type {Record<string, unknown>} */ (d.args) : {},
    callId: d.callId ?? null,
  };
  r.emit('action', action);
  const handler = handlers.get(action.name);
  try {
    const done = handler ? handler(action.args, action) : builtin(action);
    if (done && typeof (/** @type {Promise<unknown>} */ (done).then) === 'function') {
      /** @type {Promise<unknown>} */ (done).catch((err) => failed(err, action.name, r));
    }
  } catch (err) {
    failed(err, action.name, r);
  }
}

/**
 * Follows the call's actions until close() or the server's `end`.
 * @param {Runner & {url: string, credentials: boolean, EventSource?: typeof EventSource,
 *   onTool?: (data: string) => unknown}} o `url` is the stream's address (absolute); `credentials` sends
 *   cookies cross-origin (credentials="include"); `onTool` takes each page tool request (page-tools.js)
 */
export function followActions(o) {
  const source = new (o.EventSource || EventSource)(o.url, { withCredentials: o.credentials });
  source.addEventListener('action', (event) => {
    let data;
    try {
      data = JSON.parse(/** @type {MessageEvent} */ (event).data);
    } catch (err) {
      return failed(err, '?', o);
    }
    runAction(data, o);
  });
  if (o.onTool) source.addEventListener('tool', (event) => o.onTool?.(/** @type {MessageEvent} */ (event).data));
  source.addEventListener('end', () => source.close());
  return () => source.close();
}

/**
 * What the panel calls on every state change: follows the call's actions from live until it ends (a
 * network blink, `reconnecting`, does not end it). In the pop-out window, an action the window has no
 * handler for goes to the site's page that opened it (over the pop-out's BroadcastChannel), which runs it
 * as its own: the visitor browses there.
 * @param {object} o
 * @param {{readonly actionsUrl: string | null}} o.controller
 * @param {() => import('./attributes.js').Config} o.config
 * @param {Handlers} o.handlers
 * @param {import('./page-tools.js').ToolHandlers} [o.tools] the page's tool handlers (element.tools)
 * @param {(type: string, detail: object) => void} o.emit
 * @param {Window} [o.win]
 * @param {BroadcastChannel | null} [o.channel] the pop-out's channel (popout.js)
 * @param {(action: PageAction) => unknown} [o.targets] the built-ins aimed at the page's targets (targets.js)
 */
export function actionsFollower({
  controller,
  config,
  handlers,
  tools = new Map(),
  emit,
  targets = () => undefined,
  win = window,
  channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null,
}) {
  /** @type {(() => void) | null} */
  let stop = null;
  const here = () => {
    const cfg = config();
    const where = { location: win.location, opener: win.opener, popoutWindow: cfg.popoutWindow };
    return { cfg, go: (/** @type {PageAction} */ a) => (a.name === 'navigate' ? navigate(a.args, where) : targets(a)) };
  };
  if (channel) {
    channel.addEventListener('message', ({ data }) => {
      const { cfg, go } = here();
      if (data?.type === 'popout-action' && cfg.popout && !cfg.popoutWindow) {
        runAction(data.action, { handlers, emit, builtin: go });
      }
    });
  }
  return (/** @type {string} */ state) => {
    if (state === 'live' && !stop && controller.actionsUrl) {
      const { cfg, go } = here();
      const url = new URL(controller.actionsUrl, new URL(cfg.endpoint, win.location.href)).href;
      // The page's targets (names and labels, never values) for the site's tools: now, and after each
      // action, which may have changed the page (a single-page app's navigate). Best effort: never in the way.
      const doc = win.document;
      const report = () =>
        Promise.resolve()
          .then(() => {
            const found = /** @type {NodeListOf<HTMLElement>} */ (doc.querySelectorAll('[data-hms-target]'));
            const targets = [...found].slice(0, 50).map((el) => ({ name: el.dataset.hmsTarget, label: targetLabel(el).slice(0, 80) }));
            // With the create's CSRF header and credentials: a site that guards every POST takes it too.
            const meta = (/** @type {string} */ name) =>
              /** @type {HTMLMetaElement | null} */ (doc.querySelector(`meta[name="${CSS.escape(name)}"]`))?.content || '';
            return win.fetch(url.replace('/actions', '/targets'), postRequest(cfg, { targets }, { cookies: doc.cookie, meta }));
          })
          .catch(() => {});
      report();
      stop = followActions({
        url,
        credentials: cfg.credentials === 'include',
        handlers,
        emit: (type, detail) => {
          if (type === 'action') setTimeout(report, 1000);
          emit(type, detail);
        },
        onTool: toolAnswerer({ tools, emit, post: answerPoster(cfg, url) }),
        builtin: (a) =>
          cfg.popoutWindow && a.name !== 'navigate' ? channel?.postMessage({ type: 'popout-action', action: a }) : go(a),
      });
    } else if (stop && state !== 'live' && state !== 'reconnecting') {
      // Through a network blink the stream stays: EventSource reconnects by itself with Last-Event-ID,
      // where a new one would have the whole log sent again and every action already run would run twice.
      stop();
      stop = null;
    }
  };
}
