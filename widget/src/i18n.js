// Built-in strings (English and Dutch). Every key can be overridden per element (the `strings`
// attribute or property) or for the whole page (HMSWebCallElement.strings.<lang>.<key> = ...), and a page
// can add a language by adding a table there.

export const STRINGS = {
  en: {
    start: 'Talk to AI',
    again: 'Call again',
    retry: 'Try again',
    retryIn: 'Try again in {wait}',
    you: 'You',
    assistant: 'Assistant',
    transcript: 'Transcript',
    preflight: 'Allow the microphone to start…',
    requesting: 'Starting the call…',
    connecting: 'Connecting…',
    waiting: 'Waiting for the assistant…',
    live: 'Connected',
    listening: 'Listening',
    speaking: '{name} is speaking',
    reconnecting: 'Connection unstable, reconnecting…',
    ended: 'Call ended',
    error: 'Call failed',
    timer: 'Call time',
    left: '{time} left',
    leftSoon: 'The call ends in {time}.',
    mute: 'Mute',
    unmute: 'Unmute',
    muted: 'Your microphone is muted',
    hangup: 'End call',
    close: 'Close',
    copy: 'Copy transcript',
    copied: 'Copied',
    audio: 'Tap to enable audio',
    audioHint: 'Your browser blocked the sound.',
    seconds: '{n} s',
    minutes: '{n} min',
    // End reasons (hms:ended detail.reason)
    user_hangup: 'You ended the call.',
    agent_hangup: 'The assistant ended the call.',
    max_duration: 'Time limit reached: calls last at most {time}.',
    connection_lost: 'The connection was lost.',
    agent_timeout: "The assistant didn't join the call. Please try again in a moment.",
    ended_error: 'The call ended because of an error.',
    // Errors (hms:error detail.code)
    mic_denied: 'Microphone access is blocked for this site.',
    mic_denied_chrome: 'Click the icon left of the address bar, set Microphone to Allow, then try again.',
    mic_denied_firefox:
      'Click the crossed-out microphone in the address bar, clear the block, then try again.',
    mic_denied_safari: 'Open Safari › Settings for this website, set Microphone to Allow, then try again.',
    mic_denied_other: "Allow the microphone for this site in your browser's settings, then try again.",
    no_mic: 'No microphone found. Connect one, then try again.',
    mic_in_use: 'Your microphone is in use by another app or tab. Close it, then try again.',
    mic_unsupported: 'This page cannot use a microphone: it needs a secure (https) address.',
    network: "Can't reach the server. Check your internet connection, then try again.",
    invalid_request: 'The call request was refused. Reload the page, then try again.',
    unauthenticated: 'Please sign in to start a call.',
    forbidden_origin: "Calls can't be started from this website.",
    rate_limited: "You've started many calls in a short time. You can call again in {wait}.",
    rate_limited_nowait: "You've started many calls in a short time. Please wait a moment, then try again.",
    too_many_calls: 'You already have a call in progress. End it first, then try again.',
    busy: 'All lines are busy right now. You can call again in {wait}.',
    busy_nowait: 'All lines are busy right now. Please try again shortly.',
    unavailable: 'Calls are unavailable right now. Please try again later.',
    misconfigured: "Calls aren't set up correctly on this site yet. Please try again later.",
    upstream_error: 'The voice service had a problem. Please try again.',
    upstream_timeout: "The voice service didn't answer in time. Please try again.",
    connect_failed: "Couldn't connect the call. Please try again.",
    unknown: 'Something went wrong. Please try again.',
  },
  nl: {
    start: 'Praat met AI',
    again: 'Opnieuw bellen',
    retry: 'Opnieuw proberen',
    retryIn: 'Opnieuw over {wait}',
    you: 'Jij',
    assistant: 'Assistent',
    transcript: 'Transcript',
    preflight: 'Sta de microfoon toe om te beginnen…',
    requesting: 'Gesprek starten…',
    connecting: 'Verbinden…',
    waiting: 'Wachten op de assistent…',
    live: 'Verbonden',
    listening: 'Luistert',
    speaking: '{name} spreekt',
    reconnecting: 'Verbinding instabiel, opnieuw verbinden…',
    ended: 'Gesprek beëindigd',
    error: 'Gesprek mislukt',
    timer: 'Gespreksduur',
    left: 'nog {time}',
    leftSoon: 'Het gesprek stopt over {time}.',
    mute: 'Dempen',
    unmute: 'Dempen opheffen',
    muted: 'Je microfoon is gedempt',
    hangup: 'Ophangen',
    close: 'Sluiten',
    copy: 'Transcript kopiëren',
    copied: 'Gekopieerd',
    audio: 'Tik om geluid aan te zetten',
    audioHint: 'Je browser blokkeerde het geluid.',
    seconds: '{n} s',
    minutes: '{n} min',
    user_hangup: 'Je hebt het gesprek beëindigd.',
    agent_hangup: 'De assistent heeft het gesprek beëindigd.',
    max_duration: 'Tijdslimiet bereikt: een gesprek duurt maximaal {time}.',
    connection_lost: 'De verbinding is verbroken.',
    agent_timeout: 'De assistent kwam niet in het gesprek. Probeer het zo opnieuw.',
    ended_error: 'Het gesprek is door een fout beëindigd.',
    mic_denied: 'De microfoon is voor deze site geblokkeerd.',
    mic_denied_chrome:
      'Klik op het pictogram links van de adresbalk, zet Microfoon op Toestaan en probeer het opnieuw.',
    mic_denied_firefox:
      'Klik op de doorgestreepte microfoon in de adresbalk, hef de blokkade op en probeer het opnieuw.',
    mic_denied_safari:
      'Open Safari › Instellingen voor deze website, zet Microfoon op Sta toe en probeer het opnieuw.',
    mic_denied_other:
      'Sta de microfoon voor deze site toe in de instellingen van je browser en probeer het opnieuw.',
    no_mic: 'Geen microfoon gevonden. Sluit er een aan en probeer het opnieuw.',
    mic_in_use: 'Je microfoon wordt door een andere app of tab gebruikt. Sluit die en probeer het opnieuw.',
    mic_unsupported: 'Deze pagina kan geen microfoon gebruiken: daarvoor is een beveiligd (https) adres nodig.',
    network: 'De server is niet bereikbaar. Controleer je internetverbinding en probeer het opnieuw.',
    invalid_request: 'Het verzoek werd geweigerd. Herlaad de pagina en probeer het opnieuw.',
    unauthenticated: 'Log in om een gesprek te starten.',
    forbidden_origin: 'Vanaf deze website kan geen gesprek worden gestart.',
    rate_limited: 'Je hebt kort na elkaar veel gesprekken gestart. Je kunt over {wait} weer bellen.',
    rate_limited_nowait: 'Je hebt kort na elkaar veel gesprekken gestart. Wacht even en probeer het opnieuw.',
    too_many_calls: 'Je hebt al een gesprek lopen. Beëindig dat eerst en probeer het opnieuw.',
    busy: 'Alle lijnen zijn bezet. Je kunt over {wait} weer bellen.',
    busy_nowait: 'Alle lijnen zijn bezet. Probeer het zo opnieuw.',
    unavailable: 'Bellen is nu niet mogelijk. Probeer het later opnieuw.',
    misconfigured: 'Bellen is op deze site nog niet goed ingesteld. Probeer het later opnieuw.',
    upstream_error: 'De spraakdienst had een probleem. Probeer het opnieuw.',
    upstream_timeout: 'De spraakdienst antwoordde niet op tijd. Probeer het opnieuw.',
    connect_failed: 'Het gesprek kon niet worden verbonden. Probeer het opnieuw.',
    unknown: 'Er ging iets mis. Probeer het opnieuw.',
  },
};

/**
 * Picks a language we have strings for: the explicit choice, then the page's, then the browser's; English
 * when none matches. Only the primary subtag counts ("nl-BE" -> "nl").
 */
export function resolveLang(candidates, tables = STRINGS) {
  for (const c of candidates) {
    if (!c || c === 'auto') continue;
    const primary = String(c).toLowerCase().split(/[-_]/)[0];
    if (tables[primary]) return primary;
  }
  return 'en';
}

/** A translate function: overrides > the language's table > English > the key itself. */
export function translator(lang, overrides = {}, tables = STRINGS) {
  const table = { ...tables.en, ...tables[lang], ...overrides };
  return (key, vars) =>
    String(table[key] ?? key).replace(/\{(\w+)\}/g, (m, name) => (vars && name in vars ? vars[name] : m));
}

/** "1:05" for 65 seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A wait as words: "45 s", "2 min" (rounded up: never promise a shorter wait than the server asked). */
export function duration(seconds, t) {
  const s = Math.max(1, Math.ceil(seconds));
  return s < 90 ? t('seconds', { n: s }) : t('minutes', { n: Math.ceil(s / 60) });
}
