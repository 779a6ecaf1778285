/**
 * The robot cell behind the rosbridge front: the project's arm controller
 * ({@link SimulatedArm}) stepped at a fixed rate on wall-clock time, its motion planner and
 * IK, and a twin world holding only the cell's physical objects (the real cell knows
 * nothing of the twin's virtual objects) for collision checks. Pure of sockets and of ROS
 * messages: server.ts, moveit.ts, actions.ts and servo.ts translate to and from it.
 *
 * Stepping follows server/robot/simulated-cell.ts: catch-up batches of exact steps from a
 * coarse timer and whenever someone reads the arm, so the motion does not depend on timer
 * jitter. Sample stamps are wall-clock seconds (Unix epoch) with sub-millisecond
 * resolution, taken from a monotonic clock anchored to the epoch once at start.
 *
 * Frames: poses in `base_link` (the group base, `panda_link0`); joints in group order, rad.
 */
import type { Pose } from "../../shared/geometry.ts";
import {
  type ArmCollisionChecker,
  type ArmKinematics,
  type CollisionHit,
  describeHit,
  type JointTrajectory,
  maxAbsDiff,
  MotionPlanner,
  type PlanOptions,
  type PlanRequest,
  type PlanResult,
  type RobotDescription,
  sampleTrajectory,
  seededRandom,
  SimulatedArm,
  type TrajectoryOutcome,
  type TrajectorySample,
} from "../../server/sim/index.ts";
import { GoalRejectedError, RequestRefusedError } from "./errors.ts";

export interface SimCellCoreOptions {
  robot: RobotDescription;
  /** Collision checks against the cell's physical objects (a TwinWorld of the layout). */
  checker: ArmCollisionChecker;
  /** Controller rate, Hz (1000 for a Panda's 1 kHz loop). */
  controllerHz: number;
  /** Largest distance between a trajectory's first point and the arm, rad (default 0.01). */
  startTolerance?: number;
  /** Timer period of the catch-up stepping, ms (default 4; 0 = no timer, tests step by reading). */
  timerMs?: number;
  /** Monotonic clock, ms (default `performance.now`). */
  now?: () => number;
  /** Wall clock, ms since the Unix epoch (default `Date.now`), read once to anchor `now`. */
  wallClock?: () => number;
}

/** Longest stall replayed step by step, ms; beyond it the controller skips time. */
const MAX_CATCH_UP_MS = 10_000;
/**
 * Controller steps kept for joint-state samples taken after the fact (0.5 s at 1 kHz): the
 * stepping timer may run the controller past a sample's due time before the publisher runs.
 */
const HISTORY_STEPS = 512;

/** The arm at one controller step (group order). */
export interface ArmSample {
  /** rad */
  readonly positions: Float64Array;
  /** rad/s */
  readonly velocities: Float64Array;
}

/** A trajectory running on the arm. */
export class CellExecution {
  readonly trajectory: JointTrajectory;
  /** Controller time when it started, s. */
  readonly startTime: number;
  /** How it ended; null while it runs. */
  outcome: TrajectoryOutcome | null = null;
  readonly #arm: SimulatedArm;
  #hint = 0;

  constructor(trajectory: JointTrajectory, arm: SimulatedArm) {
    this.trajectory = trajectory;
    this.startTime = arm.time;
    this.#arm = arm;
  }

