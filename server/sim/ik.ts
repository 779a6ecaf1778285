/**
 * Inverse kinematics by damped least squares with joint limits: from a seed, step
 * `dq = Jᵀ(JJᵀ + λ²I)⁻¹ e` towards the target (position error in m, orientation error as
 * a rotation vector in rad), clamp to the joint limits, repeat. A step that does not
 * reduce the error raises λ (Levenberg–Marquardt style); a stall restarts from a random
 * configuration inside the limits. The first solution that meets both tolerances and the
 * caller's `accept` test (e.g. collision-free) wins.
 *
 * Frames: target and result in `base_link`; joints in group order, rad.
 */
import type { Pose } from "../../shared/geometry.ts";
import type { ArmLimits, IkOptions, IkResult } from "./contracts.ts";
import { dampedLeastSquares, newDlsScratch } from "./linalg.ts";
import { rotationErrorVector, TRANSFORM_SIZE, transformFromPose } from "./math.ts";
import { seededRandom } from "./random.ts";

/** Largest position error fed to one step, m: keeps steps inside the linear regime. */
const MAX_STEP_POSITION_M = 0.1;
/** Largest orientation error fed to one step, rad. */
const MAX_STEP_ANGLE_RAD = 0.5;
/** Largest change of one joint in one step, rad. */
const MAX_JOINT_STEP_RAD = 0.35;

/**
 * Solves IK for `target` starting at `seed`, then from random restarts.
 * @returns the solution, or the best configuration found with `ok: false`
 */
/**
 * What the solver needs of an arm (implemented by `ArmKinematics`): its joint count and
 * limits, the tool transform and the geometric Jacobian, both in `base_link`.
 */
export interface IkKinematics extends ArmLimits {
  readonly dof: number;
  /** Tool transform (see `Transform` in math.ts) in `base_link` for joint positions `q` (rad). */
  fkTransform(q: ArrayLike<number>, out: Float64Array): Float64Array;
  /** 6 × dof geometric Jacobian, row-major, rows (vx, vy, vz, wx, wy, wz), `base_link`. */
  jacobian(q: ArrayLike<number>, out?: Float64Array): Float64Array;
}

export function solveIk(
  kin: IkKinematics,
  target: Pose,
  seed: ArrayLike<number>,
  options: IkOptions = {},
): IkResult {
  const n = kin.dof;
  const maxIterations = options.maxIterations ?? 200;
  const tolP = options.positionTolerance ?? 1e-4;
  const tolO = options.orientationTolerance ?? 1e-3;
  const restarts = options.restarts ?? 8;
  const random = options.random ?? seededRandom(0x1c0ffee);
  const goal = transformFromPose(target);

  const q = new Float64Array(n);
  const trial = new Float64Array(n);
  const dq = new Float64Array(n);
  const jac = new Float64Array(6 * n);
  const e = new Float64Array(6);
  const tool = new Float64Array(TRANSFORM_SIZE);
  const scratch = newDlsScratch();
  const best = { q: new Float64Array(n), cost: Infinity, p: Infinity, o: Infinity };
  let iterations = 0;

  /** Error of configuration `x` into `e`; returns [position m, angle rad]. */
  const error = (x: Float64Array): [number, number] => {
    kin.fkTransform(x, tool);
    e[0] = (goal[9] as number) - (tool[9] as number);
    e[1] = (goal[10] as number) - (tool[10] as number);
    e[2] = (goal[11] as number) - (tool[11] as number);
    const angle = rotationErrorVector(e, goal, tool, 0, 0, 3);
    return [Math.hypot(e[0], e[1], e[2]), angle];
  };

  for (let attempt = 0; attempt <= restarts; attempt++) {
    if (attempt === 0) {
      for (let j = 0; j < n; j++)
        q[j] = clamp(seed[j] as number, kin.lower[j] as number, kin.upper[j] as number);
    } else {
      for (let j = 0; j < n; j++) {
        const lo = kin.lower[j] as number;
        q[j] = lo + ((kin.upper[j] as number) - lo) * random();
      }
    }
    let lambda = 0.02;
    let [p, o] = error(q);
    for (let it = 0; it < maxIterations; it++) {
      iterations += 1;
      const cost = p + 0.2 * o;
      if (cost < best.cost) {
        best.q.set(q);
        best.cost = cost;
        best.p = p;
        best.o = o;
      }
      if (p <= tolP && o <= tolO) {
        if (!options.accept || options.accept(q)) {
          return {
            ok: true,
            q: Float64Array.from(q),
            positionError: p,
            orientationError: o,
            iterations,
          };
        }
        break; // a solution the caller refuses (e.g. in collision): try elsewhere
      }
      // Clamp the task error so a far target is approached in straight, stable steps.
      const sp = p > MAX_STEP_POSITION_M ? MAX_STEP_POSITION_M / p : 1;
      const so = o > MAX_STEP_ANGLE_RAD ? MAX_STEP_ANGLE_RAD / o : 1;
      for (let i = 0; i < 3; i++) {
        e[i] = (e[i] as number) * sp;
        e[i + 3] = (e[i + 3] as number) * so;
      }
      kin.jacobian(q, jac);
      dampedLeastSquares(jac, n, e, lambda, dq, scratch);
      let biggest = 0;
      for (let j = 0; j < n; j++) biggest = Math.max(biggest, Math.abs(dq[j] as number));
      const s = biggest > MAX_JOINT_STEP_RAD ? MAX_JOINT_STEP_RAD / biggest : 1;
      for (let j = 0; j < n; j++) {
        trial[j] = clamp(
          (q[j] as number) + (dq[j] as number) * s,
          kin.lower[j] as number,
          kin.upper[j] as number,
        );
      }
      const [tp, to] = error(trial);
      if (tp + 0.2 * to < cost) {
        q.set(trial);
        p = tp;
        o = to;
        lambda = Math.max(1e-3, lambda * 0.5);
      } else {
        lambda *= 4;
        [p, o] = error(q);
        if (lambda > 10) break; // stuck against limits or in a local minimum
      }
    }
  }
  return { ok: false, q: best.q, positionError: best.p, orientationError: best.o, iterations };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
