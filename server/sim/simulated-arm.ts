/**
 * A simulated arm controller, stepped at a fixed rate: it holds position, follows jog
 * velocity commands within the acceleration limits (decelerating to rest at a dead-man
 * deadline and before a joint limit), or plays a time-parameterised trajectory as a joint
 * trajectory controller does (cubic interpolation of the points). Pure: no timers, no I/O;
 * the caller owns the clock (seconds since any origin).
 *
 * Joints in group order: positions rad, velocities rad/s. Gripper opening in m.
 */
import type { ArmLimits } from "./contracts.ts";
import type { JointTrajectory } from "./trajectory.ts";
import { newSample, sampleTrajectory, type TrajectorySample } from "./trajectory-sample.ts";

export type ArmControlMode = "hold" | "jog" | "trajectory";

/** How a trajectory run ended. */
export type TrajectoryOutcome = { status: "succeeded" } | { status: "aborted"; reason: string };

export class SimulatedArm {
  readonly positions: Float64Array;
  readonly velocities: Float64Array;
  /** Gripper opening, m. */
  gripper: number;
  /** Time of the last step, s. */
  time = 0;
  #mode: ArmControlMode = "hold";
  readonly #target: Float64Array;
  #jogUntil = 0;
  #traj: JointTrajectory | null = null;
  #trajStart = 0;
  #hint = 0;
  readonly #sample: TrajectorySample;
  #onEnd: ((o: TrajectoryOutcome) => void) | null = null;

  constructor(
    readonly limits: ArmLimits,
    start: ArrayLike<number>,
    gripper = 0,
  ) {
    const dof = limits.jointNames.length;
    this.positions = Float64Array.from(start);
    this.velocities = new Float64Array(dof);
    this.#target = new Float64Array(dof);
    this.#sample = newSample(dof);
    this.gripper = gripper;
  }

  get mode(): ArmControlMode {
    return this.#mode;
  }

  /** True while a jog command is being held (before its dead-man deadline). */
  get jogging(): boolean {
    return this.#mode === "jog" && this.time < this.#jogUntil;
  }

  /** Progress of the running trajectory, 0..1 (0 when none). */
  get progress(): number {
    const t = this.#traj;
    if (!t) return 0;
    return t.duration > 0 ? Math.min(1, (this.time - this.#trajStart) / t.duration) : 1;
  }

  /** Holds joint velocities `v` (rad/s) until `until` (s); the arm then decelerates to rest. */
  jog(v: ArrayLike<number>, until: number): void {
    this.#endTrajectory({ status: "aborted", reason: "replaced by a jog" });
    this.#target.set(v as ArrayLike<number>);
    this.#jogUntil = until;
    this.#mode = "jog";
  }

  /** Starts a trajectory at the current time; `onEnd` is called once when it ends. */
  play(traj: JointTrajectory, onEnd: (o: TrajectoryOutcome) => void): void {
    this.#endTrajectory({ status: "aborted", reason: "replaced by another trajectory" });
    this.#traj = traj;
    this.#trajStart = this.time;
    this.#hint = 0;
    this.#onEnd = onEnd;
    this.#mode = "trajectory";
  }

  /** Halts at once (velocities to zero) and aborts a running trajectory. */
  stop(reason: string): void {
    this.#endTrajectory({ status: "aborted", reason });
    this.velocities.fill(0);
    this.#target.fill(0);
    this.#mode = "hold";
  }

  /** Places the arm at `q` (rad), at rest. */
  teleport(q: ArrayLike<number>): void {
    this.stop("teleported");
    this.positions.set(q as ArrayLike<number>);
  }

  /** Advances the controller by `dt` seconds. */
  step(dt: number): void {
    this.time += dt;
    if (this.#mode === "trajectory") this.#stepTrajectory();
    else if (this.#mode === "jog") this.#stepJog(dt);
  }

  #stepTrajectory(): void {
    const traj = this.#traj as JointTrajectory;
    const t = this.time - this.#trajStart;
    this.#hint = sampleTrajectory(traj, t, this.#sample, this.#hint);
    this.positions.set(this.#sample.positions);
    this.velocities.set(this.#sample.velocities);
    if (t >= traj.duration) {
      this.velocities.fill(0);
      this.#mode = "hold";
      this.#endTrajectory({ status: "succeeded" });
    }
  }

  #stepJog(dt: number): void {
    const { lower, upper, maxAcceleration, maxVelocity } = this.limits;
    const held = this.time < this.#jogUntil;
    let moving = false;
    for (let j = 0; j < this.positions.length; j++) {
      const a = maxAcceleration[j] as number;
      const vmax = maxVelocity[j] as number;
      let target = held ? Math.max(-vmax, Math.min(vmax, this.#target[j] as number)) : 0;
      let v = this.velocities[j] as number;
      const q = this.positions[j] as number;
      // Never faster than what still stops on the limit at full deceleration (v² = 2·a·d),
      // measured from where this step will end, so braking starts in time.
      const up = Math.max(0, (upper[j] as number) - q - Math.max(v, 0) * dt);
      const down = Math.max(0, q - (lower[j] as number) + Math.min(v, 0) * dt);
      target = Math.min(Math.sqrt(2 * a * up), Math.max(-Math.sqrt(2 * a * down), target));
      const dv = Math.max(-a * dt, Math.min(a * dt, target - v));
      v += dv;
      let next = q + v * dt;
      if (next > (upper[j] as number) || next < (lower[j] as number)) {
        next = Math.min(upper[j] as number, Math.max(lower[j] as number, next));
        v = 0;
      }
      this.positions[j] = next;
      this.velocities[j] = v;
      if (v !== 0) moving = true;
    }
    if (!held && !moving) this.#mode = "hold";
  }

  #endTrajectory(outcome: TrajectoryOutcome): void {
    if (!this.#traj) return;
    const cb = this.#onEnd;
    this.#traj = null;
    this.#onEnd = null;
    cb?.(outcome);
  }
}
