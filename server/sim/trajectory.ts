/**
 * Joint trajectories and their time parameterisation.
 *
 * {@link JointTrajectory} is shaped like `trajectory_msgs/JointTrajectory` (plain number
 * arrays, so it serialises to JSON and rosbridge as is). Between two points the motion is
 * the cubic Hermite curve through their positions and velocities — the interpolation ROS
 * controllers use for position+velocity points. Trajectories made here have one point at
 * every change of acceleration, so that cubic is their exact (quadratic) motion.
 *
 * {@link timeParameterize} times a piecewise-linear joint path with linear segments joined
 * by parabolic blends (LSPB through via points): the arm does not stop at a waypoint but
 * rounds it, staying inside the triangle of the corner and inside the joint box. Where a
 * waypoint must be passed exactly (a blend would touch an obstacle) the caller asks to stop
 * there; stopping everywhere gives synchronised rest-to-rest trapezoids.
 */
import type { ArmLimits } from "./contracts.ts";
import { assertLimits, dropDuplicateWaypoints } from "./planner/joint-space.ts";

/** One point of a trajectory, SI units, joints in {@link JointTrajectory.jointNames} order. */
export interface TrajectoryPoint {
  /** Time since the trajectory starts, s. */
  timeFromStart: number;
  /** Joint positions, rad. */
  positions: number[];
  /** Joint velocities, rad/s. */
  velocities: number[];
  /**
   * Joint accelerations, rad/s²: the value just after this point (acceleration jumps at
   * blend boundaries; the last point, at rest, has 0).
   */
  accelerations: number[];
}

/** A time-parameterised joint motion; points strictly increasing in time, the first at 0. */
export interface JointTrajectory {
  readonly jointNames: readonly string[];
  readonly points: readonly TrajectoryPoint[];
  /** Time of the last point, s. */
  readonly duration: number;
}

/** Thrown for malformed input to trajectory functions (a caller bug, not a planning failure). */
export class TrajectoryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TrajectoryError";
  }
}

export interface TimingOptions {
  /** Fraction of each joint's velocity limit to use, (0, 1] (default 1). */
  velocityScale?: number;
  /** Fraction of each joint's acceleration limit to use, (0, 1] (default 1). */
  accelerationScale?: number;
  /**
   * When true (default) the arm blends through interior waypoints, unless stopping at all
   * of them happens to be faster. When false it comes to rest at every waypoint.
   */
  blend?: boolean;
  /** Indices (into the input waypoints) where the arm must come to rest exactly. */
  stopAt?: readonly number[];
  /**
   * Shortest blend or straight piece, s (default 1e-3). Keeps every point interval long
   * enough that acceleration recovered from positions and velocities is numerically sound.
   */
  minPieceDuration?: number;
}

/** The time window in which the arm rounds (or stops at) one waypoint. */
export interface WaypointTiming {
  /** Index into the input waypoints. */
  readonly waypoint: number;
  /** Blend start and end, s from the trajectory start. */
  readonly start: number;
  readonly end: number;
  /** True when the arm is at rest exactly on the waypoint (always for start and goal). */
  readonly stops: boolean;
}

export interface TimedPath {
  readonly trajectory: JointTrajectory;
  /** One entry per distinct waypoint, in path order. */
  readonly waypoints: readonly WaypointTiming[];
}

/**
 * Times a joint-space path within velocity and acceleration limits.
 * @param waypoints rad, group order; consecutive near-duplicates (1e-9 rad) are merged
 * @param limits position limits are not enforced here (the path is assumed inside them and
 *   blends stay in the convex hull of the path); velocity and acceleration limits are
 * @throws TrajectoryError for an empty path, wrong vector lengths, NaN or bad scales
 */
