/**
 * Joint interpolation between state patches. Each patch carries `robot.stamp`, the time
 * (ms, the cell's clock) at which the joints were sampled. The viewer plays the samples
 * back a little in the past on its own clock, interpolating between the two samples that
 * bracket the playback time, so the arm moves smoothly at display rate (60–120 Hz) from
 * 60 Hz patches of a 100 Hz cell, whatever the jitter of the network.
 *
 * Clock mapping: offset = local receive time − stamp. Its smallest recent value is the
 * best estimate (least queuing); the estimate follows lower values at once and drifts up
 * slowly, so clock drift and a changed route are followed without jumps.
 * Pure (no DOM, no three) for tests.
 */

interface Sample {
  stamp: number;
  q: Float64Array;
}

export interface InterpolatorOptions {
  /** Samples kept, newest last. */
  capacity?: number;
  /** Least playback delay behind the newest sample, ms. */
  minDelayMs?: number;
  /** Most playback delay, ms (beyond it the arm would visibly lag). */
  maxDelayMs?: number;
}

export class JointInterpolator {
  readonly #samples: Sample[] = [];
  readonly #capacity: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  /** local ms − stamp ms, estimated. */
  #offset = Number.NaN;
  /** Mean interval between arriving samples, local ms. */
  #arrivalMs = 16.7;
  #lastArrival = Number.NaN;

  constructor(options: InterpolatorOptions = {}) {
    this.#capacity = options.capacity ?? 64;
    this.#minDelayMs = options.minDelayMs ?? 20;
    this.#maxDelayMs = options.maxDelayMs ?? 150;
  }

  /** Number of samples held. */
  get size(): number {
    return this.#samples.length;
  }

  /** Playback delay now in use, ms. */
  get delayMs(): number {
    return Math.min(this.#maxDelayMs, Math.max(this.#minDelayMs, 1.5 * this.#arrivalMs + 5));
  }

  /**
   * Adds a sample taken at `stamp` (ms, cell clock), received at `nowMs` (local clock).
   * Samples with a stamp not newer than the last are ignored, except a stamp far in the
   * past (the cell restarted or its clock stepped back), which starts over.
   */
  push(stamp: number, q: ArrayLike<number>, nowMs: number): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last?.stamp === Number.NEGATIVE_INFINITY) this.#samples.length = 0;
    else if (last && stamp <= last.stamp) {
      if (last.stamp - stamp < 1000) return;
      this.#samples.length = 0;
      this.#offset = Number.NaN;
    }
    this.#samples.push({ stamp, q: Float64Array.from(q) });
    if (this.#samples.length > this.#capacity) this.#samples.shift();
    const offset = nowMs - stamp;
    if (Number.isNaN(this.#offset) || offset < this.#offset) this.#offset = offset;
    else this.#offset += (offset - this.#offset) * 0.01;
    if (!Number.isNaN(this.#lastArrival)) {
      const dt = Math.min(500, nowMs - this.#lastArrival);
      this.#arrivalMs += (dt - this.#arrivalMs) * 0.1;
    }
    this.#lastArrival = nowMs;
  }

  /**
   * Shows `q` from now on, forgetting the samples: for joints without a stamp (no cell
   * sample yet, stamp 0) and for jumps that must not be animated.
   */
  hold(q: ArrayLike<number>): void {
    this.#samples.length = 0;
    this.#offset = Number.NaN;
    this.#lastArrival = Number.NaN;
    this.#samples.push({ stamp: Number.NEGATIVE_INFINITY, q: Float64Array.from(q) });
  }

  /**
   * Writes the joint values to show at local time `nowMs` into `out`.
   * @returns false when there is no sample yet (out untouched)
   */
  sample(nowMs: number, out: Float64Array): boolean {
    const s = this.#samples;
    const newest = s[s.length - 1];
    if (!newest) return false;
    const t = nowMs - this.#offset - this.delayMs;
    let i = s.length - 1;
    while (i > 0 && s[i - 1]!.stamp > t) i--;
    // s[i] is the first sample after t (or the oldest); s[i-1] the one before it.
    const b = s[i]!;
    const a = i > 0 ? s[i - 1]! : undefined;
    if (!a || t >= b.stamp) return copy(b.q, out);
    const f = Math.min(1, Math.max(0, (t - a.stamp) / (b.stamp - a.stamp)));
    const n = Math.min(out.length, a.q.length, b.q.length);
    for (let j = 0; j < n; j++) out[j] = a.q[j]! + (b.q[j]! - a.q[j]!) * f;
    return true;
  }
}

function copy(q: Float64Array, out: Float64Array): true {
  const n = Math.min(out.length, q.length);
  for (let j = 0; j < n; j++) out[j] = q[j]!;
  return true;
}
