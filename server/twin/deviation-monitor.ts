/**
 * Watches an executing plan: how far the measured joints are from where the plan says the
 * arm should be. The cell starts a trajectory a little after the twin sends it and joint
 * states arrive with some delay, so the measurement is compared with the plan over a
 * trailing window `[t − lag, t]` and the smallest difference counts. Exceeding the
 * tolerance on `confirmTicks` consecutive checks trips the monitor (one noisy sample never
 * stops an arm).
 */
import { maxAbsDiff } from "../sim/planner/joint-space.ts";
import type { JointTrajectory } from "../sim/trajectory.ts";
import { newSample, sampleTrajectory } from "../sim/trajectory-sample.ts";

export interface DeviationCheck {
  /** Largest single-joint difference to the nearest planned configuration, rad. */
  deviation: number;
  /** True once the deviation stayed above tolerance for `confirmTicks` checks. */
  tripped: boolean;
}

export class DeviationMonitor {
  readonly #sample;
  #over = 0;

  /**
   * @param startMs wall-clock time the trajectory was sent, ms
   * @param toleranceRad largest accepted deviation, rad
   * @param lagS trailing window, s
   */
  constructor(
    private readonly trajectory: JointTrajectory,
    private readonly startMs: number,
    private readonly toleranceRad: number,
    private readonly lagS = 0.3,
    private readonly confirmTicks = 3,
  ) {
    this.#sample = newSample(trajectory.jointNames.length);
  }

  /** Compares measured joints `q` (rad) at wall time `nowMs` with the plan. */
  check(q: ArrayLike<number>, nowMs: number): DeviationCheck {
    const t = (nowMs - this.startMs) / 1000;
    let best = Infinity;
    const steps = 6;
    for (let k = 0; k <= steps; k++) {
      const tk = Math.max(0, t - (this.lagS * k) / steps);
      sampleTrajectory(this.trajectory, tk, this.#sample);
      best = Math.min(best, maxAbsDiff(q, this.#sample.positions));
      if (tk === 0) break;
    }
    this.#over = best > this.toleranceRad ? this.#over + 1 : 0;
    return { deviation: best, tripped: this.#over >= this.confirmTicks };
  }
}
