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

export class StartTiming {
  /** @type {() => number} */
  #now;
  /** @type {(stages: Partial<Record<Stage, number>>) => void} */
  #report;
  #origin = 0;
  #reported = false;
  /** @type {Partial<Record<Stage, number>>} */
  stages = {};

  /**
   * @param {() => number} now the controller's clock (ms)
   * @param {(stages: Partial<Record<Stage, number>>) => void} report hms:timing's stages, once per call
   */
  constructor(now, report) {
    this.#now = now;
    this.#report = report;
  }

  /**
   * A new call, clicked now or at `clicked` (the clock's ms): then its call code arrives now.
   * @param {number | null} [clicked]
   */
  begin(clicked) {
    this.#origin = clicked || this.#now();
    this.#reported = false;
    this.stages = {};
    if (clicked) this.mark('code');
  }

  /**
   * The call reached `stage` now; only the first time counts (a reconnect goes live again). Reports once
   * the call is live and both its first audio and transcript are here.
   * @param {Stage} stage
   */
  mark(stage) {
    this.stages[stage] ??= Math.round(this.#now() - this.#origin);
    if (['live', 'audio', 'transcript'].every((done) => done in this.stages)) this.end();
  }

  /** The call is over (ended, failed, cancelled): reports the stages it reached, unless reported already. */
  end() {
    if (this.#reported) return;
    this.#reported = true;
    this.#report({ ...this.stages });
  }
}
