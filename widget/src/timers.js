// The timeouts and intervals of one call, on the clock the controller is given (deps.js), so that the
// call's end clears every one of them at once.

/**
 * @typedef {object} Clock
 * @property {(fn: () => void, ms: number) => number} setTimeout
 * @property {(id: number | undefined) => void} clearTimeout
 * @property {(fn: () => void, ms: number) => number} setInterval
 * @property {(id: number) => void} clearInterval
 */

export class Timers {
  /** @type {Clock} */
  #clock;
  /** @type {Array<[repeats: boolean, id: number]>} */
  #pending = [];

  /** @param {Clock} clock */
  constructor(clock) {
    this.#clock = clock;
  }

  /**
   * Runs `fn` once after `ms`; returns the id clearTimeout takes.
   * @param {() => void} fn
   * @param {number} ms
   */
  after(fn, ms) {
    const id = this.#clock.setTimeout(fn, ms);
    this.#pending.push([false, id]);
    return id;
  }

  /**
   * Runs `fn` every `ms`.
   * @param {() => void} fn
   * @param {number} ms
   */
  every(fn, ms) {
    this.#pending.push([true, this.#clock.setInterval(fn, ms)]);
  }

  /**
   * Clears the timeout `id` (after()'s).
   * @param {number} id
   */
  cancel(id) {
    this.#clock.clearTimeout(id);
  }

  /** Clears every timer set so far. */
  clear() {
    for (const [repeats, id] of this.#pending) repeats ? this.#clock.clearInterval(id) : this.#clock.clearTimeout(id);
    this.#pending = [];
  }
}
