/**
 * The robot cell as the twin sees it: a measured arm that can be jogged, can execute a
 * time-parameterised trajectory, and can be stopped. Implementations: the in-process
 * simulated cell (default), and a ROS cell over rosbridge (see ros/).
 * Joint vectors are in the order of {@link RobotCell.jointNames}, rad and rad/s.
 */
import type { JointTrajectory } from "../sim/trajectory.ts";

export const LinkStatus = {
  /** In-process simulated arm: always reachable. */
  Simulated: "simulated",
  Connected: "connected",
  Disconnected: "disconnected",
} as const;
export type LinkStatus = (typeof LinkStatus)[keyof typeof LinkStatus];

/** Latest measured arm state. */
export interface JointMeasurement {
  /** Joint positions, rad. */
  readonly positions: Float64Array;
  /** Joint velocities, rad/s. */
  readonly velocities: Float64Array;
  /** Opening between the gripper fingers, m. */
  readonly gripper: number;
  /** When the measurement was taken, ms since the Unix epoch. */
  readonly stampMs: number;
}

export type ExecutionOutcome =
  { readonly status: "succeeded" } | { readonly status: "aborted"; readonly reason: string };

/** A trajectory running on the cell. */
export interface Execution {
  /** Fraction of the trajectory's duration executed so far, 0..1. */
  progress(): number;
  /** Settles once, when the cell finishes or aborts the trajectory. Never rejects. */
  readonly done: Promise<ExecutionOutcome>;
}

/** Thrown when a command cannot reach the cell or the cell refuses it. */
export class CellError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CellError";
  }
}

export interface RobotCell {
  /** "simulated" or "ros": shown to operators so nobody confuses the two. */
  readonly kind: string;
  readonly jointNames: readonly string[];
  linkStatus(): LinkStatus;
  /** Latest measurement; the arrays are the cell's own, do not mutate them. */
  measurement(): JointMeasurement;
  /** True while a jog command is still being held (before its dead-man deadline). */
  isJogging(): boolean;
  /**
   * Velocity command, rad/s, held for `holdMs` ms; the arm decelerates to rest when no new
   * command arrives in time (dead-man). Throws {@link CellError} when the link is down.
   */
  jog(velocities: ArrayLike<number>, holdMs: number): void;
  /** Starts executing a trajectory whose first point must match the arm's position. */
  execute(trajectory: JointTrajectory): Execution;
  /** Halts all motion now; a running execution ends `aborted` with `reason`. */
  stop(reason: string): void;
  /** Link status changes (cells whose link can drop). */
  onLinkStatus?(listener: (status: LinkStatus) => void): void;
  /** Simulated cells only: places the arm at `q` (rad) at rest (a real arm never teleports). */
  teleport?(q: ArrayLike<number>): void | Promise<void>;
  close(): Promise<void>;
}
