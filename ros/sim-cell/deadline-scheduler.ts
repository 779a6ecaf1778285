/**
 * A drift-free periodic scheduler for the cell's publishers (`/joint_states` at up to 1 kHz).
 *
 * Deadlines sit on a fixed grid, `start + k·period` (ms, the runtime's monotonic clock), so a
 * late wake-up never shifts the later ones: no drift however long it runs. Each wake-up runs
 * the task at most once, for one deadline. A wake-up that finds older deadlines also passed
 * runs the oldest still within `maxCatchUpPeriods` of now, and the rest follow one per
 * event-loop turn (setImmediate), with socket I/O in between — never a burst of sends from
 * one turn. Deadlines further behind than that (a stall: GC, a starved CPU) are skipped and
 * counted, since a sample that old is of no use to a subscriber. With `burst`, the passed
 * deadlines run back to back in the wake-up that finds them instead: the catch-up loop this
 * scheduler replaced, kept as the benchmark's baseline.
 *
 * Waiting: Node's timers have 1 ms granularity and fire up to ~1 ms late. With a spin window,
 * a timer wakes `spinWindowMs` (up to 1 ms more) before the deadline and the rest of the wait
 * yields through setImmediate turns (the loop keeps serving I/O, but the thread stays busy):
 * it trades CPU for punctuality. With none (0), timers only: no CPU while waiting.
 */

/** What the scheduler needs from the runtime; tests pass a fake one. */
export interface SchedulerRuntime {
  /** Monotonic clock, ms. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
}

/** Node's clock (`performance.now`) and timers; the timers do not keep the process alive. */
export const nodeRuntime: SchedulerRuntime = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (h) => clearImmediate(h as NodeJS.Immediate),
};

export interface DeadlineSchedulerOptions {
  /** Period, ms (> 0). */
  periodMs: number;
  /** Spin through setImmediate for this long before each deadline, ms (default 0: timers only). */
  spinWindowMs?: number;
  /** Passed deadlines still run (one per loop turn); older ones are skipped (default 2). */
  maxCatchUpPeriods?: number;
  /**
   * Run the passed deadlines (up to `maxCatchUpPeriods` + 1) back to back in one wake-up
   * instead of one per loop turn (default false). Only the benchmark's baseline uses it.
   */
  burst?: boolean;
  /** Lateness samples kept for the figures (default 65 536, the newest kept). */
  latenessSamples?: number;
  runtime?: SchedulerRuntime;
  /** Called with anything the task throws; the schedule goes on. */
  onError?: (err: unknown) => void;
}

/** The scheduler's own punctuality since the last reset. */
export interface SchedulerFigures {
  /** Deadlines whose task ran. */
  ran: number;
  /** Deadlines skipped because they were more than `maxCatchUpPeriods` behind. */
  skipped: number;
  /** Lateness (actual − scheduled start of the task), ms: median, 99th percentile, maximum. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class DeadlineScheduler {
  readonly #period: number;
  readonly #spin: number;
  readonly #maxCatchUp: number;
  readonly #burst: boolean;
  readonly #rt: SchedulerRuntime;
  readonly #task: (scheduledMs: number) => void;
  readonly #onError: (err: unknown) => void;
  readonly #lateness: Float64Array;
  #samples = 0;
  #ran = 0;
  #skipped = 0;
  #startMs = 0;
  /** Index of the next deadline on the grid. */
  #k = 0;
  #timer: unknown = null;
  #immediate: unknown = null;
  #running = false;

  /** `task` gets its deadline (ms, the runtime's clock) — the time its work stands for. */
  constructor(options: DeadlineSchedulerOptions, task: (scheduledMs: number) => void) {
    if (!(options.periodMs > 0)) throw new RangeError("periodMs must be > 0");
    this.#period = options.periodMs;
    this.#spin = Math.max(0, options.spinWindowMs ?? 0);
    this.#maxCatchUp = Math.max(0, Math.floor(options.maxCatchUpPeriods ?? 2));
    this.#burst = options.burst ?? false;
    this.#rt = options.runtime ?? nodeRuntime;
    this.#task = task;
    this.#onError = options.onError ?? (() => undefined);
    this.#lateness = new Float64Array(Math.max(1, options.latenessSamples ?? 65_536));
  }

  /** Starts the grid at now: the first deadline is one period from now. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startMs = this.#rt.now();
    this.#k = 1;
    this.#arm(this.#startMs);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#rt.clearTimeout(this.#timer);
    if (this.#immediate !== null) this.#rt.clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
  }

  /** Punctuality since the start or the last {@link resetFigures}. */
  figures(): SchedulerFigures {
    const n = Math.min(this.#samples, this.#lateness.length);
    const sorted = this.#lateness.slice(0, n).sort();
    const at = (p: number) => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(p * n))] ?? 0));
    return {
      ran: this.#ran,
      skipped: this.#skipped,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: n === 0 ? 0 : (sorted[n - 1] ?? 0),
    };
  }

  resetFigures(): void {
    this.#samples = 0;
    this.#ran = 0;
    this.#skipped = 0;
  }

  #deadline(k: number): number {
    return this.#startMs + k * this.#period;
  }

  #wake(): void {
    this.#timer = null;
    this.#immediate = null;
    if (!this.#running) return;
    const now = this.#rt.now();
    if (now < this.#deadline(this.#k)) {
      this.#arm(now);
      return;
    }
    // Deadlines passed after this one: keep the newest `maxCatchUp`, skip any older.
    const alsoPassed = Math.floor((now - this.#deadline(this.#k)) / this.#period);
    if (alsoPassed > this.#maxCatchUp) {
      const skip = alsoPassed - this.#maxCatchUp;
      this.#k += skip;
      this.#skipped += skip;
    }
    this.#run(now);
    if (this.#burst) {
      for (let n = 0; n < this.#maxCatchUp && this.#running; n++) {
        const t = this.#rt.now();
        if (t < this.#deadline(this.#k)) break;
        this.#run(t);
      }
    }
    if (this.#running) this.#arm(this.#rt.now());
  }

  /** Runs the task for the next deadline on the grid, at `now`. */
  #run(now: number): void {
    const due = this.#deadline(this.#k);
    this.#k += 1;
    this.#lateness[this.#samples % this.#lateness.length] = now - due;
    this.#samples += 1;
    this.#ran += 1;
    try {
      this.#task(due);
    } catch (err) {
      this.#onError(err);
    }
  }

  /** Waits for the next deadline: a timer for the coarse part, loop turns for the rest. */
  #arm(now: number): void {
    const remaining = this.#deadline(this.#k) - now;
    const wake = () => this.#wake();
    // Timers take whole ms (at least 1) and never fire early, so a spin window is widened
    // to the next whole ms: a timer shorter than 1 ms would overshoot the deadline.
    if (remaining <= 0 || (this.#spin > 0 && remaining < this.#spin + 1)) {
      // Due already (a catch-up), or inside the spin window: the next loop turn, after I/O.
      this.#immediate = this.#rt.setImmediate(wake);
      return;
    }
    // With no spin window, round up so the wake is at or after the deadline; with one,
    // round down so it lands inside the window.
    const wait = this.#spin > 0 ? Math.floor(remaining - this.#spin) : Math.ceil(remaining);
    this.#timer = this.#rt.setTimeout(wake, wait);
  }
}
