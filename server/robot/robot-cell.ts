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
  /**
   * The socket is open but no fresh joint states arrived for `LINK_STALE_MS` (a frozen
   * rosbridge, a dead driver): what the twin shows is old, so motion is refused.
   */
  Stale: "stale",
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
  /**
   * When the cell's action server took the goal up (accepted and reported it active, or sent
   * its first feedback), ms since the epoch; null while it has not. Cells that start at once
   * may leave it out (= the moment `execute` returned).
   */
  activeSinceMs?(): number | null;
}

/** Something about the link an operator should read (errors, lost or late cancels). */
export interface LinkEvent {
  level: "info" | "warn" | "error";
  message: string;
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
  /**
   * Every measurement as it arrives (the argument is the cell's own object: copy what you
   * keep). Lets a recorder keep every sample, not only those a room's tick sees.
   */
  onMeasurement?(listener: (m: JointMeasurement) => void): void;
  /** Link events: rosbridge errors, cancels that could not be delivered or confirmed. */
  onLinkEvent?(listener: (event: LinkEvent) => void): void;
  /** Why the link is not working, in words ("" when it is, or nobody knows). */
  linkError?(): string;
  /** How old the newest joint state is (by arrival), ms. */
  jointStateAgeMs?(): number;
  /**
   * Cancels whatever trajectory runs on the cell's execution action, whoever sent it (a STOP
   * from a room that sees the arm read-only). Never throws.
   */
  cancelAll?(reason: string): void;
  /** Simulated cells only: places the arm at `q` (rad) at rest (a real arm never teleports). */
  teleport?(q: ArrayLike<number>): void | Promise<void>;
  close(): Promise<void>;
}
