// Types for <hms-webcall>: its attributes, properties, methods and hms:* events, for both entries of the
// package ('hms-webcall' registers the element when imported; 'hms-webcall/define' registers nothing).
// Kept by hand next to the sources; tests/test_npm_package.py type-checks a strict TypeScript file against
// it and checks every attribute of src/attributes.js is listed here and in custom-elements.json.

/**
 * The widget's states, in the order a call goes through them. `reconnecting`: the network dropped during a
 * call (connecting or live); the call goes back to the state it left, or ends (`connection_lost`) after
 * `reconnect-timeout` seconds.
 */
export type HMSWebCallState =
  | 'idle'
  | 'preflight'
  | 'requesting'
  | 'connecting'
  | 'live'
  | 'reconnecting'
  | 'ended'
  | 'error';

/** Why a call ended (`hms:ended` detail.reason, `endReason`). */
export type HMSEndReason =
  | 'user_hangup'
  | 'agent_hangup'
  | 'max_duration'
  | 'agent_timeout'
  | 'connection_lost'
  | 'error';

/** `hms:error` detail.code: the widget's own codes, or an error code of the server (`rate_limited`, ...). */
export type HMSErrorCode =
  | 'mic_denied'
  | 'no_mic'
  | 'mic_in_use'
  | 'mic_unsupported'
  | 'unsupported_browser'
  | 'network'
  | 'connect_failed'
  | 'rate_limited'
  | 'busy'
  | 'action_failed'
  | 'action_refused'
  | 'tool_failed'
  | (string & {});

export interface HMSTranscriptEntry {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  /** false while the speaker is still talking (the text may still change) */
  final: boolean;
  /** true for a line the visitor typed (the text field, or sendText()) */
  typed?: boolean;
}

/** How sendText() rejects: no call is live, nothing to send, or more than 500 characters. */
export interface HMSSendTextError extends Error {
  code: 'not_live' | 'empty' | 'too_long';
}

export interface HMSError {
  code: HMSErrorCode;
  /** the message shown in the panel, in the widget's language */
  message: string;
  /** the HTTP status of the server's answer, when there was one */
  status?: number;
  /** seconds to wait before trying again (a 429's Retry-After) */
  retryAfter?: number;
  /** the page action whose handler failed or was refused (`action_failed`, `action_refused`) */
  action?: string;
  /** the page tool whose handler failed or is not registered (`tool_failed`) */
  tool?: string;
}

export interface HMSStateDetail {
  state: HMSWebCallState;
  previous: HMSWebCallState;
  /** true exactly when state is 'reconnecting' */
  reconnecting: boolean;
}

/** `hms:reconnecting` (the connection dropped; the call is kept) and `hms:reconnected` (back in the call). */
export interface HMSReconnectDetail {
  callId: string | null;
}

export interface HMSTranscriptDetail {
  entries: HMSTranscriptEntry[];
  /** the entry that changed; null when the list was reset or finalised */
  entry: HMSTranscriptEntry | null;
}

export interface HMSEndedDetail {
  reason: HMSEndReason;
  callId: string | null;
  durationSeconds: number;
}

export type HMSErrorDetail = HMSError;

/** The consent text was shown (accepted: false), or the visitor accepted it (accepted: true). */
export interface HMSConsentDetail {
  /** the consent-version the visitor saw or accepted */
  version: string;
  accepted: boolean;
}

/**
 * After a call: fired when the rating (a thumb) was answered, with comment "", and once more when a comment
 * added to it was; or that they skipped before rating (rating null).
 */
export interface HMSFeedbackDetail {
  callId: string | null;
  rating: 'up' | 'down' | null;
  comment: string;
  result: 'sent' | 'skipped' | 'already_rated' | 'forbidden';
}

/**
 * The visitor chose another microphone (audioinput) or speaker (audiooutput), or the widget moved the call
 * to another microphone by itself (`auto: true`: a headset plugged in or pulled out).
 */
export interface HMSDeviceChangeDetail {
  kind: 'audioinput' | 'audiooutput';
  deviceId: string;
  label: string;
  auto?: boolean;
}

/** A stage of a call's start (hms:timing), in the order a call usually reaches them. */
export type HMSTimingStage =
  | 'code'
  | 'microphone'
  | 'create'
  | 'connect'
  | 'assistant'
  | 'live'
  | 'audio'
  | 'transcript';

/**
 * `hms:timing`, once per call: each stage the call's start reached, in milliseconds from the visitor's
 * click; sent when the call is live with its first audio and transcript line, or as it ends or fails first.
 */
export interface HMSTimingDetail {
  stages: Partial<Record<HMSTimingStage, number>>;
  callId: string | null;
}

/**
 * The browser refused to play the assistant's sound (`blocked: true`; the panel shows "Tap to hear the
 * assistant"), or plays it again (`false`). Fires on each change.
 */
