// The widget's CSS, scoped by its shadow root. Public knobs: the --hms-* custom properties (set them on
// hms-webcall from the page) and ::part() names. Internal --_x variables resolve each knob per theme.
// BASE_CSS (theme, launcher) ships in the loader; PANEL_CSS (the call panel) with the call chunk.

// Accent and danger keep one default in both themes, with white text on them: a page that sets only
// --hms-accent (or --hms-danger) for its brand keeps readable buttons in light and dark alike.
const DARK =
  '--_bg:var(--hms-bg,#161b26);--_fg:var(--hms-fg,#f1f5f9);--_muted:var(--hms-muted,#a7b0c0);' +
  '--_border:var(--hms-border,#334155);--_warn:var(--hms-warning,#fca5a5);--_user:var(--hms-user-bg,#22304d)';

export const BASE_CSS = `
:host{display:inline-block;min-width:0;max-width:100%;font:14px/1.45 var(--hms-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}
:host([hidden]){display:none}
:host([floating]){position:fixed;z-index:var(--hms-z-index,2147483000);--_off:var(--hms-offset,20px);bottom:var(--_off);right:var(--_off);
max-width:calc(100% - 2*var(--_off))}
:host([data-hms-position$=left]){right:auto;left:var(--_off)}
:host([data-hms-position^=top]){bottom:auto;top:var(--_off)}
.r{--_accent:var(--hms-accent,#2563eb);--_on-accent:var(--hms-accent-contrast,#fff);--_bg:var(--hms-bg,#fff);
--_fg:var(--hms-fg,#111827);--_muted:var(--hms-muted,#4b5563);--_border:var(--hms-border,#d1d5db);
--_danger:var(--hms-danger,#dc2626);--_on-danger:var(--hms-danger-contrast,#fff);--_warn:var(--hms-warning,#b91c1c);
--_user:var(--hms-user-bg,#e8effd);color:var(--_fg)}
.r.dark{${DARK}}
@media (prefers-color-scheme:dark){.r.auto{${DARK}}}
*{box-sizing:border-box}
[hidden]{display:none!important}
button{font:inherit;cursor:pointer;border-radius:999px;border:1px solid var(--_border);background:var(--_bg);
color:var(--_fg);padding:.45em 1em;min-height:36px}
button:focus-visible,ol:focus-visible{outline:3px solid var(--_accent);outline-offset:2px}
.launch,.primary{background:var(--_accent);color:var(--_on-accent);border-color:var(--_accent);font-weight:600}
.launch{display:inline-flex;gap:.5em;align-items:center;padding:.7em 1.3em;box-shadow:var(--hms-shadow,0 6px 20px #0003)}
.launch svg{width:1.2em;height:1.2em;fill:currentColor}
.busy:before{content:"";width:12px;height:12px;border:2px solid currentColor;border-top-color:transparent;
border-radius:50%;animation:spin .8s linear infinite;flex:none}
@keyframes spin{to{transform:rotate(1turn)}}
.fail{display:block;max-width:280px;margin-top:8px;padding:8px 10px;border-radius:10px;background:var(--_bg);
border-left:4px solid var(--_warn)}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
`;

