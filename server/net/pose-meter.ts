/**
 * Meters the headsets' pose messages: how many each headset sends per second and what share
 * of them carry the hand controllers — the `poseRateHz` and `handsShare` of a
 * {@link TrafficScenario}, which the traffic model needs to tell a 30 Hz head-only client from
 * a 72 Hz headset with both controllers. Counts go into clock-aligned windows (as the
 * {@link TrafficMeter}'s), a bounded ring per headset; pure bookkeeping, no timers.
 */
import type { TrafficScenario } from "./contracts.ts";

/** Options of a {@link PoseMeter}. */
export interface PoseMeterOptions {
  /** Window length, s (default 1, as the traffic meter's). */
  readonly windowS?: number;
  /** Closed windows the measure spans (default 120, the traffic meter's history). */
  readonly history?: number;
  /** Headsets kept at most (default 1024; the longest-silent one is evicted beyond). */
  readonly maxHeadsets?: number;
  /** Clock, ms (default `Date.now`). */
  readonly now?: () => number;
}

/** What a {@link PoseMeter} measured; the scenario fields of the same names. */
export type PoseMeasurement = Required<Pick<TrafficScenario, "poseRateHz" | "handsShare">>;

class HeadsetRing {
  /** Window index of the headset's first pose (that window is partial). */
  readonly first: number;
  lastMs = 0;
  /** Per ring slot: the window index it holds, its poses and poses with hands. */
  readonly index: Float64Array;
  readonly poses: Float64Array;
  readonly hands: Float64Array;

  constructor(first: number, capacity: number) {
    this.first = first;
    this.index = new Float64Array(capacity).fill(-1);
    this.poses = new Float64Array(capacity);
    this.hands = new Float64Array(capacity);
  }

  add(index: number, withHands: boolean): void {
    const slot = index % this.index.length;
    if (this.index[slot] !== index) {
      this.index[slot] = index;
      this.poses[slot] = 0;
      this.hands[slot] = 0;
    }
    this.poses[slot]! += 1;
    if (withHands) this.hands[slot]! += 1;
  }
}

/** Pose messages per headset, in windows. */
export class PoseMeter {
  readonly #windowMs: number;
  readonly #history: number;
  readonly #maxHeadsets: number;
  readonly #now: () => number;
  readonly #headsets = new Map<string, HeadsetRing>();

  constructor(options: PoseMeterOptions = {}) {
    const windowS = options.windowS ?? 1;
    const history = options.history ?? 120;
    if (!(windowS > 0)) throw new RangeError(`windowS must be positive, got ${windowS}`);
    if (!(Number.isInteger(history) && history >= 1))
      throw new RangeError(`history must be a positive integer, got ${history}`);
    this.#windowMs = windowS * 1000;
    this.#history = history;
    this.#maxHeadsets = options.maxHeadsets ?? 1024;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Counts one accepted pose message of `headset` at `atMs` (ms since the epoch).
   * @param withHands whether it carried a hand controller (left or right)
   */
  record(headset: string, withHands: boolean, atMs: number = this.#now()): void {
    if (!Number.isFinite(atMs)) return;
    const index = Math.floor(atMs / this.#windowMs);
    let ring = this.#headsets.get(headset);
    if (!ring) {
      if (this.#headsets.size >= this.#maxHeadsets) this.#evict();
      ring = new HeadsetRing(index, this.#history + 1);
      this.#headsets.set(headset, ring);
    }
    ring.lastMs = atMs;
    ring.add(index, withHands);
  }

  /** Forgets a headset (it left). */
  removeHeadset(headset: string): void {
    this.#headsets.delete(headset);
  }

  /**
   * Pose messages per headset per second and the share of them with hands, over the last
   * `history` closed windows; a headset's first window (it joined during it) and the open
   * window do not count. The rate is the mean over `present` headsets when given (those that
   * sent no pose count as 0 Hz, as in a scenario where every one of its headsets poses at
   * `poseRateHz` on average), else over the headsets that sent poses. Null when no headset
   * has a full window in that span (callers fall back to the scenario defaults).
   */
  measure(nowMs: number = this.#now(), present?: number): PoseMeasurement | null {
    const open = Math.floor(nowMs / this.#windowMs);
    const from = open - this.#history;
    let rates = 0;
    let headsets = 0;
    let poses = 0;
    let hands = 0;
    for (const ring of this.#headsets.values()) {
      const start = Math.max(from, ring.first + 1);
      if (start >= open) continue;
      let n = 0;
      for (let slot = 0; slot < ring.index.length; slot++) {
        const i = ring.index[slot]!;
        if (i < start || i >= open) continue;
        n += ring.poses[slot]!;
        hands += ring.hands[slot]!;
      }
      rates += (n * 1000) / ((open - start) * this.#windowMs);
      poses += n;
      headsets++;
    }
    if (headsets === 0 || poses === 0) return null;
    const over = present !== undefined && present > headsets ? present : headsets;
    return { poseRateHz: rates / over, handsShare: hands / poses };
  }

  #evict(): void {
    let oldest: string | undefined;
    let at = Infinity;
    for (const [id, ring] of this.#headsets) if (ring.lastMs < at) [oldest, at] = [id, ring.lastMs];
    if (oldest !== undefined) this.#headsets.delete(oldest);
  }
}