export interface HMSAudioBlockedDetail {
  blocked: boolean;
}

/** The call moved to (or came back from) the pop-out window; state "closed" when that window went. */
export interface HMSPopoutDetail {
  state: HMSWebCallState | 'closed' | (string & {});
  callId: string | null;
}

/** What the assistant is doing during a live call; `hms:agent-state` fires on each change. */
export type HMSAgentState = 'listening' | 'thinking' | 'speaking';

export interface HMSAgentStateDetail {
  state: HMSAgentState;
}

/** A page action the site's server sent during the call (`hms:action`); `args` is plain JSON data. */
export interface HMSActionDetail {
  name: string;
  args: Record<string, unknown>;
  callId: string | null;
}

/** Runs for the page action of its name; a throw or rejection is reported (hms:error), never ends the call. */
export type HMSActionHandler = (args: Record<string, unknown>, action: HMSActionDetail) => unknown;

/**
 * The arguments of the built-in page actions aimed at an element the page opted in with
 * `data-hms-target="name"`: `highlight`, `scroll_to`, `focus` (`{target}`) and `fill` (`{target, value}`).
 * Any other element is refused (`action_refused`).
 */
export interface HMSTargetActionArgs {
  target: string;
  /** `fill` only: the text to write (asked first unless the field says `data-hms-fill="without-asking"`) */
  value?: string;
}

/** `element.actions`: what the page does for each page action. */
export interface HMSActions {
  /**
   * Handles the action `name` (replacing the built-in `navigate`, `highlight`, `scroll_to`, `focus` or `fill`
   * if so named); returns the unregister.
   */
  register(name: string, handler: HMSActionHandler): () => void;
}

/** A page tool's request (`@webcall.page_tool` on the site's server), as the page's handler gets it. */
export interface HMSToolRequest {
  name: string;
  /** the tool call's arguments, as the assistant gave them: plain JSON data */
  args: Record<string, unknown>;
  callId: string;
  /** the request's id: unguessable, answered once */
  request: string;
  /** where the widget posts the answer */
  answerUrl: string;
  /** milliseconds the server waits for the answer */
  timeout: number;
}

/**
 * Answers the page tool of its name with JSON data (an object the tool's schema accepts), from the page's
 * own state; may be async. A throw, a rejection or a value that is not JSON answers "failed" at once
 * (hms:error `tool_failed`); a promise that never settles lets the server's timeout answer.
 */
export type HMSToolHandler = (args: Record<string, unknown>, request: HMSToolRequest) => unknown;

/** `element.tools`: how the page answers the site's page tools. */
export interface HMSTools {
  /** Answers the page tool `name`; returns the unregister. */
  register(name: string, handler: HMSToolHandler): () => void;
}

/** Every event the element dispatches (they bubble and are composed: a listener on document hears all). */
export interface HMSWebCallEventMap {
  'hms:state': CustomEvent<HMSStateDetail>;
  'hms:transcript': CustomEvent<HMSTranscriptDetail>;
  'hms:ended': CustomEvent<HMSEndedDetail>;
  'hms:reconnecting': CustomEvent<HMSReconnectDetail>;
  'hms:reconnected': CustomEvent<HMSReconnectDetail>;
  'hms:error': CustomEvent<HMSErrorDetail>;
  'hms:consent': CustomEvent<HMSConsentDetail>;
  'hms:feedback': CustomEvent<HMSFeedbackDetail>;
  'hms:device-change': CustomEvent<HMSDeviceChangeDetail>;
  'hms:audio-blocked': CustomEvent<HMSAudioBlockedDetail>;
  'hms:timing': CustomEvent<HMSTimingDetail>;
  'hms:popout': CustomEvent<HMSPopoutDetail>;
  'hms:agent-state': CustomEvent<HMSAgentStateDetail>;
  'hms:action': CustomEvent<HMSActionDetail>;
}

/** Text overrides: {key: text}; the keys are listed in the widget documentation. */
export type HMSStrings = Record<string, string>;

