// The assistant's state in words beside the call's status, and two small level meters: the assistant's and
// the visitor's own microphone ("is my mic working?"). Fed by the call's level samples (call.js: about 8 a
// second while the call is in its room, stopped with it) and its transcript lines. The words sit in a
// polite live region that changes only with the state, never per sample; the meters are role="meter",
// which screen readers read when visited and do not announce.

import { AgentState } from './agent-state.js';
import { adoptStyles } from './styles.js';

const CSS = `
.meters{display:grid;grid-template-columns:fit-content(60%) minmax(48px,1fr);gap:2px 8px;align-items:center;
font-size:.85em;color:var(--_muted)}
.meters span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.meters b{height:6px;border-radius:3px;background:var(--_border);overflow:hidden}
.meters i{display:block;height:100%;background:var(--hms-meter,var(--_accent));transform-origin:left;
transform:scaleX(var(--v,0));transition:transform .1s linear}
[part~=speaking]:not(:empty):before{content:" \\b7  " / ""}
[data-agent=thinking] .orb{animation:think 1.2s ease-in-out infinite}
@keyframes think{50%{opacity:.3}}
`;

// The assistant's meter first, as the header's level orb is the assistant's too; each after its label.
// A meter's range defaults to 0..100.
const METERS = ['assistant', 'user']
  .map((who) => `<span></span><b role="meter" part="meter meter-${who}" aria-valuenow="0"><i></i></b>`)
  .join('');

/**
 * @param {{root: HTMLElement, refs: import('./panel.js').Refs, emit: (type: string, detail: object) => void}} opts
 */
export function agentView({ root, refs, emit }) {
  adoptStyles(/** @type {ShadowRoot} */ (root.getRootNode()), CSS);
  refs.line.insertAdjacentHTML('afterend', `<div class="meters" part="meters">${METERS}</div>`);
  const meters = /** @type {HTMLElement} */ (refs.line.nextElementSibling);
  const bars = /** @type {HTMLElement[]} */ ([...meters.querySelectorAll('b')]);
  refs.speaking.setAttribute('aria-live', 'polite');
  let agent = new AgentState();

  return {
    /**
     * A level sample; `live`: the assistant is in the call (before, there is no state to tell).
     * Returns whether the state changed (the panel re-renders then).
     * @param {import('./call.js').LevelSample} sample
     * @param {boolean} live
     */
    level(sample, live) {
      [sample.level, sample.mic].forEach((v, i) => {
        const bar = bars[i];
        bar.style.setProperty('--v', v.toFixed(2));
        const now = String(Math.round(v * 10) * 10); // steps of 10 are all a listener needs, at less DOM churn
        if (bar.getAttribute('aria-valuenow') !== now) bar.setAttribute('aria-valuenow', now);
      });
      const state = live && agent.sample({ ...sample, attribute: sample.agentState }, Date.now());
      if (!state) return false;
      root.dataset.agent = state;
      root.toggleAttribute('data-speaking', state === 'speaking');
      emit('agent-state', { state });
      return true;
    },
    /** @param {import('./transcript.js').Entry | null | undefined} entry */
    line(entry) {
      if (entry) agent.line(entry.role, entry.final, Date.now());
    },
    /** A new call: its first state is reported again. */
    reset() {
      agent = new AgentState();
      delete root.dataset.agent;
      root.removeAttribute('data-speaking');
    },
    /**
     * The state's words beside the status (what muting means instead, while muted), and the meters, while
     * the call is live. The words are only written when they change: a live region rewritten with the same
     * text may be read out again.
     * @param {import('./i18n.js').Translate} t
     * @param {{you: string, name: string}} names
     * @param {boolean} live
     * @param {boolean} muted
     */
    render(t, { you, name }, live, muted) {
      meters.hidden = !live;
      [name, you].forEach((label, i) => {
        const bar = bars[i];
        /** @type {HTMLElement} */ (bar.previousElementSibling).textContent = label;
        bar.setAttribute('aria-label', t(i ? 'levelYou' : 'levelAgent', { name }));
      });
      const words = !live ? '' : muted ? t('muted') : agent.state ? t(agent.state, { name }) : '';
      if (refs.speaking.textContent !== words) refs.speaking.textContent = words;
    },
  };
}
