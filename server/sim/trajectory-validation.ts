/**
 * Replays a time-parameterised trajectory in the twin before it may reach the arm: every
 * point within the joint position and velocity limits, and the motion between points
 * collision-free, sampled so that no joint moves more than `resolution` rad between two
 * checked configurations (the same rule the planner's segment checks use).
 */
import {
  type ArmCollisionChecker,
  type ArmLimits,
  type CollisionHit,
  describeHit,
} from "./contracts.ts";
import { findLimitBreach } from "./planner/joint-space.ts";
import type { JointTrajectory } from "./trajectory.ts";
import { newSample, sampleTrajectory } from "./trajectory-sample.ts";

export type ValidationResult =
  | { readonly ok: true; readonly checks: number }
  | {
      readonly ok: false;
      readonly message: string;
      /** Time of the problem, s from the start (NaN for structural problems). */
      readonly time: number;
      readonly hit?: CollisionHit;
      readonly checks: number;
    };

export interface ValidationOptions {
  /** Largest joint motion between checked configurations, rad (default 0.005, a third of the planner's segment checks). */
  resolution?: number;
  /** Slack on position and velocity limits (rad, rad/s; default 1e-6). */
  tolerance?: number;
}

/** Replays `traj` against `checker` within `limits`. Never throws on bad trajectories. */
export function validateTrajectory(
  traj: JointTrajectory,
  checker: ArmCollisionChecker,
  limits: ArmLimits,
  options: ValidationOptions = {},
): ValidationResult {
  const res = options.resolution ?? 0.005;
  const tol = options.tolerance ?? 1e-6;
  const dof = limits.jointNames.length;
  const fail = (
    message: string,
    time = Number.NaN,
    hit?: CollisionHit,
    checks = 0,
  ): ValidationResult => ({
    ok: false,
    message,
    time,
    checks,
    ...(hit && { hit }),
  });
  if (
    traj.jointNames.length !== dof ||
    traj.jointNames.some((n, i) => n !== limits.jointNames[i])
  ) {
    return fail(`joint names do not match the arm (${traj.jointNames.join(", ")})`);
  }
  if (traj.points.length === 0) return fail("trajectory has no points");
  let prevT = -Infinity;
  for (const [i, p] of traj.points.entries()) {
    if (!(p.timeFromStart > prevT) && i > 0)
      return fail(`point ${i}: time does not increase`, p.timeFromStart);
    prevT = p.timeFromStart;
    if (p.positions.length !== dof || p.velocities.length !== dof)
      return fail(`point ${i}: wrong vector length`);
    if (![...p.positions, ...p.velocities].every(Number.isFinite))
      return fail(`point ${i}: not finite`);
    const breach = findLimitBreach(p.positions, limits, tol);
    if (breach) {
      return fail(
        `${breach.jointName} = ${breach.value.toFixed(4)} rad outside [${breach.lower}, ${breach.upper}] at ${p.timeFromStart.toFixed(3)} s`,
        p.timeFromStart,
      );
    }
    for (let j = 0; j < dof; j++) {
      if (Math.abs(p.velocities[j] as number) > (limits.maxVelocity[j] as number) + tol) {
        return fail(
          `${limits.jointNames[j]} faster than its limit at ${p.timeFromStart.toFixed(3)} s`,
          p.timeFromStart,
        );
      }
    }
  }

  const cur = newSample(dof);
  const prev = new Float64Array(dof);
  let hint = 0;
  let checks = 0;
  let t = 0;
  let dt = 0.01;
  hint = sampleTrajectory(traj, 0, cur, hint);
  prev.set(cur.positions);
  const check = (time: number): ValidationResult | null => {
    checks += 1;
    const hit = checker.checkArm(cur.positions);
    return hit
      ? fail(`collision at ${time.toFixed(3)} s: ${describeHit(hit)}`, time, hit, checks)
      : null;
  };
  const first = check(0);
  if (first) return first;
  while (t < traj.duration) {
    // Step so that no joint moves more than `res`: halve the step until it holds.
    let next = Math.min(traj.duration, t + dt);
    for (let k = 0; k < 30; k++) {
      hint = sampleTrajectory(traj, next, cur, hint);
      let move = 0;
      for (let j = 0; j < dof; j++)
        move = Math.max(move, Math.abs((cur.positions[j] as number) - (prev[j] as number)));
      if (move <= res || next - t < 1e-5) {
        // Grow the step again where the arm moves slowly.
        dt = move < res / 2 ? Math.min(0.05, (next - t) * 1.5) : next - t;
        break;
      }
      next = t + (next - t) / 2;
    }
    t = next;
    const bad = check(t);
    if (bad) return bad;
    prev.set(cur.positions);
  }
  return { ok: true, checks };
}
