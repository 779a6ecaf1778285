/**
 * Head and controller poses of a simulated operator: Ornstein–Uhlenbeck walks, tracker
 * jitter at rest, and the quaternion the wire carries (shared by the state-patch and the
 * control traces).
 */
import type { Rng } from "./trace-random.ts";
import { clamp } from "./trace-windows.ts";

/** A pose and the velocities of its walk: position m, angles rad (`world` frame). */
export interface PoseTruth {
  p: [number, number, number];
  /** Yaw, pitch, roll, rad. */
  e: [number, number, number];
  /** Velocities of p (m/s) and e (rad/s) of the OU walk. */
  vp: [number, number, number];
  ve: [number, number, number];
}

/** A pose at rest at `p` (m) with yaw, pitch, roll `e` (rad). */
export function pose(p: [number, number, number], e: number[]): PoseTruth {
  return { p, e: [e[0] ?? 0, e[1] ?? 0, e[2] ?? 0], vp: [0, 0, 0], ve: [0, 0, 0] };
}

/** A deep copy. */
export function clonePose(x: PoseTruth): PoseTruth {
  return { p: [...x.p], e: [...x.e], vp: [...x.vp], ve: [...x.ve] };
}

/** One step of an Ornstein–Uhlenbeck velocity walk: σ in m/s and rad/s, τ in s. */
export function walk(
  x: PoseTruth,
  dt: number,
  tau: number,
  sp: number,
  se: number,
  rng: Rng,
): void {
  const a = Math.exp(-dt / tau);
  const b = Math.sqrt(1 - a * a);
  for (let i = 0; i < 3; i++) {
    x.vp[i] = a * (x.vp[i] as number) + b * sp * rng.normal();
    x.ve[i] = a * (x.ve[i] as number) + b * se * rng.normal();
    x.p[i] = (x.p[i] as number) + (x.vp[i] as number) * dt;
    x.e[i] = (x.e[i] as number) + (x.ve[i] as number) * dt;
  }
  // Heads and hands do not pitch or roll without bound.
  x.e[1] = clamp(x.e[1] as number, -0.8, 0.8);
  x.e[2] = clamp(x.e[2] as number, -0.5, 0.5);
}

/** Tracker jitter around a rest pose: σ in m and rad. */
export function jitter(x: PoseTruth, rest: PoseTruth, sp: number, se: number, rng: Rng): void {
  for (let i = 0; i < 3; i++) {
    x.p[i] = (rest.p[i] as number) + sp * rng.normal();
    x.e[i] = (rest.e[i] as number) + se * rng.normal();
  }
}

/** Unit quaternion of z-y-x (yaw, pitch, roll) angles. */
export function quat(e: readonly number[]): [number, number, number, number] {
  const [y, p, r] = [(e[0] ?? 0) / 2, (e[1] ?? 0) / 2, (e[2] ?? 0) / 2];
  const [cy, sy, cp, sp, cr, sr] = [
    Math.cos(y),
    Math.sin(y),
    Math.cos(p),
    Math.sin(p),
    Math.cos(r),
    Math.sin(r),
  ];
  return [
    sr * cp * cy - cr * sp * sy,
    cr * sp * cy + sr * cp * sy,
    cr * cp * sy - sr * sp * cy,
    cr * cp * cy + sr * sp * sy,
  ];
}

/**
 * Which pose messages carry the hand controllers: each one independently with probability
 * `share` (0: head only, 1: always both hands), so every window carries about that share.
 * Episodes of tracking lost (tens of seconds) were tried first: at share 0.5 they make the
 * 1 s windows bimodal, and the GAN then blurred 0.5 and 1 into one mean (control 13 % low at
 * the Unity default); the live `handsShare` is a share over minutes, which this matches.
 */
export class HandsInPoses {
  constructor(
    readonly share: number,
    readonly rng: Rng,
  ) {
    if (!(share >= 0 && share <= 1))
      throw new RangeError(`handsShare must be in [0, 1], got ${share}`);
  }

  /** Whether the next pose carries the controllers. */
  next(): boolean {
    if (this.share >= 1) return true;
    if (this.share <= 0) return false;
    return this.rng.next() < this.share;
  }
}
