// The live transcript: one <li> per segment, updated in place, so screen readers (the list is aria-live)
// hear what is new, not the whole list again; it follows new lines until the reader scrolls up.

/** @typedef {import('./transcript.js').Entry} Entry */

/**
 * The transcript list `list`.
 * @param {HTMLElement} list
 */
export function transcriptView(list) {
  const items = new Map(); // <li> by segment id
  let stick = true;
  list.addEventListener('scroll', () => {
    stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 24;
  });

  /**
   * @param {Entry[]} entries
   * @param {Record<string, string>} who the name shown for each role
   */
  return function render(entries, who) {
    if (!entries.length) {
      list.textContent = '';
      items.clear();
      stick = true;
    }
    for (const e of entries) {
      let li = items.get(e.id);
      if (!li) {
        li = document.createElement('li');
        li.append(document.createElement('b'), document.createElement('span'));
        items.set(e.id, li);
        list.append(li);
      }
      li.className = e.final ? e.role : `${e.role} interim`;
      const typed = e.typed ? ' entry-typed' : '';
      li.setAttribute('part', `entry entry-${e.role}${e.final ? '' : ' entry-interim'}${typed}`);
      // Screen readers wait for a line to be final instead of reading it again word by word.
      li.setAttribute('aria-busy', String(!e.final));
      // A typed line says so (who.typed: "typed"), for the eye and for screen readers alike.
      /** @type {ChildNode} */ (li.firstChild).textContent = e.typed ? `${who[e.role]} · ${who.typed}` : who[e.role];
      const said = /** @type {ChildNode} */ (li.lastChild);
      if (said.textContent !== e.text) said.textContent = e.text;
    }
    if (stick) list.scrollTop = list.scrollHeight;
  };
}