/** Attributes as written in HTML (all strings); the element's own attribute wins over define() defaults. */
export interface HMSWebCallAttributes {
  endpoint?: string;
  label?: string;
  position?: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
  theme?: 'auto' | 'light' | 'dark';
  lang?: string;
  assistant?: string;
  'assistant-name'?: string;
  'show-transcript'?: 'true' | 'false' | (string & {});
  /** "off" hides the text field of a live call and the "Type instead" offer */
  'text-input'?: 'on' | 'off' | 'true' | 'false' | (string & {});
  /** a JSON object */
  context?: string;
  credentials?: 'include' | 'same-origin' | 'omit';
  'csrf-header'?: string;
  'csrf-token'?: string;
  'csrf-meta'?: string;
  'csrf-cookie'?: string;
  /** seconds */
  'agent-timeout'?: string | number;
  /** seconds the connection may stay down before the call ends (default 15) */
  'reconnect-timeout'?: string | number;
  /** seconds */
  'max-duration'?: string | number;
  /** a JSON object of text overrides */
  strings?: string;
  /** the text the visitor must accept before the first call */
  consent?: string;
  'consent-version'?: string;
  'confirm-leave'?: 'true' | 'false' | (string & {});
  popout?: 'true' | 'false' | '' | (string & {});
  /** "off": no echo cancellation, noise suppression, automatic gain nor voice isolation (default "on") */
  'audio-processing'?: 'on' | 'off' | (string & {});
  /** "push": push-to-talk, the microphone is muted except while the visitor holds the button or Space */
  'talk-mode'?: 'open' | 'push';
  /** set by the extension's pop-out page on its own element, not by sites */
  'popout-window'?: string;
  /** boolean: a floating launcher (the script-tag build adds one unless data-launcher="false") */
  floating?: boolean | '';
}

export interface HMSWebCallElement extends HTMLElement {
  /** Starts a call. Call it from a click handler: browsers only let audio play after a user gesture. */
  start(): unknown;
  /** Hangs up, or cancels a call that is still starting. */
  end(): void;
  /** mute() or mute(true) mutes the microphone, mute(false) unmutes; returns the muted state. */
  mute(on?: boolean): boolean;
  /**
   * Sends a typed line (at most 500 characters) into the live call on LiveKit's lk.chat topic and shows it
   * in the transcript as the visitor's, marked typed; resolves to the line as sent (trimmed). Rejects with
   * an HMSSendTextError: not_live, empty or too_long.
   */
  sendText(text: string): Promise<string>;
  readonly state: HMSWebCallState;
  /** the transcript so far, in order (a copy) */
  readonly transcript: HMSTranscriptEntry[];
  /** the HMS call id once the call is created */
  readonly callId: string | null;
  readonly muted: boolean;
  /** the last error, or null */
  readonly error: HMSError | null;
  /** why the last call ended, or null */
  readonly endReason: HMSEndReason | null;
  /** context sent with the create request; overrides the context attribute */
  context: Record<string, unknown> | null;
  /** text overrides for this element */
  strings: HMSStrings;
  /** the page's handlers of page actions */
  readonly actions: HMSActions;
  /** the page's handlers of page tools */
  readonly tools: HMSTools;

  addEventListener<K extends keyof HMSWebCallEventMap>(
    type: K,
    listener: (this: HMSWebCallElement, ev: HMSWebCallEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: HMSWebCallElement, ev: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HMSWebCallEventMap>(
    type: K,
    listener: (this: HMSWebCallElement, ev: HMSWebCallEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: HMSWebCallElement, ev: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

export interface HMSWebCallElementConstructor {
  new (): HMSWebCallElement;
  readonly prototype: HMSWebCallElement;
  /** Page-wide string overrides and extra languages: {lang: {key: text}}. */
  strings: Record<string, HMSStrings>;
  /**
   * Registers the class (or a subclass of it) under `tag` ('hms-webcall' by default) in `registry`
   * (`customElements` by default) and returns it. A class is registered under one tag per registry: for a
   * second tag, register a subclass.
   */
  define<T extends HMSWebCallElementConstructor>(this: T, tag?: string, registry?: CustomElementRegistry): T;
}

export interface DefineOptions {
  /** the Flask extension's URL prefix ("/hms/" by default); the default endpoint is "{base}web-calls" */
  base?: string;
  /** attribute defaults for every element on the page, e.g. {theme: "dark"} */
  defaults?: Partial<Record<Exclude<keyof HMSWebCallAttributes, 'floating'>, string>>;
}

/** Registers <hms-webcall> (once: a second call returns the class already registered). */
export function define(options?: DefineOptions): HMSWebCallElementConstructor;

/**
 * The element's class. From 'hms-webcall' it is registered as <hms-webcall> on import; from
 * 'hms-webcall/define' it is not registered until define() or HMSWebCallElement.define(tag, registry).
 */
export const HMSWebCallElement: HMSWebCallElementConstructor;

declare global {
  interface HTMLElementTagNameMap {
    'hms-webcall': HMSWebCallElement;
  }
  interface DocumentEventMap extends HMSWebCallEventMap {}

  // JSX: React (before React 19's module-scoped JSX), Preact and Solid read the global namespace.
  namespace JSX {
    interface IntrinsicElements {
      'hms-webcall': HMSWebCallJSXProps;
    }
  }
}

/** <hms-webcall> in JSX: its attributes plus the usual key, ref, id, class and style. */
export interface HMSWebCallJSXProps extends HMSWebCallAttributes {
  key?: string | number | null;
  ref?: unknown;
  id?: string;
  class?: string;
  className?: string;
  style?: unknown;
  slot?: string;
  hidden?: boolean;
  children?: unknown;
}
