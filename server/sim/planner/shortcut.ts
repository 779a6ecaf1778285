/**
 * Path smoothing for sampling-based plans: random shortcutting between points anywhere on
 * the path (not only waypoints, which removes the RRT's zig-zag far better), bracketed by a
 * greedy pass that drops waypoints whose neighbours see each other.
 *
 * Every segment the output contains that is not a segment of the input was checked with
 * the shared {@link SegmentChecker}, so an input whose segments are collision-free at the
 * checker's resolution gives an output that is too. Start and goal are kept exactly.
 */
import { seededRandom } from "../random.ts";
import {
  distance,
  dropDuplicateWaypoints,
  lerpInto,
  pathLength,
  PlannerInputError,
} from "./joint-space.ts";
import type { SegmentChecker } from "./segment-checker.ts";

export interface ShortcutOptions {
  /** Random shortcut attempts (default 150). */
  iterations?: number;
  /** Wall-clock budget for the random attempts, ms (default 50); the greedy passes always run. */
  timeoutMs?: number;
  /** Seed for the default PRNG (default 1). Ignored when `random` is given. */
  seed?: number;
  random?: () => number;
}

export interface ShortcutResult {
  /** start, …, goal, rad. */
  readonly path: Float64Array[];
  /** Euclidean joint-space lengths, rad. */
  readonly lengthBefore: number;
  readonly lengthAfter: number;
  /** Random shortcuts tried / applied. */
  readonly attempts: number;
  readonly applied: number;
  /** Collision queries made by this call. */
  readonly collisionChecks: number;
}

/**
 * Greedy pass: from each kept waypoint, skip ahead while the straight segment to the
 * waypoint after next is free. Never lengthens the path (triangle inequality).
 */
export function removeRedundantWaypoints(
  path: readonly Float64Array[],
  segments: SegmentChecker,
): Float64Array[] {
  const p = dropDuplicateWaypoints(path);
  if (p.length <= 2) return p;
  const out: Float64Array[] = [p[0] as Float64Array];
  let anchor = p[0] as Float64Array;
  for (let i = 1; i < p.length - 1; i++) {
    const next = p[i + 1] as Float64Array;
    if (segments.segmentFree(anchor, next)) continue;
    anchor = p[i] as Float64Array;
    out.push(anchor);
  }
  out.push(p[p.length - 1] as Float64Array);
  return out;
}

/**
 * Shortens a collision-free path (rad, group order) with random shortcuts.
 * @throws PlannerInputError for an empty path or bad options
 */
export function shortcutPath(
  path: readonly Float64Array[],
  segments: SegmentChecker,
  options: ShortcutOptions = {},
): ShortcutResult {
  if (path.length === 0) throw new PlannerInputError("shortcutPath: empty path");
  const iterations = options.iterations ?? 150;
  const timeoutMs = options.timeoutMs ?? 50;
  if (!(iterations >= 0) || !(timeoutMs >= 0)) {
    throw new PlannerInputError("shortcutPath: iterations and timeoutMs must be ≥ 0");
  }
  const t0 = performance.now();
  const checks0 = segments.checks;
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const lengthBefore = pathLength(path);

  let p = removeRedundantWaypoints(path, segments);
  const dof = (p[0] as Float64Array).length;
  let attempts = 0;
  let applied = 0;
  // Cumulative arc length at each waypoint, rebuilt after every applied shortcut.
  let cum = cumulative(p);
  while (attempts < iterations && p.length > 2 && performance.now() - t0 < timeoutMs) {
    attempts += 1;
    const total = cum[cum.length - 1] as number;
    let s1 = random() * total;
    let s2 = random() * total;
    if (s1 > s2) [s1, s2] = [s2, s1];
    const i = segmentAt(cum, s1);
    const k = segmentAt(cum, s2);
    if (i === k) continue; // a chord of one straight segment is that segment
    const a = pointAt(p, cum, i, s1, new Float64Array(dof));
    const b = pointAt(p, cum, k, s2, new Float64Array(dof));
    const chord = distance(a, b);
    if (chord >= s2 - s1 - 1e-9) continue; // nothing to gain (the stretch is straight)
    const wi = p[i] as Float64Array;
    const wk1 = p[k + 1] as Float64Array;
    // The chord is the likeliest to fail; the two end pieces lie on checked segments but are
    // re-checked so that every output segment is sampled exactly as SegmentChecker samples.
    if (!segments.segmentFree(a, b)) continue;
    if (!segments.segmentFree(wi, a) || !segments.segmentFree(b, wk1)) continue;
    p = dropDuplicateWaypoints([...p.slice(0, i + 1), a, b, ...p.slice(k + 1)]);
    cum = cumulative(p);
    applied += 1;
  }
  p = removeRedundantWaypoints(p, segments);
  return {
    path: p,
    lengthBefore,
    lengthAfter: pathLength(p),
    attempts,
    applied,
    collisionChecks: segments.checks - checks0,
  };
}

function cumulative(p: readonly Float64Array[]): Float64Array {
  const cum = new Float64Array(p.length);
  for (let i = 1; i < p.length; i++) {
    cum[i] = (cum[i - 1] as number) + distance(p[i - 1] as Float64Array, p[i] as Float64Array);
  }
  return cum;
}

/** Index i of the segment [p_i, p_{i+1}] holding arc length s. */
function segmentAt(cum: Float64Array, s: number): number {
  let lo = 0;
  let hi = cum.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((cum[mid] as number) <= s) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function pointAt(
  p: readonly Float64Array[],
  cum: Float64Array,
  i: number,
  s: number,
  out: Float64Array,
): Float64Array {
  const len = (cum[i + 1] as number) - (cum[i] as number);
  const f = len > 0 ? Math.min(1, Math.max(0, (s - (cum[i] as number)) / len)) : 0;
  return lerpInto(out, p[i] as Float64Array, p[i + 1] as Float64Array, f);
}
