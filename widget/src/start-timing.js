// Where the start of one call went: the milliseconds from the visitor's click to each stage, reported once
// per call as hms:timing (docs/widget.md, "Where the start of a call goes"), so that a site owner can see on
// real visitors what a call waits for. Stages, in the order a call usually reaches them:
//   code        the call code arrived (only when the click came before it: otherwise it was here already)
//   microphone  the microphone was granted
//   create      the backend answered the create request
//   connect     in the call's room
//   assistant   the assistant is in the room
//   live        the widget said live (never after audio or transcript: it goes live when either comes)
//   audio       the assistant's first audio arrived
//   transcript  the first transcript line arrived

/** @typedef {'code' | 'microphone' | 'create' | 'connect' | 'assistant' | 'live' | 'audio' | 'transcript'} Stage */

/** @typedef {Partial<Record<Stage, number>>} Stages */

/**
 * The start of the controller's calls, one after the other.
 * @param {() => number} now the controller's clock (ms)
 * @param {(stages: Stages) => void} report hms:timing's stages, once per call
 */
export function startTiming(now, report) {
  let origin = 0;
  let reported = false;
  /** @type {Stages} */
  let stages = {};
  const timing = {
    /**
     * A new call, clicked now or at `clicked` (the clock's ms): then its call code arrives now.
     * @param {number | null} [clicked]
     */
    begin(clicked) {
      origin = clicked || now();
      reported = false;
      stages = {};
      if (clicked) timing.mark('code');
    },
    /**
     * The call reached `stage` now; only the first time counts (a reconnect goes live again). Reports once
     * the call is live and both its first audio and transcript are here.
     * @param {Stage} stage
     */
    mark(stage) {
      stages[stage] ??= now() - origin;
      if (['live', 'audio', 'transcript'].every((done) => done in stages)) timing.end();
    },
    /** The call is over (ended, failed, cancelled): reports the stages it reached, unless reported already. */
    end() {
      if (!reported) report({ ...stages });
      reported = true;
    },
  };
  return timing;
}