export function timeParameterize(
  waypoints: readonly ArrayLike<number>[],
  limits: ArmLimits,
  options: TimingOptions = {},
): TimedPath {
  let dof: number;
  try {
    dof = assertLimits(limits);
  } catch (err) {
    throw new TrajectoryError("timeParameterize: invalid limits", { cause: err });
  }
  const vs = options.velocityScale ?? 1;
  const as = options.accelerationScale ?? 1;
  const minPiece = options.minPieceDuration ?? 1e-3;
  if (!(vs > 0 && vs <= 1) || !(as > 0 && as <= 1)) {
    throw new TrajectoryError(`timeParameterize: scales must be in (0, 1], got ${vs} and ${as}`);
  }
  if (!(minPiece > 0 && minPiece < 1)) {
    throw new TrajectoryError(`timeParameterize: minPieceDuration must be in (0, 1) s`);
  }
  if (waypoints.length === 0) throw new TrajectoryError("timeParameterize: empty path");
  const input: Float64Array[] = waypoints.map((w, i) => {
    if (w.length !== dof) {
      throw new TrajectoryError(`waypoint ${i}: expected ${dof} joint values, got ${w.length}`);
    }
    const q = Float64Array.from(w);
    if (!q.every(Number.isFinite)) throw new TrajectoryError(`waypoint ${i} is not finite`);
    return q;
  });
  const pts = dropDuplicateWaypoints(input);
  // Original index of each kept waypoint (identity by reference is safe: arrays are fresh).
  const index = pts.map((q) => input.indexOf(q));
  const vmax = new Float64Array(dof);
  const amax = new Float64Array(dof);
  for (let j = 0; j < dof; j++) {
    vmax[j] = (limits.maxVelocity[j] as number) * vs;
    amax[j] = (limits.maxAcceleration[j] as number) * as;
  }
  const jointNames = limits.jointNames;

  if (pts.length === 1) {
    const q = Array.from(pts[0] as Float64Array);
    const zero = new Array<number>(dof).fill(0);
    return {
      trajectory: {
        jointNames,
        duration: 0,
        points: [{ timeFromStart: 0, positions: q, velocities: zero, accelerations: [...zero] }],
      },
      waypoints: [{ waypoint: 0, start: 0, end: 0, stops: true }],
    };
  }

  const forced = new Set<number>();
  for (const w of options.stopAt ?? []) {
    const k = index.findIndex((orig, kk) => orig <= w && (index[kk + 1] ?? Infinity) > w);
    if (k > 0) forced.add(k);
  }
  const all = new Array<boolean>(pts.length).fill(true);
  const stopAll = build(pts, all, vmax, amax, minPiece, jointNames);
  let best = stopAll;
  if (options.blend ?? true) {
    const stops = pts.map((_, k) => k === 0 || k === pts.length - 1 || forced.has(k));
    const blended = build(pts, stops, vmax, amax, minPiece, jointNames);
    if (blended.trajectory.duration < stopAll.trajectory.duration) best = blended;
  }
  return {
    trajectory: best.trajectory,
    waypoints: best.waypoints.map((w) => ({ ...w, waypoint: index[w.waypoint] as number })),
  };
}

/** Builds the trajectory, splitting the path into rest-to-rest runs at the stop flags. */
function build(
  pts: readonly Float64Array[],
  stops: readonly boolean[],
  vmax: Float64Array,
  amax: Float64Array,
  minPiece: number,
  jointNames: readonly string[],
): TimedPath {
  const points: TrajectoryPoint[] = [];
  const timings: WaypointTiming[] = [];
  let offset = 0;
  let runStart = 0;
  for (let k = 1; k < pts.length; k++) {
    if (!stops[k]) continue;
    const run = pts.slice(runStart, k + 1);
    offset = emitRun(run, runStart, vmax, amax, minPiece, offset, points, timings);
    runStart = k;
  }
  return { trajectory: { jointNames, points, duration: offset }, waypoints: timings };
}

/**
 * Solves the segment times of one rest-to-rest run and appends its points.
 * Run model (waypoints w_0…w_m, segment k from w_k to w_{k+1}, duration T_k between the
 * blend centres): velocity on segment k is v_k = (w_{k+1} - w_k) / T_k; at w_k a parabolic
 * blend of duration b_k changes v_{k-1} into v_k (v_{-1} = v_m = 0), centred on the time
 * the straight lines would pass w_k. Limits hold when
 *   |v_k| ≤ vmax,  b_k ≥ |v_k - v_{k-1}| / amax  (per joint),
 *   b_k / 2 + b_{k+1} / 2 + minPiece ≤ T_k       (blends do not overlap).
 * @returns the end time of the run, s
 */
