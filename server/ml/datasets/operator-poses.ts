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

/** Mean length of one tracked + untracked episode pair of the hand controllers, s. */
export const HANDS_CYCLE_S = 20;

/**
 * Alternating hands-tracked / head-only episodes whose long-run share of time tracked is
 * `share`: exponential dwell times with means `share` and `1 − share` of
 * {@link HANDS_CYCLE_S} (at least 0.5 s). Shares 0 and 1 never switch.
 */
export class HandsEpisodes {
  tracked: boolean;
  #until: number;

  constructor(
    readonly share: number,
    readonly rng: Rng,
  ) {
    if (!(share >= 0 && share <= 1))
      throw new RangeError(`handsShare must be in [0, 1], got ${share}`);
    this.tracked = rng.next() < share;
    this.#until = this.#dwell(0);
  }

  /** Whether the hands are tracked at time `t` (s, non-decreasing). */
  at(t: number): boolean {
    while (t >= this.#until) {
      this.tracked = !this.tracked;
      this.#until = this.#dwell(this.#until);
    }
    return this.tracked;
  }

  #dwell(from: number): number {
    const mean = HANDS_CYCLE_S * (this.tracked ? this.share : 1 - this.share);
    if (mean === 0) return from; // never in this state: leave at once
    if (mean === HANDS_CYCLE_S) return Infinity; // always in this state
    return from + Math.max(0.5, this.rng.exp(mean));
  }
}
