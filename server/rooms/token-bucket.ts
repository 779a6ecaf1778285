/**
 * Per-client message rate limit: a token bucket refilled continuously. Cheap enough to
 * consult on every message (two numbers, no timers).
 */
export class TokenBucket {
  #tokens: number;
  #lastMs: number;

  /**
   * @param ratePerS sustained messages per second
   * @param burst bucket size: messages accepted back to back after a quiet period
   * @param now clock in ms (injectable for tests)
   */
  constructor(
    readonly ratePerS: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#lastMs = now();
  }

  /** Takes one token; false when the client is over its rate (the message must be dropped). */
  take(): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#lastMs) / 1000) * this.ratePerS);
    this.#lastMs = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
