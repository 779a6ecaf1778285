/**
 * The in-process simulated robot cell: a {@link SimulatedArm} stepped at a fixed rate on
 * wall-clock time. It is the embedded default {@link RobotCell}: `npm start` needs no ROS.
 * Steps are taken in catch-up batches from a coarse timer (and whenever someone reads a
 * measurement), so the motion is the same at any timer jitter: time advances in exact
 * multiples of the step. The timer runs only while the arm moves (a jog or a trajectory),
 * so that a trajectory ends and its outcome is told even when nobody reads; an arm holding
 * still costs nothing between reads.
 */
import type { ArmLimits } from "../sim/contracts.ts";
import { maxAbsDiff } from "../sim/planner/joint-space.ts";
import { SimulatedArm } from "../sim/simulated-arm.ts";
import type { JointTrajectory } from "../sim/trajectory.ts";
import {
  CellError,
  type Execution,
  type ExecutionOutcome,
  type JointMeasurement,
  LinkStatus,
  type RobotCell,
} from "./robot-cell.ts";

export interface SimulatedCellOptions {
  limits: ArmLimits;
  /** Initial joints, rad. */
  start: ArrayLike<number>;
  /** Initial gripper opening, m. */
  gripper: number;
  /** Controller rate, Hz (1000 for a Panda's 1 kHz loop). */
  rateHz: number;
  /** How far the first trajectory point may be from the arm, rad (default 0.01). */
  startTolerance?: number;
  /** Wall clock, ms (injectable for tests). */
  now?: () => number;
  /** Timer period for catch-up stepping while the arm moves, ms (default 4; 0: no timer). */
  timerMs?: number;
}

/** Largest catch-up after a stall, s: beyond it the arm skips time rather than replaying it. */
const MAX_CATCH_UP_S = 0.25;

export class SimulatedCell implements RobotCell {
  readonly kind = "simulated";
  readonly jointNames: readonly string[];
  readonly #arm: SimulatedArm;
  readonly #dt: number;
  readonly #now: () => number;
  readonly #tolerance: number;
  readonly #timerMs: number;
  /** The catch-up timer; set only while the arm moves. */
  #timer: NodeJS.Timeout | null = null;
  readonly #measurement: {
    positions: Float64Array;
    velocities: Float64Array;
    gripper: number;
    stampMs: number;
  };
  #lastMs: number;
  #closed = false;

  constructor(options: SimulatedCellOptions) {
    this.jointNames = options.limits.jointNames;
    this.#arm = new SimulatedArm(options.limits, options.start, options.gripper);
    this.#dt = 1 / options.rateHz;
    this.#now = options.now ?? Date.now;
    this.#tolerance = options.startTolerance ?? 0.01;
    this.#lastMs = this.#now();
    this.#measurement = {
      positions: this.#arm.positions,
      velocities: this.#arm.velocities,
      gripper: this.#arm.gripper,
      stampMs: this.#lastMs,
    };
    this.#timerMs = options.timerMs ?? 4;
  }

  linkStatus(): LinkStatus {
    return LinkStatus.Simulated;
  }

  measurement(): JointMeasurement {
    this.advance();
    return this.#measurement;
  }

  isJogging(): boolean {
    this.advance();
    return this.#arm.jogging;
  }

  jog(velocities: ArrayLike<number>, holdMs: number): void {
    this.#open();
    this.advance();
    this.#arm.jog(velocities, this.#arm.time + holdMs / 1000);
    this.#startTimer();
  }

  execute(trajectory: JointTrajectory): Execution {
    this.#open();
    this.advance();
    if (trajectory.jointNames.join() !== this.jointNames.join()) {
      throw new CellError(
        `trajectory joints (${trajectory.jointNames.join(", ")}) are not the arm's`,
      );
    }
    const first = trajectory.points[0];
    if (!first) throw new CellError("trajectory has no points");
    const off = maxAbsDiff(first.positions, this.#arm.positions);
    if (off > this.#tolerance) {
      throw new CellError(`trajectory starts ${off.toFixed(4)} rad away from the arm`);
    }
    let settle!: (o: ExecutionOutcome) => void;
    const done = new Promise<ExecutionOutcome>((resolve) => (settle = resolve));
    this.#arm.play(trajectory, (o) => settle(o));
    this.#startTimer();
    const arm = this.#arm;
    let finished = false;
    void done.then(() => (finished = true));
    return { done, progress: () => (finished ? 1 : arm.progress) };
  }

  stop(reason: string): void {
    this.advance();
    this.#arm.stop(reason);
  }

  teleport(q: ArrayLike<number>): void {
    this.#arm.teleport(q);
  }

  /** Steps the arm up to now (called by the timer while the arm moves, and by every read). */
  advance(): void {
    if (this.#closed) return;
    const now = this.#now();
    let elapsed = (now - this.#lastMs) / 1000;
    if (elapsed > MAX_CATCH_UP_S) {
      this.#lastMs = now - MAX_CATCH_UP_S * 1000;
      elapsed = MAX_CATCH_UP_S;
    }
    const steps = Math.floor(elapsed / this.#dt + 1e-9);
    for (let i = 0; i < steps; i++) this.#arm.step(this.#dt);
    if (steps > 0) {
      this.#lastMs += steps * this.#dt * 1000;
      this.#measurement.gripper = this.#arm.gripper;
      this.#measurement.stampMs = this.#lastMs;
    }
    if (this.#timer && this.#arm.mode === "hold") {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#arm.stop("cell closed");
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #startTimer(): void {
    if (this.#timer || this.#timerMs <= 0) return;
    this.#timer = setInterval(() => this.advance(), this.#timerMs);
    this.#timer.unref();
  }

  #open(): void {
    if (this.#closed) throw new CellError("cell is closed");
  }
}
