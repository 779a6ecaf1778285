/**
 * Job progress from ffmpeg's own progress output (`-progress pipe:1`): blocks of
 * `key=value` lines, one block per `-stats_period` (0.5 s), each ending in
 * `progress=continue` or, for the last, `progress=end`. `out_time_us` is how much of the
 * clip has been written, µs. The rungs of a job are encoded one after another, so the job's
 * fraction is the rungs done plus the running rung's share, each rung weighted by its
 * pixels per frame (what the encode time scales with).
 */

/** One `key=value` line of `-progress` output, or null for anything else. */
export function parseProgressLine(line: string): { key: string; value: string } | null {
  const eq = line.indexOf("=");
  if (eq <= 0) return null;
  return { key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() };
}

/** Highest fraction reported before the job is published (1 means published). */
export const MAX_RUNNING_FRACTION = 0.99;

/** Progress of a ladder encoded one rung at a time. */
export class LadderProgress {
  readonly #weights: number[];
  readonly #total: number;
  readonly #durationS: number;
  readonly #onProgress: (fraction: number) => void;
  #rung = 0;
  #done = 0;
  #reported = 0;

  /**
   * @param rungs the frames encoded, in order, px
   * @param durationS the clip's duration, s
   * @param onProgress called with the job's fraction, 0..{@link MAX_RUNNING_FRACTION},
   *   each time it rises
   */
  constructor(
    rungs: readonly { readonly width: number; readonly height: number }[],
    durationS: number,
    onProgress: (fraction: number) => void,
  ) {
    this.#weights = rungs.map((r) => r.width * r.height);
    this.#total = this.#weights.reduce((a, b) => a + b, 0) || 1;
    this.#durationS = durationS;
    this.#onProgress = onProgress;
  }

  /** Rung `index` starts (its predecessors are done). */
  startRung(index: number): void {
    this.#rung = index;
    this.#done = this.#weights.slice(0, index).reduce((a, b) => a + b, 0);
  }

  /** One line of the running rung's `-progress` output. */
  line(line: string): void {
    const kv = parseProgressLine(line);
    if (!kv) return;
    if (kv.key === "out_time_us") {
      // "N/A" until the first packet is written.
      const us = Number(kv.value);
      if (!Number.isFinite(us) || us < 0 || !(this.#durationS > 0)) return;
      this.#report(Math.min(1, us / 1e6 / this.#durationS));
    } else if (kv.key === "progress" && kv.value === "end") {
      this.#report(1);
    }
  }

  #report(rungFraction: number): void {
    const weight = this.#weights[this.#rung] ?? 0;
    const fraction = Math.min(
      MAX_RUNNING_FRACTION,
      (this.#done + weight * rungFraction) / this.#total,
    );
    if (fraction <= this.#reported) return;
    this.#reported = fraction;
    this.#onProgress(fraction);
  }
}
