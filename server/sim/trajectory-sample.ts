/**
 * Reading a {@link JointTrajectory} at any time: cubic Hermite interpolation between points
 * (exact for trajectories from `timeParameterize`, and what ROS controllers do for
 * position+velocity points), plus decimation for previews and resampling for consumers
 * that want evenly spaced points. Times in s, positions in rad, velocities in rad/s.
 */
import { TrajectoryError, type JointTrajectory, type TrajectoryPoint } from "./trajectory.ts";

/** Where {@link sampleTrajectory} writes; arrays of the trajectory's joint count. */
export interface TrajectorySample {
  /** rad */
  positions: Float64Array;
  /** rad/s */
  velocities: Float64Array;
  /** rad/s², written when present. */
  accelerations?: Float64Array;
}

/**
 * Index i of the interval [points[i], points[i+1]] holding time `t` (s), clamped to the
 * first and last interval. `hint` (a previous answer) makes sequential reads O(1).
 */
export function findInterval(traj: JointTrajectory, t: number, hint = 0): number {
  const pts = traj.points;
  const last = pts.length - 2;
  if (last <= 0) return 0;
  let i = Math.min(Math.max(hint, 0), last);
  if (time(pts, i) <= t && t <= time(pts, i + 1)) return i;
  if (i < last && time(pts, i + 1) <= t && t <= time(pts, i + 2)) return i + 1;
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (time(pts, mid) <= t) lo = mid;
    else hi = mid - 1;
  }
  i = lo;
  return i;
}

/**
 * Position, velocity (and acceleration) at time `t`, s. Before 0 and after the duration the
 * arm holds the first / last positions at rest (velocity and acceleration 0).
 * @param hint interval index from a previous call (see {@link findInterval})
 * @returns the interval index used, to pass back as `hint`
 */
export function sampleTrajectory(
  traj: JointTrajectory,
  t: number,
  out: TrajectorySample,
  hint = 0,
): number {
  const pts = traj.points;
  const first = pts[0];
  if (first === undefined) throw new TrajectoryError("sampleTrajectory: trajectory has no points");
  const dof = first.positions.length;
  const lastPoint = pts[pts.length - 1] as TrajectoryPoint;
  if (!(t >= 0) || t > lastPoint.timeFromStart || pts.length === 1) {
    const p = t > 0 ? lastPoint : first;
    for (let j = 0; j < dof; j++) {
      out.positions[j] = p.positions[j] as number;
      out.velocities[j] = 0;
      if (out.accelerations) out.accelerations[j] = 0;
    }
    return t > 0 ? Math.max(0, pts.length - 2) : 0;
  }
  const i = findInterval(traj, t, hint);
  hermiteAt(pts[i] as TrajectoryPoint, pts[i + 1] as TrajectoryPoint, t, out);
  return i;
}

/** Evaluates the Hermite cubic between `a` and `b` at time `t` (s, within their times). */
export function hermiteAt(
  a: TrajectoryPoint,
  b: TrajectoryPoint,
  t: number,
  out: TrajectorySample,
): void {
  const h = b.timeFromStart - a.timeFromStart;
  const s = Math.min(Math.max(t - a.timeFromStart, 0), h);
  const dof = a.positions.length;
  for (let j = 0; j < dof; j++) {
    const p0 = a.positions[j] as number;
    const v0 = a.velocities[j] as number;
    const v1 = b.velocities[j] as number;
    const d = (b.positions[j] as number) - p0;
    // p(s) = p0 + v0 s + c2 s² + c3 s³ matching p and v at both ends.
    const c2 = ((3 * d) / h - 2 * v0 - v1) / h;
    const c3 = ((-2 * d) / h + v0 + v1) / (h * h);
    out.positions[j] = p0 + s * (v0 + s * (c2 + s * c3));
    out.velocities[j] = v0 + s * (2 * c2 + 3 * c3 * s);
    if (out.accelerations) out.accelerations[j] = 2 * c2 + 6 * c3 * s;
  }
}

/** Allocates a sample buffer for `dof` joints. */
export function newSample(dof: number, withAccelerations = false): TrajectorySample {
  const s: TrajectorySample = {
    positions: new Float64Array(dof),
    velocities: new Float64Array(dof),
  };
  if (withAccelerations) s.accelerations = new Float64Array(dof);
  return s;
}

/**
 * At most `maxPoints` points evenly spaced in time (first and last kept), for previews.
 * A trajectory that already fits is returned as is. The result is a preview: between its
 * points it only approximates the original motion.
 * @throws TrajectoryError when `maxPoints` < 2
 */
export function decimate(traj: JointTrajectory, maxPoints: number): JointTrajectory {
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) {
    throw new TrajectoryError(`decimate: maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  }
  if (traj.points.length <= maxPoints) return traj;
  const times: number[] = [];
  for (let i = 0; i < maxPoints; i++) times.push((traj.duration * i) / (maxPoints - 1));
  return { jointNames: traj.jointNames, duration: traj.duration, points: sampleAt(traj, times) };
}

/**
 * Adds points so that no interval is longer than `period` (s), keeping every original
 * point, so the motion is unchanged (for consumers that expect evenly dense points).
 * @param maxPoints bound on the result's size (default 100 000)
 * @throws TrajectoryError for a non-positive period or a result above `maxPoints`
 */
export function resampleTrajectory(
  traj: JointTrajectory,
  period: number,
  maxPoints = 100_000,
): JointTrajectory {
  if (!(period > 0 && Number.isFinite(period))) {
    throw new TrajectoryError(`resampleTrajectory: period must be positive, got ${period}`);
  }
  const times: number[] = [];
  const pts = traj.points;
  for (let i = 0; i < pts.length; i++) {
    const t0 = time(pts, i);
    times.push(t0);
    if (i + 1 < pts.length) {
      const n = Math.ceil((time(pts, i + 1) - t0) / period - 1e-9);
      for (let k = 1; k < n; k++) times.push(t0 + ((time(pts, i + 1) - t0) * k) / n);
    }
    if (times.length > maxPoints) {
      throw new TrajectoryError(`resampleTrajectory: more than ${maxPoints} points`);
    }
  }
  return { jointNames: traj.jointNames, duration: traj.duration, points: sampleAt(traj, times) };
}

function sampleAt(traj: JointTrajectory, times: readonly number[]): TrajectoryPoint[] {
  const dof = traj.jointNames.length;
  const buf = newSample(dof, true);
  const out: TrajectoryPoint[] = [];
  let hint = 0;
  const lastIndex = traj.points.length - 1;
  for (let n = 0; n < times.length; n++) {
    const t = times[n] as number;
    hint = sampleTrajectory(traj, t, buf, hint);
    const point: TrajectoryPoint = {
      timeFromStart: t,
      positions: Array.from(buf.positions),
      velocities: Array.from(buf.velocities),
      accelerations: Array.from(buf.accelerations as Float64Array),
    };
    // The end points are copied, not interpolated: the goal must be hit exactly.
    if (n === 0) Object.assign(point, copyPoint(traj.points[0] as TrajectoryPoint));
    if (n === times.length - 1)
      Object.assign(point, copyPoint(traj.points[lastIndex] as TrajectoryPoint));
    out.push(point);
  }
  return out;
}

function copyPoint(p: TrajectoryPoint): TrajectoryPoint {
  return {
    timeFromStart: p.timeFromStart,
    positions: [...p.positions],
    velocities: [...p.velocities],
    accelerations: [...p.accelerations],
  };
}

function time(pts: readonly TrajectoryPoint[], i: number): number {
  return (pts[i] as TrajectoryPoint).timeFromStart;
}
