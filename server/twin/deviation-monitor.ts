/**
 * Watches an executing plan: how far the measured joints are from where the plan says the
 * arm should be. The twin does not know exactly when the cell started the trajectory: not
 * before it was sent, and — once the cell's action server reports the goal active (status
 * or first feedback) — not after that report. A rosbridge that loads action types lazily
 * may take half a second to hand the first goal to the controller, and a status or feedback
 * may arrive a few hundred milliseconds after the arm started, so plan time is bracketed:
 * the measurement is compared with the plan over `[t_active − lag, t_sent]` (before the goal
 * is active, `[0, t_sent]`: the arm may still be at the start), where `t_x` is the time since
 * x, and the smallest difference counts. Joint states arrive with some delay, hence the
 * trailing `lag`. Exceeding the tolerance on `confirmTicks` consecutive checks trips the
 * monitor (one noisy sample never stops an arm).
 */
import { maxAbsDiff } from "../sim/planner/joint-space.ts";
import type { JointTrajectory } from "../sim/trajectory.ts";
import { newSample, sampleTrajectory } from "../sim/trajectory-sample.ts";

export interface DeviationCheck {
  /** Largest single-joint difference to the nearest planned configuration, rad. */
  deviation: number;
  /** True once the deviation stayed above tolerance for `confirmTicks` checks. */
  tripped: boolean;
  /** True while the goal is not reported active yet. */
  waiting: boolean;
}

/** When the trajectory can have started: sent at `sentMs`, reported active at `activeMs()`. */
export interface ExecutionTiming {
  /** Wall-clock time the goal was sent, ms. */
  sentMs: number;
  /** Wall-clock time the cell reported the goal active, ms; null until it has. */
  activeMs: () => number | null;
}

/** Most plan samples compared per check. */
const MAX_SAMPLES = 48;

export class DeviationMonitor {
  readonly #sample;
  readonly #timing: ExecutionTiming;
  #over = 0;

  /**
   * @param timing when the goal was sent and became active; a number for a cell that starts
   *   the trajectory at once (sent = active)
   * @param toleranceRad largest accepted deviation, rad
   * @param lagS trailing window for joint-state delay, s
   */
  constructor(
    private readonly trajectory: JointTrajectory,
    timing: number | ExecutionTiming,
    private readonly toleranceRad: number,
    private readonly lagS = 0.3,
    private readonly confirmTicks = 3,
  ) {
    this.#sample = newSample(trajectory.jointNames.length);
    this.#timing = typeof timing === "number" ? { sentMs: timing, activeMs: () => timing } : timing;
  }

  /** Compares measured joints `q` (rad) at wall time `nowMs` with the plan. */
  check(q: ArrayLike<number>, nowMs: number): DeviationCheck {
    const active = this.#timing.activeMs();
    const latest = Math.max(0, (nowMs - this.#timing.sentMs) / 1000);
    const earliest = active === null ? 0 : Math.max(0, (nowMs - active) / 1000 - this.lagS);
    const from = Math.min(earliest, latest);
    const width = latest - from;
    const steps = Math.max(6, Math.min(MAX_SAMPLES, Math.ceil(width / 0.01)));
    let best = Infinity;
    let bestT = latest;
    for (let k = 0; k <= steps; k++) {
      const tk = latest - (width * k) / steps;
      const d = this.#distance(q, tk);
      if (d < best) {
        best = d;
        bestT = tk;
      }
      if (width === 0) break;
    }
    if (width > 0) {
      // Refine between the grid neighbours of the best sample (golden-section search).
      const h = width / steps;
      let a = Math.max(from, bestT - h);
      let b = Math.min(latest, bestT + h);
      const g = (Math.sqrt(5) - 1) / 2;
      for (let i = 0; i < 12; i++) {
        const c = b - g * (b - a);
        const d = a + g * (b - a);
        if (this.#distance(q, c) < this.#distance(q, d)) b = d;
        else a = c;
      }
      best = Math.min(best, this.#distance(q, (a + b) / 2));
    }
    this.#over = best > this.toleranceRad ? this.#over + 1 : 0;
    return { deviation: best, tripped: this.#over >= this.confirmTicks, waiting: active === null };
  }

  /** Largest joint difference between `q` and the plan at plan time `t`, rad. */
  #distance(q: ArrayLike<number>, t: number): number {
    sampleTrajectory(this.trajectory, t, this.#sample);
    return maxAbsDiff(q, this.#sample.positions);
  }
}
