/** Small helpers shared by the benchmarks: percentiles, rounding and latency figures. */

/** Summary of a sample of durations or sizes; the unit is the caller's (say it in the key). */
export interface Summary {
  n: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

/** Percentile by linear interpolation between closest ranks; `p` in [0, 100]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** Summarises a sample (not modified). */
export function summarize(sample: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(sample).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    n,
    mean: n ? sum / n : Number.NaN,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    min: n ? (sorted[0] as number) : Number.NaN,
    max: n ? (sorted[n - 1] as number) : Number.NaN,
  };
}

/** Runs `fn` repeatedly and returns per-call wall times in milliseconds. */
export function timeCalls(fn: (i: number) => void, iterations: number): Float64Array {
  const out = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn(i);
    out[i] = performance.now() - t0;
  }
  return out;
}

/** A figure rounded to two decimals, as the benchmarks print and store them. */
export const round = (v: number): number => Math.round(v * 100) / 100;

/** Latency figures of a sample, ms: p50, p99 and max rounded, and how many samples. */
export interface LatencyFigures {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** {@link LatencyFigures} of a sample (not modified). */
export function latencyFigures(sample: ArrayLike<number>): LatencyFigures {
  const s = summarize(sample);
  return { p50: round(s.median), p99: round(s.p99), max: round(s.max), samples: s.n };
}