  /** Time since the start, s (capped at the duration). */
  elapsed(): number {
    return Math.min(this.trajectory.duration, Math.max(0, this.#arm.time - this.startTime));
  }

  /** Fraction of the duration executed, 0..1 (1 once it succeeded). */
  progress(): number {
    if (this.outcome?.status === "succeeded") return 1;
    const d = this.trajectory.duration;
    return d > 0 ? this.elapsed() / d : 1;
  }

  /** Where the trajectory wants the arm now (positions, velocities, accelerations). */
  desired(out: TrajectorySample): void {
    this.#hint = sampleTrajectory(this.trajectory, this.elapsed(), out, this.#hint);
  }
}

export class SimCellCore {
  readonly robot: RobotDescription;
  readonly kinematics: ArmKinematics;
  readonly arm: SimulatedArm;
  readonly planner: MotionPlanner;
  readonly checker: ArmCollisionChecker;
  /** MoveIt planning group name (e.g. `panda_arm`). */
  readonly groupName: string;
  /** Frame of every pose the cell reads and writes (`panda_link0`). */
  readonly baseFrame: string;
  /** The group's tip link, whose pose IK solves for (`panda_hand_tcp`). */
  readonly tipLink: string;
  /** rad */
  readonly startTolerance: number;
  readonly #dtMs: number;
  readonly #now: () => number;
  /** Wall-clock ms of monotonic 0. */
  readonly #epochMs: number;
  #originMs: number;
  #steps = 0;
  #timer: NodeJS.Timeout | null;
  #execution: CellExecution | null = null;
  #closed = false;
  /** Positions then velocities of the last {@link HISTORY_STEPS} steps, slot = step % size. */
  readonly #history: Float64Array;

  constructor(options: SimCellCoreOptions) {
    const { robot } = options;
    this.robot = robot;
    this.kinematics = robot.kinematics;
    this.checker = options.checker;
    this.groupName = robot.model.group.name;
    this.baseFrame = robot.model.group.base;
    this.tipLink = robot.model.group.tip;
    this.startTolerance = options.startTolerance ?? 0.01;
    this.arm = new SimulatedArm(robot.kinematics, robot.home, robot.homeGripper);
    this.planner = new MotionPlanner(robot.kinematics, options.checker);
    this.#dtMs = 1000 / options.controllerHz;
    this.#now = options.now ?? (() => performance.now());
    const wall = options.wallClock ?? Date.now;
    this.#originMs = this.#now();
    this.#epochMs = wall() - this.#originMs;
    this.#history = new Float64Array(HISTORY_STEPS * 2 * this.kinematics.dof);
    this.#record();
    const period = options.timerMs ?? 4;
    this.#timer = period > 0 ? setInterval(() => this.advance(), period) : null;
    this.#timer?.unref();
  }

  /** Wall-clock time of the latest controller step, s since the Unix epoch. */
  get stampS(): number {
    return (this.#epochMs + this.#originMs + this.#steps * this.#dtMs) / 1000;
  }

  /** The running trajectory, or null. */
  get execution(): CellExecution | null {
    return this.#execution;
  }

  /** The cell's monotonic clock, ms (what {@link advance} takes). */
  now(): number {
    return this.#now();
  }

  /** Steps the controller up to `untilMs` on the cell's monotonic clock (default: now). */
  advance(untilMs?: number): void {
    if (this.#closed) return;
    const now = untilMs ?? this.#now();
    let last = this.#originMs + this.#steps * this.#dtMs;
    if (now - last > MAX_CATCH_UP_MS) {
      this.#originMs += now - MAX_CATCH_UP_MS - last;
      last = now - MAX_CATCH_UP_MS;
    }
    const due = Math.floor((now - last) / this.#dtMs + 1e-9);
    const dt = this.#dtMs / 1000;
    for (let i = 0; i < due; i++) {
      this.arm.step(dt);
      this.#steps += 1;
      this.#record();
    }
  }

  /**
   * The arm at the controller step due at `atMs` (the cell's monotonic clock), stepping the
   * controller there first if it is behind. Copies into `out`.
   * @returns that step's wall-clock stamp, s since the Unix epoch; null when the step is
   *   older than the kept history (a publisher that late skips the sample)
   */
  sampleAt(atMs: number, out: ArmSample): number | null {
    this.advance(atMs);
    const wanted = Math.floor((atMs - this.#originMs) / this.#dtMs + 1e-9);
    const n = Math.max(0, Math.min(this.#steps, wanted));
    if (n <= this.#steps - HISTORY_STEPS) return null;
    const dof = this.kinematics.dof;
    const at = (n % HISTORY_STEPS) * 2 * dof;
    out.positions.set(this.#history.subarray(at, at + dof));
    out.velocities.set(this.#history.subarray(at + dof, at + 2 * dof));
    return (this.#epochMs + this.#originMs + n * this.#dtMs) / 1000;
  }

  /** Keeps the arm's state as the current step's (after a step, a stop or a teleport). */
  #record(): void {
    const dof = this.kinematics.dof;
    const at = (this.#steps % HISTORY_STEPS) * 2 * dof;
    this.#history.set(this.arm.positions, at);
    this.#history.set(this.arm.velocities, at + dof);
  }

  /**
   * Refuses a trajectory that does not start at the arm (within {@link startTolerance}).
   * @throws GoalRejectedError
   */
  checkStart(traj: JointTrajectory): void {
    this.advance();
    const first = traj.points[0];
    if (!first) throw new GoalRejectedError("invalid_goal", "trajectory has no points");
    const off = maxAbsDiff(first.positions, this.arm.positions);
    if (off > this.startTolerance) {
      throw new GoalRejectedError(
        "invalid_goal",
        `trajectory starts ${off.toFixed(4)} rad away from the arm (tolerance ${this.startTolerance} rad)`,
      );
    }
  }

  /**
   * Plays a trajectory (group order) from now; a running one ends `aborted` first.
   * `onEnd` is called once, when it succeeds or is aborted (stop, replacement, close).
   * @throws GoalRejectedError when it does not start at the arm
   * @throws RequestRefusedError when the cell is closed
   */
  execute(traj: JointTrajectory, onEnd: (outcome: TrajectoryOutcome) => void): CellExecution {
    this.#open();
    this.checkStart(traj);
    const exec = new CellExecution(traj, this.arm);
    this.#execution = exec;
    this.arm.play(traj, (outcome) => {
      exec.outcome = outcome;
      if (this.#execution === exec) this.#execution = null;
      onEnd(outcome);
    });
    return exec;
  }

  /**
   * Holds joint velocities `velocities` (rad/s, group order) for `durationS` seconds, then
   * the arm decelerates to rest (MoveIt Servo's command timeout).
   */
  jog(velocities: ArrayLike<number>, durationS: number): void {
    this.#open();
    this.advance();
    this.arm.jog(velocities, this.arm.time + durationS);
  }

  /** Halts the arm at once; a running trajectory ends `aborted` with `reason`. */
  stop(reason: string): void {
    this.advance();
    this.arm.stop(reason);
    this.#record();
  }

  /**
   * Simulation only: places the arm at `q` (rad, group order) at rest; a running trajectory
   * ends `aborted`. @throws RequestRefusedError outside the joint limits or in collision
   */
  teleport(q: ArrayLike<number>): void {
    this.#open();
    const kin = this.kinematics;
    for (let j = 0; j < kin.dof; j++) {
      const v = q[j] as number;
      if (!(v >= (kin.lower[j] as number) && v <= (kin.upper[j] as number))) {
        throw new RequestRefusedError(`${kin.jointNames[j]} = ${v} is outside its limits`);
      }
    }
    const hit = this.checker.checkArm(q);
    if (hit)
      throw new RequestRefusedError(`that configuration is in collision: ${describeHit(hit)}`);
    this.advance();
    this.arm.teleport(q);
    this.#record();
  }

  /** Plans with the project's planner (start and goal in group order, rad). */
  plan(request: PlanRequest, options: PlanOptions): PlanResult {
    return this.planner.plan(request, options);
  }

  /** First contact of the arm at `q` with itself or a physical object, or null. */
  checkState(q: ArrayLike<number>): CollisionHit | null {
    return this.checker.checkArm(q);
  }

  /**
   * IK for a tool pose in `base_link`, seeded at `seed` with random restarts.
   * `unreachable`: no configuration reaches the pose within 0.1 mm / 1 mrad;
   * `in_collision`: it is reachable, but every solution found touches something.
   */
  solvePose(
    pose: Pose,
    seed: ArrayLike<number>,
    avoidCollisions: boolean,
  ):
    | { ok: true; q: Float64Array }
    | { ok: false; reason: "unreachable"; positionError: number }
    | { ok: false; reason: "in_collision"; hit: CollisionHit | null } {
    const kin = this.kinematics;
    const random = seededRandom(7);
    const free = kin.ik(pose, seed, {
      restarts: 16,
      random,
      accept: avoidCollisions ? (q) => this.checker.checkArm(q) === null : undefined,
    });
    if (free.ok) return { ok: true, q: free.q };
    if (!avoidCollisions) {
      return { ok: false, reason: "unreachable", positionError: free.positionError };
    }
    const any = kin.ik(pose, seed, { restarts: 16, random: seededRandom(7) });
    return any.ok
      ? { ok: false, reason: "in_collision", hit: this.checker.checkArm(any.q) }
      : { ok: false, reason: "unreachable", positionError: any.positionError };
  }

  /** Stops the arm and the stepping timer. */
  close(): void {
    if (this.#closed) return;
    this.arm.stop("cell closed");
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #open(): void {
    if (this.#closed) throw new RequestRefusedError("the cell is closed");
  }
}
