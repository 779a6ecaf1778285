/**
 * Cutting generated emissions into metering windows, and the statistics of window series
 * (mean, quantile) the traffic data sets and evaluations use.
 */
import type { FlowClass, FlowWindow } from "../../net/contracts.ts";
import { windowOf } from "../../net/flow-window.ts";

/** Default metering window, s. */
export const WINDOW_S = 1;

/** A trace parameter outside what the generators model. */
export class TraceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TraceError";
  }
}

/** One transmitted unit: a frame, message or packet burst at a time. */
export interface Emission {
  /** Send time from the start of the trace, s. */
  readonly t: number;
  readonly bytes: number;
  /** Packets it was split into (1 for messages and patch frames). */
  readonly packets: number;
}

/**
 * Cuts emissions into `count` windows of `windowS` starting at t = 0. A window without
 * packets has zero throughput and size and an inter-arrival of the window length.
 */
export function toWindows(
  flowClass: FlowClass,
  emissions: Iterable<Emission>,
  count: number,
  windowS: number,
): FlowWindow[] {
  const bytes = new Float64Array(count);
  const packets = new Float64Array(count);
  for (const e of emissions) {
    const i = Math.floor(e.t / windowS);
    if (i < 0 || i >= count) continue;
    bytes[i] = (bytes[i] as number) + e.bytes;
    packets[i] = (packets[i] as number) + e.packets;
  }
  const out: FlowWindow[] = [];
  for (let i = 0; i < count; i++) out.push(windowOf(flowClass, bytes[i]!, packets[i]!, windowS));
  return out;
}

/** Arithmetic mean (0 for no values). */
export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
}

/** Quantile `q` ∈ [0, 1] by linear interpolation between order statistics (0 for none). */
export function quantile(xs: ArrayLike<number>, q: number): number {
  if (xs.length === 0) return 0;
  const s = Array.from(xs).sort((a, b) => a - b);
  const pos = clamp(q, 0, 1) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** `x` limited to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** `x` rounded to `digits` decimals. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