export const PANEL_CSS = `
button:disabled{cursor:default;opacity:.55}
.danger{background:var(--_danger);border-color:var(--_danger);color:var(--_on-danger);font-weight:600}
.panel{width:var(--hms-width,340px);max-width:min(100%,calc(100vw - 2*var(--_off,0px)));background:var(--_bg);
border:1px solid var(--_border);border-radius:var(--hms-radius,14px);box-shadow:var(--hms-shadow,0 10px 30px #0003);
padding:14px;display:flex;flex-direction:column;gap:10px;overflow-wrap:anywhere;overflow-y:auto;
max-height:calc(100vh - 2*var(--_off,0px));max-height:calc(100dvh - 2*var(--_off,0px))}
.panel>*{min-width:0;max-width:100%;flex-shrink:0}
.panel>ol{flex-shrink:1;min-height:4em}
header{display:flex;align-items:center;gap:10px}
.title{font-weight:600;flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.close{border:0;padding:0;width:32px;min-height:32px;font-size:20px;line-height:1;background:none}
.orb{width:14px;height:14px;border-radius:50%;background:var(--_muted);flex:none;
transform:scale(calc(1 + var(--lvl,0)*.9));transition:transform .1s linear,background .2s}
[data-state=live] .orb{background:var(--_accent)}
.line{color:var(--_muted);min-height:1.45em}
.line.busy:before{display:inline-block;vertical-align:-2px;margin-right:.5em;border-color:var(--_border);
border-top-color:var(--_accent)}
.timer{font-variant-numeric:tabular-nums;color:var(--_muted)}
.timer.soon{color:var(--_warn);font-weight:600}
.msg{margin:0;padding:10px 12px;border-radius:10px;border:1px solid var(--_border);border-left:4px solid var(--_warn)}
.msg.info{border-left-color:var(--_accent)}
.hint{display:block;margin-top:4px;color:var(--_muted)}
ol{list-style:none;margin:0;padding:2px;max-height:var(--hms-transcript-height,240px);overflow-y:auto;
display:flex;flex-direction:column;gap:6px}
li{padding:6px 10px;border-radius:10px;max-width:90%;white-space:pre-wrap;overflow-wrap:anywhere}
li.user{align-self:flex-end;background:var(--_user)}
li.assistant{align-self:flex-start;border:1px solid var(--_border)}
li b{display:block;font-size:.78em;color:var(--_muted)}
li.interim span{font-style:italic;color:var(--_muted)}
li.interim span:after{content:" …"}
.controls{display:flex;flex-wrap:wrap;gap:8px;justify-content:flex-end}
[aria-pressed=true]{background:var(--_fg);color:var(--_bg)}
.box{display:flex;flex-direction:column;gap:8px;overflow-wrap:anywhere}
.check{display:flex;gap:.5em;align-items:flex-start}
.check input{width:1.2em;height:1.2em;margin:.15em 0 0;flex:none;accent-color:var(--_accent)}
.thumb{font-size:1.2em;padding:.2em .8em}
.rate{justify-content:flex-start}
textarea,select,.say input{font:inherit;color:var(--_fg);background:var(--_bg);border:1px solid var(--_border);
border-radius:10px;padding:6px 8px;width:100%;max-width:100%}
textarea{resize:vertical;min-height:3em}
select{min-height:36px}
.talk{flex:1;min-height:44px;touch-action:none;-webkit-user-select:none}
.devices{display:flex;flex-wrap:wrap;gap:8px}
.devices label{flex:1 1 140px;min-width:0;display:flex;flex-direction:column;gap:2px;color:var(--_muted);font-size:.9em}
textarea:focus-visible,select:focus-visible,input:focus-visible,.msg:focus-visible{outline:3px solid var(--_accent);outline-offset:2px}
.box a{color:var(--_accent)}
.say{display:flex;flex-wrap:wrap;gap:8px}
.say input{flex:1 1 8em;width:auto;min-width:0}
[aria-invalid=true]~.hint{color:var(--_warn)}
.say .hint{flex-basis:100%;margin:0}
.hint:empty{position:absolute}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (prefers-reduced-motion:reduce){.orb{transform:none;transition:none}
[data-speaking] .orb{outline:3px solid var(--_accent);outline-offset:2px}}
`;

/** @type {Map<string, CSSStyleSheet>} */
const sheets = new Map();

/**
 * Adds CSS to a shadow root: one shared constructable sheet per text (CSP-proof) where supported.
 * @param {ShadowRoot} root
 * @param {string} css
 */
export function adoptStyles(root, css) {
  try {
    let sheet = sheets.get(css);
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      sheets.set(css, sheet);
    }
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = css;
    root.prepend(style);
  }
}
