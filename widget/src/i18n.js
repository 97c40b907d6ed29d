// Language choice and string lookup. Every key can be overridden per element (the `strings` attribute or
// property) or for the whole page (customElements.get('hms-webcall').strings.<lang> = {...}), which is also
// how a page adds a language. The built-in tables are in strings.js (shipped with the call chunk).

/** @typedef {Record<string, string>} Strings a language's strings by key */
/** @typedef {Record<string, Strings | undefined>} Tables strings by language */
/** @typedef {(key: string, vars?: Record<string, string | number>) => string} Translate */

// The only strings the loader needs itself: its launcher, and the error when the call code cannot load.
/** @type {Tables} */
export const SHELL = {
  en: {
    start: 'Talk to AI',
    network: "Can't reach the server. Check your internet connection, then try again.",
  },
  nl: {
    start: 'Praat met AI',
    network: 'De server is niet bereikbaar. Controleer je internetverbinding en probeer het opnieuw.',
  },
};

/**
 * Picks a language we have strings for (a key of one of `tables`): the explicit choice, then the page's,
 * then the browser's; English when none matches. Only the primary subtag counts ("nl-BE" -> "nl").
 * @param {Array<string | null | undefined>} candidates
 * @param {...Tables} tables
 */
export function resolveLang(candidates, ...tables) {
  for (const c of candidates) {
    const primary = String(c || '').toLowerCase().split(/[-_]/)[0];
    if (primary && tables.some((t) => t[primary])) return primary;
  }
  return 'en';
}

/**
 * A translate function over the built-in `tables` (strings.js). Precedence, lowest first: built-in English,
 * the page's English, the built-in language, the page's language (`page` = HMSWebCallElement.strings), then
 * the element's own overrides.
 * @param {Tables} tables
 * @param {string} lang
 * @param {Strings} [overrides]
 * @param {Tables} [page]
 * @returns {Translate}
 */
export function translator(tables, lang, overrides = {}, page = {}) {
  const table = { ...tables.en, ...page.en, ...tables[lang], ...page[lang], ...overrides };
  return (key, vars) =>
    String(table[key] ?? key).replace(/\{(\w+)\}/g, (m, name) => (vars && name in vars ? String(vars[name]) : m));
}

/**
 * "1:05" for 65 seconds.
 * @param {number} seconds
 */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * A wait as words: "45 s", "2 min" (rounded up: never promise a shorter wait than the server asked).
 * @param {number} seconds
 * @param {Translate} t
 */
export function duration(seconds, t) {
  const s = Math.max(1, Math.ceil(seconds));
  return s < 90 ? t('seconds', { n: s }) : t('minutes', { n: Math.ceil(s / 60) });
}
