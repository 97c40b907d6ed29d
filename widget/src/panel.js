// The call panel's markup, and its elements by their data-r name. Only ui.js fills it in; the views
// (feedback-view.js, devices-view.js) each render their part of it.

/**
 * The panel's elements by their data-r name (and the panel itself).
 * @typedef {Record<'panel' | 'title' | 'timer' | 'line' | 'status' | 'speaking' | 'msg' | 'text' | 'hint'
 *   | 'consent' | 'ctext' | 'clabel' | 'away' | 'awayText' | 'list' | 'fb' | 'fbAsk' | 'fbErr' | 'fbDone'
 *   | 'devices' | 'micRow' | 'micLabel' | 'spkRow' | 'spkLabel' | 'audioHost' | 'talkHint' | 'say' | 'sayHint'
 *   | 'fill' | 'fillAsk' | 'said',
 *   HTMLElement>
 *   & Record<'close' | 'ccancel' | 'cstart' | 'focus' | 'audio' | 'up' | 'down' | 'skip' | 'send' | 'popout'
 *   | 'copy' | 'mute' | 'hangup' | 'retry' | 'talk' | 'saySend' | 'typeInstead' | 'fillNo'
 *   | 'fillYes', HTMLButtonElement>
 *   & {cbox: HTMLInputElement, sayText: HTMLInputElement, comment: HTMLTextAreaElement, mic: HTMLSelectElement,
 *   spk: HTMLSelectElement}}
 *   Refs
 */

/**
 * Shows `el` when `on` is truthy, hides it otherwise.
 * @param {HTMLElement} el
 * @param {unknown} on
 */
export const show = (el, on) => (el.hidden = !on);

export const TEMPLATE = `<section class="panel" part="panel" hidden>
<header part="header"><span class="orb" part="level"></span><span class="title" part="title" data-r="title"></span>
<span class="timer" part="timer" role="timer" data-r="timer"></span><button class="close" part="close" data-r="close">\u00d7</button></header>
<div class="line" data-r="line"><span part="status" role="status" data-r="status"></span><span part="speaking" data-r="speaking"></span></div>
<p class="msg" part="message" data-r="msg"><span data-r="text"></span><span class="hint" part="hint" data-r="hint"></span></p>
<div class="box" part="consent" data-r="consent"><div part="consent-text" data-r="ctext"></div>
<label class="check"><input type="checkbox" part="consent-check" data-r="cbox"><span data-r="clabel"></span></label>
<div class="controls"><button part="consent-cancel" data-r="ccancel"></button><button class="primary" part="consent-start" data-r="cstart"></button></div></div>
<div class="box" part="fill" data-r="fill" hidden><span data-r="fillAsk"></span><div class="controls">
<button part="fill-no" data-r="fillNo"></button><button class="primary" part="fill-allow" data-r="fillYes"></button></div></div>
<div class="box" part="popout-notice" data-r="away"><span data-r="awayText"></span><div class="controls">
<button class="primary" part="popout-focus" data-r="focus"></button></div></div>
<button class="primary" part="audio-unlock" data-r="audio"></button>
<ol part="transcript" aria-live="polite" tabindex="0" data-r="list"></ol>
<form class="say" part="text-form" data-r="say"><input part="text-input" enterkeyhint="send" autocomplete="off" aria-describedby="say-hint" data-r="sayText">
<button class="primary" part="text-send" data-r="saySend"></button><span class="hint" part="text-hint" id="say-hint" role="status" data-r="sayHint"></span></form>
<div class="box" part="feedback" data-r="fb"><span data-r="fbAsk"></span><div class="controls rate">
<button class="thumb" part="feedback-up" aria-pressed="false" data-r="up">\u{1F44D}</button>
<button class="thumb" part="feedback-down" aria-pressed="false" data-r="down">\u{1F44E}</button></div>
<textarea part="feedback-comment" rows="2" data-r="comment"></textarea><span class="hint" role="alert" data-r="fbErr"></span>
<div class="controls"><button part="feedback-skip" data-r="skip"></button><button class="primary" part="feedback-send" data-r="send"></button></div></div>
<p class="msg info" part="feedback-result" role="status" data-r="fbDone"></p>
<div class="devices" part="devices" data-r="devices"><label data-r="micRow"><span data-r="micLabel"></span>
<select part="mic-select" data-r="mic"></select></label><label data-r="spkRow"><span data-r="spkLabel"></span>
<select part="speaker-select" data-r="spk"></select></label></div>
<div class="controls" part="controls"><button part="popout" data-r="popout"></button><button part="copy" data-r="copy"></button>
<button class="primary talk" part="talk" data-r="talk"></button><button part="mute" data-r="mute"></button><button class="danger" part="hangup" data-r="hangup"></button>
<button class="primary" part="retry" data-r="retry"></button><button class="primary" part="type-instead" data-r="typeInstead"></button></div><span class="sr" role="status" data-r="talkHint"></span><span class="sr" role="status" data-r="said"></span></section><div class="sr" data-r="audioHost"></div>`;
