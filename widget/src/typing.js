// Typed lines in a call, free of the DOM: what may be sent, and the transcript entry a sent line becomes.
//
// The text goes on LiveKit's `lk.chat` topic, as LiveKit agents take typed input. They do not publish it
// back on lk.transcription (the sender shows what it sent), so the line is shown at once, marked typed. An
// assistant that does echo it (the same text, from the visitor's own identity) is not shown twice: see
// isEcho().

/** The longest line the panel and sendText() send, in characters (HMS's sandbox takes up to 1000). */
export const MAX_TYPED = 500;

/** Microphone failures after which the panel offers to type instead (errors.js codes). */
export const MIC_CODES = ['mic_denied', 'no_mic', 'mic_in_use', 'mic_unsupported'];

/**
 * How sendText() rejects: an Error with a `code`.
 * @param {'not_live' | 'empty' | 'too_long'} code
 * @param {string} why
 */
export const typingError = (code, why) => Object.assign(new Error(`hms-webcall: ${why}`), { code });

/**
 * The line as it is sent (trimmed); throws (typingError) when it is empty or too long.
 * @param {unknown} text
 */
export function typedLine(text) {
  const line = String(text ?? '').trim();
  if (!line) throw typingError('empty', 'nothing to send');
  if ([...line].length > MAX_TYPED) throw typingError('too_long', `at most ${MAX_TYPED} characters`);
  return line;
}

/**
 * The transcript `entries` with the line the visitor just typed, marked typed.
 * @param {import('./transcript.js').Entry[]} entries
 * @param {string} line
 */
export const withTyped = (entries, line) => [
  ...entries,
  { id: `typed-${entries.length}`, role: /** @type {const} */ ('user'), text: line, final: true, typed: true },
];

/**
 * Whether an lk.transcription update from the visitor repeats a line they typed (an assistant that echoes
 * typed text): it is shown already.
 * @param {import('./transcript.js').Entry[]} entries
 * @param {string} text
 */
export const isEcho = (entries, text) => entries.some((e) => e.typed && e.text === text.trim());
