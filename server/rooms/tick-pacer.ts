/**
 * When a room may tick slower: a room where nothing changed and nobody sent anything for
 * {@link TickPacerOptions.restAfterMs} ticks at the rest rate instead of the patch rate,
 * and the next message, join or leave, or a tick that changed the state, brings it back at
 * once. At rest a tick still advances the session, so a change that arrives without a
 * message (a plan found, an agent's decision, the real arm moved by its pendant, a link
 * lost) is picked up within one rest period; STOP never waits for a tick (it is carried out
 * when its message arrives).
 *
 * Pure: the caller owns the clock (ms) and the timer; this only says which rate to run.
 */

export interface TickPacerOptions {
  /** Tick rate while anything happens, Hz (`PATCH_RATE_HZ`). */
  activeHz: number;
  /** Tick rate at rest, Hz (`REST_TICK_HZ`; at or above `activeHz`: never slower). */
  restHz: number;
  /** Quiet time before the room rests, ms. */
  restAfterMs: number;
}

export class TickPacer {
  readonly #o: TickPacerOptions;
  #lastActivityMs: number;
  #resting = false;

  /** @param nowMs the clock at creation (counts as activity: a new room starts awake). */
  constructor(options: TickPacerOptions, nowMs: number) {
    this.#o = options;
    this.#lastActivityMs = nowMs;
  }

  /** Whether the room ticks at the rest rate now. */
  get resting(): boolean {
    return this.#resting;
  }

  /** The tick period for the current state, ms. */
  get periodMs(): number {
    return 1000 / (this.#resting ? this.#o.restHz : this.#o.activeHz);
  }

  /**
   * Something happened (a message, a join or leave, a state change sent to clients).
   * @returns true when this wakes a resting room: the caller switches to {@link periodMs}
   */
  activity(nowMs: number): boolean {
    this.#lastActivityMs = nowMs;
    if (!this.#resting) return false;
    this.#resting = false;
    return true;
  }

  /**
   * After a tick that changed nothing: whether the room should now rest.
   * @returns true when this starts a rest: the caller switches to {@link periodMs}
   */
  quietTick(nowMs: number): boolean {
    if (this.#resting || this.#o.restHz >= this.#o.activeHz) return false;
    if (nowMs - this.#lastActivityMs < this.#o.restAfterMs) return false;
    this.#resting = true;
    return true;
  }
}
