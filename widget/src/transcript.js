// The live transcript as a pure reducer over lk.transcription updates.
//
// One entry per lk.segment_id, in order of first appearance. Interim and final updates of a segment share
// its id: a later update replaces the text (user STT sends the whole text each time; assistant speech
// grows chunk by chunk as it is spoken, so an interrupted reply stays truncated to what was said).

/** @typedef {'user' | 'assistant'} Role */
/** @typedef {{id: string, role: Role, text: string, final: boolean, typed?: boolean}} Entry `typed`: sent as text */

/**
 * lk.transcription_final arrives as the strings "true"/"false" from HMS, as a boolean from some servers.
 * @param {unknown} value
 */
export function isFinal(value) {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

/**
 * Who spoke: the local participant is the user, anyone else in the room is the assistant.
 * @param {string} identity
 * @param {string} localIdentity
 * @returns {Role}
 */
export function roleOf(identity, localIdentity) {
  return identity && identity === localIdentity ? 'user' : 'assistant';
}

/**
 * entries + one update {id, role, text, final} -> new entries (the input is never mutated). An interim
 * update arriving after its segment's final is stale and ignored; an empty interim is not shown.
 * @param {Entry[]} entries
 * @param {{id: string, role: Role, text: string, final?: boolean}} update
 * @returns {Entry[]}
 */
export function applyUpdate(entries, update) {
  const { id, role, text, final } = update;
  const i = entries.findIndex((e) => e.id === id);
  if (i < 0) {
    if (!text.trim()) return entries;
    return [...entries, { id, role, text, final: !!final }];
  }
  const old = entries[i];
  if (old.final && !final) return entries;
  if (old.text === text && old.final === !!final) return entries;
  const next = entries.slice();
  next[i] = { id, role: old.role, text, final: !!final };
  return next;
}

/**
 * The call is over: whatever is still interim is as final as it will get.
 * @param {Entry[]} entries
 */
export function finalizeAll(entries) {
  return entries.some((e) => !e.final) ? entries.map((e) => (e.final ? e : { ...e, final: true })) : entries;
}

/**
 * Plain text for the clipboard: one "Name: text" line per entry.
 * @param {Entry[]} entries
 * @param {Record<Role, string>} names
 */
export function toText(entries, names) {
  return entries.map((e) => `${names[e.role]}: ${e.text.trim()}`).join('\n');
}