function emitRun(
  run: readonly Float64Array[],
  firstIndex: number,
  vmax: Float64Array,
  amax: Float64Array,
  minPiece: number,
  offset: number,
  points: TrajectoryPoint[],
  timings: WaypointTiming[],
): number {
  const dof = vmax.length;
  const m = run.length - 1;
  const delta: Float64Array[] = [];
  const T = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const a = run[k] as Float64Array;
    const b = run[k + 1] as Float64Array;
    const d = new Float64Array(dof);
    let t = minPiece;
    for (let j = 0; j < dof; j++) {
      d[j] = (b[j] as number) - (a[j] as number);
      t = Math.max(t, Math.abs(d[j] as number) / (vmax[j] as number));
    }
    delta.push(d);
    T[k] = t;
  }

  /** Blend duration at waypoint k with segment k timed `tk` (others as in T). */
  const blendAt = (k: number, segment: number, tk: number): number => {
    let b = minPiece;
    for (let j = 0; j < dof; j++) {
      const vin = k > 0 ? velocity(k - 1, j, segment, tk) : 0;
      const vout = k < m ? velocity(k, j, segment, tk) : 0;
      b = Math.max(b, Math.abs(vout - vin) / (amax[j] as number));
    }
    return b;
  };
  const velocity = (k: number, j: number, segment: number, tk: number): number =>
    ((delta[k] as Float64Array)[j] as number) / (k === segment ? tk : (T[k] as number));
  const slack = (k: number, tk: number): number =>
    tk - blendAt(k, k, tk) / 2 - blendAt(k + 1, k, tk) / 2 - minPiece;

  // Gauss-Seidel: lengthen any segment whose blends overlap until they fit. Lengthening only
  // ever increases T, and the blends are bounded, so this terminates; the uniform stretch
  // below is the backstop that always fits (blends shrink as 1/s while T grows as s).
  let feasible = false;
  for (let round = 0; round < 100 && !feasible; round++) {
    feasible = true;
    for (let k = 0; k < m; k++) {
      const tk = T[k] as number;
      if (slack(k, tk) >= 0) continue;
      feasible = false;
      let lo = tk;
      let hi = tk * 2;
      for (let g = 0; g < 200 && slack(k, hi) < 0; g++) {
        lo = hi;
        hi *= 2;
      }
      for (let it = 0; it < 50; it++) {
        const mid = 0.5 * (lo + hi);
        if (slack(k, mid) >= 0) hi = mid;
        else lo = mid;
      }
      T[k] = hi;
    }
  }
  for (let g = 0; g < 400; g++) {
    let ok = true;
    for (let k = 0; k < m; k++) if (slack(k, T[k] as number) < 0) ok = false;
    if (ok) break;
    for (let k = 0; k < m; k++) T[k] = (T[k] as number) * 1.25;
  }

  const b = new Float64Array(m + 1);
  for (let k = 0; k <= m; k++) b[k] = blendAt(k, -1, 0);
  const v = (k: number, j: number): number =>
    k < 0 || k >= m ? 0 : ((delta[k] as Float64Array)[j] as number) / (T[k] as number);

  let centre = offset + (b[0] as number) / 2;
  for (let k = 0; k <= m; k++) {
    const w = run[k] as Float64Array;
    const bk = b[k] as number;
    const t0 = centre - bk / 2;
    const t1 = centre + bk / 2;
    const start: TrajectoryPoint = {
      timeFromStart: t0,
      positions: new Array<number>(dof),
      velocities: new Array<number>(dof),
      accelerations: new Array<number>(dof),
    };
    const end: TrajectoryPoint = {
      timeFromStart: t1,
      positions: new Array<number>(dof),
      velocities: new Array<number>(dof),
      accelerations: new Array<number>(dof).fill(0),
    };
    for (let j = 0; j < dof; j++) {
      const vin = v(k - 1, j);
      const vout = v(k, j);
      const wj = w[j] as number;
      start.positions[j] = wj - (vin * bk) / 2;
      start.velocities[j] = vin;
      start.accelerations[j] = (vout - vin) / bk;
      end.positions[j] = wj + (vout * bk) / 2;
      end.velocities[j] = vout;
    }
    // Exact rest on the run's end points (no rounding residue from w ± 0·b/2).
    if (k === 0) start.positions = Array.from(w);
    if (k === m) end.positions = Array.from(w);
    const prev = points[points.length - 1];
    const timing = { waypoint: firstIndex + k, start: t0, end: t1, stops: k === 0 || k === m };
    if (k === 0 && prev !== undefined) {
      // An interior stop: the previous run ended at rest on this waypoint at this time.
      prev.accelerations = start.accelerations;
      const before = timings.pop();
      timings.push({ ...timing, start: before?.start ?? t0 });
    } else {
      points.push(start);
      timings.push(timing);
    }
    points.push(end);
    if (k < m) centre += T[k] as number;
  }
  return centre + (b[m] as number) / 2;
}
