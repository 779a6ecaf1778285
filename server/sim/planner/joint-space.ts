/**
 * Joint-space helpers shared by the planner parts: input checks, distances and limit tests.
 * Joint vectors are in group order, rad. Distances are Euclidean in joint space (rad) unless
 * a name says `maxAbs` (the largest single-joint difference, rad).
 */
import type { ArmLimits } from "../contracts.ts";

/** Thrown for a malformed call (wrong vector length, NaN, bad option): a caller bug. */
export class PlannerInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PlannerInputError";
  }
}

/** A joint outside its position limits. */
export interface LimitBreach {
  /** Index in group order. */
  readonly joint: number;
  readonly jointName: string;
  /** Offending position, rad. */
  readonly value: number;
  /** Limits, rad. */
  readonly lower: number;
  readonly upper: number;
}

/** Throws {@link PlannerInputError} unless `q` has `dof` finite entries. */
export function assertJointVector(what: string, q: ArrayLike<number>, dof: number): void {
  if (q.length !== dof) {
    throw new PlannerInputError(`${what}: expected ${dof} joint values, got ${q.length}`);
  }
  for (let j = 0; j < dof; j++) {
    if (!Number.isFinite(q[j])) throw new PlannerInputError(`${what}: joint ${j} is not finite`);
  }
}

/** Throws {@link PlannerInputError} unless the limit arrays agree in length and are sane. */
export function assertLimits(limits: ArmLimits): number {
  const dof = limits.lower.length;
  if (
    dof === 0 ||
    limits.upper.length !== dof ||
    limits.maxVelocity.length !== dof ||
    limits.maxAcceleration.length !== dof ||
    limits.jointNames.length !== dof
  ) {
    throw new PlannerInputError("limits: arrays must be non-empty and of equal length");
  }
  for (let j = 0; j < dof; j++) {
    const lo = limits.lower[j] as number;
    const hi = limits.upper[j] as number;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) {
      throw new PlannerInputError(`limits: joint ${j} has an invalid position range`);
    }
    const v = limits.maxVelocity[j] as number;
    const a = limits.maxAcceleration[j] as number;
    if (!(v > 0 && a > 0 && Number.isFinite(v) && Number.isFinite(a))) {
      throw new PlannerInputError(`limits: joint ${j} needs positive finite velocity/acceleration`);
    }
  }
  return dof;
}

/**
 * First joint of `q` outside `[lower - tolerance, upper + tolerance]`, or null.
 * @param tolerance rad; a measured arm resting on a limit may read a hair beyond it
 */
export function findLimitBreach(
  q: ArrayLike<number>,
  limits: Pick<ArmLimits, "lower" | "upper" | "jointNames">,
  tolerance = 0,
): LimitBreach | null {
  for (let j = 0; j < limits.lower.length; j++) {
    const v = q[j] as number;
    const lower = limits.lower[j] as number;
    const upper = limits.upper[j] as number;
    if (!(v >= lower - tolerance && v <= upper + tolerance)) {
      return { joint: j, jointName: limits.jointNames[j] ?? `joint${j}`, value: v, lower, upper };
    }
  }
  return null;
}

/** Euclidean distance in joint space, rad. */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const d = (a[j] as number) - (b[j] as number);
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Largest single-joint difference, rad. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) {
    const d = Math.abs((a[j] as number) - (b[j] as number));
    if (d > m) m = d;
  }
  return m;
}

/** Sum of the Euclidean lengths of a path's segments, rad. */
export function pathLength(path: readonly ArrayLike<number>[]): number {
  let len = 0;
  for (let i = 1; i < path.length; i++)
    len += distance(path[i - 1] as ArrayLike<number>, path[i] as ArrayLike<number>);
  return len;
}

/** `out = a + (b - a) * s`. */
export function lerpInto(
  out: Float64Array,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  s: number,
): Float64Array {
  for (let j = 0; j < out.length; j++) {
    const x = a[j] as number;
    out[j] = x + ((b[j] as number) - x) * s;
  }
  return out;
}

/**
 * Drops consecutive waypoints closer than `epsilon` (max-abs, rad) to their predecessor,
 * always keeping the first. A path that collapses to one point (start ≈ goal) returns `[first]`.
 */
export function dropDuplicateWaypoints(
  path: readonly Float64Array[],
  epsilon = 1e-9,
): Float64Array[] {
  const out: Float64Array[] = [];
  for (const q of path) {
    const prev = out[out.length - 1];
    if (prev === undefined || maxAbsDiff(prev, q) > epsilon) out.push(q);
  }
  // Keep the exact goal: it replaces its near-duplicate predecessor (but never the start).
  const last = path[path.length - 1];
  if (last !== undefined && out.length > 1 && out[out.length - 1] !== last) {
    out[out.length - 1] = last;
  }
  return out;
}
