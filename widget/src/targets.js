// The built-in page actions aimed at elements the page opted in with data-hms-target="name": highlight,
// scroll_to, focus and fill. The name is looked up as the attribute's exact value (never as a selector);
// anything not opted in is refused (action_refused, reported as hms:error like any failed action). fill
// writes only into a visible, enabled text field that is not a password, payment or one-time-code field,
// and only after the visitor said Allow in the panel, unless the page marked the field
// data-hms-fill="without-asking".

// The kinds of field fill may write, by the start of el.type: text, tel, textarea, email, url, search,
// select-one, number, date(time-local); never a password, hidden, file, checkbox or button.
const TEXT = /^(te|em|ur|se|nu|da)/;

/** @param {string} message */
const refuse = (message) => Object.assign(new Error(message), { code: 'action_refused' });

/**
 * What the visitor sees as the element's name: the page's own label, never the element's value.
 * @param {HTMLElement} el
 */
export const targetLabel = (el) =>
  (
    el.dataset.hmsLabel ||
    el.ariaLabel ||
    /** @type {HTMLInputElement} */ (el).labels?.[0]?.textContent ||
    String(el.dataset.hmsTarget)
  ).trim();

/**
 * The built-ins for one panel: run(action) and clear() (the highlight).
 * @param {import('./panel.js').Refs} refs the question to the visitor (fill) and the polite announcements (said)
 * @param {() => import('./i18n.js').Translate} t
 * @param {Document} [doc]
 */
export function targetActions(refs, t, doc = document) {
  let clear = () => {};

  /** @param {string} question */
  const ask = (question) =>
    new Promise((resolve) => {
      // A newer question replaces an older one, whose fill then never writes (as if the answer were No).
      const back = /** @type {HTMLElement | null} */ (doc.activeElement);
      refs.said.textContent = refs.fillAsk.textContent = question;
      refs.fillNo.textContent = t()('no');
      refs.fillYes.textContent = t()('allow');
      const answer = (/** @type {boolean} */ yes) => () => {
        refs.fill.hidden = true;
        back?.focus();
        resolve(yes);
      };
      refs.fillNo.onclick = answer(false);
      refs.fillYes.onclick = answer(true);
      refs.fill.hidden = false;
      refs.fillNo.focus(); // the safe answer under a stray Enter
    });

  /**
   * Runs the built-in `name` (nothing for a name that is not one); rejects with action_refused.
   * @param {{name: string, args: Record<string, unknown>}} action
   */
  const run = async ({ name, args }) => {
    if (!['highlight', 'scroll_to', 'focus', 'fill'].includes(name)) return;
    // The name as the attribute's exact value, never a selector (the server allows [A-Za-z0-9_-] only).
    const el = /** @type {HTMLInputElement | null} */ (
      doc.querySelector(`[data-hms-target="${CSS.escape(`${args.target}`)}"]`)
    );
    if (!el) throw refuse(`${name}: no target ${args.target}`);
    const label = targetLabel(el);
    if (name === 'fill') {
      const value = `${args.value}`;
      // Payment and password fields by their autocomplete too (a card number is often type=text).
      if (
        !el.labels ||
        !TEXT.test(el.type) ||
        /cc-|password|one-time/.test(el.autocomplete) ||
        el.disabled ||
        el.readOnly ||
        !el.checkVisibility({ visibilityProperty: true })
      ) {
        throw refuse('fill: not a field it may fill');
      }
      if (el.dataset.hmsFill !== 'without-asking' && !(await ask(t()('fillAsk', { name: label.toLowerCase() })))) {
        throw refuse('fill: the visitor said No');
      }
      // The prototype's setter, as typing does, so that a framework's own value tracking sees the change.
      Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value')?.set?.call(el, value);
      if (el.value !== value) throw refuse('fill: the field does not take that value');
      for (const type of ['input', 'change']) el.dispatchEvent(new Event(type, { bubbles: true }));
    } else if (name === 'focus') {
      if (el.tabIndex < 0) el.tabIndex = -1; // an element that is not focusable becomes so, for the script only
      el.focus();
    } else {
      const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
      el.scrollIntoView({ behavior: reduce ? 'auto' : 'smooth', block: 'center' });
    }
    if (name !== 'highlight') return;
    clear();
    const style = el.style.cssText;
    // Inline and !important: above anything the page's CSS says. Orange-red at 4.6:1 against white and
    // against black alike, so the ring shows on a light page and a dark one.
    el.style.cssText += ';outline:3px solid #d14600!important;outline-offset:2px';
    const timer = setTimeout((clear = () => {
      clearTimeout(timer);
      el.style.cssText = style;
      clear = () => {};
    }), 4000);
    refs.said.textContent = t()('showing', { name: label });
  };
  return { run, clear: () => clear() };
}
