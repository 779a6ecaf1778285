/**
 * Everything that moves the arm: jog, the goal marker, planning, approval, execution and
 * stop. The safety rules of the twin live here:
 *  - a plan executes only after it was validated in the twin and an operator approved it;
 *  - at approval the plan is re-validated against the twin as it is now (objects may have
 *    been added since) and refused as stale if the arm has moved away from its start;
 *  - stop halts the cell at once, aborts the running plan and latches `stopped` until an
 *    operator issues a new motion command;
 *  - jog looks ahead along the commanded velocity and halts before the arm hits anything.
 */
import type { Logger } from "pino";
import type { Pose } from "../../shared/geometry.ts";
import { ErrorCode } from "../../shared/messages/common.ts";
import type { Goal, JogCommand } from "../../shared/messages/twin.ts";
import type { Config } from "../config.ts";
import type { TwinMetrics } from "./link-metrics.ts";
import { CellError, type Execution, LinkStatus, type RobotCell } from "../robot/robot-cell.ts";
import { type ArmCollisionChecker, type CollisionHit, describeHit } from "../sim/contracts.ts";
import type { ArmKinematics } from "../sim/kinematics.ts";
import { twistToJointVelocities } from "../sim/twist.ts";
import { validateTrajectory } from "../sim/trajectory-validation.ts";
import type { Actor } from "./actor.ts";
import { DeviationMonitor } from "./deviation-monitor.ts";
import { CommandError } from "./errors.ts";
import { PlanBook, PlanStatus, type PlanRecord } from "./plan-book.ts";
import type { PlannerBackend } from "../robot/planning.ts";
import type { RobotDescription } from "../sim/robot-description.ts";

/** idle | jogging | planning | executing | stopped */
export const ArmMode = {
  Idle: "idle",
  Jogging: "jogging",
  Planning: "planning",
  Executing: "executing",
  Stopped: "stopped",
} as const;
export type ArmMode = (typeof ArmMode)[keyof typeof ArmMode];

/** The shared goal marker: where operators want the arm, and whether it can go there. */
export interface GoalRecord {
  readonly goal: Goal;
  /** Joint solution, rad (null when unreachable). */
  readonly positions: Float64Array | null;
  /** Goal tool pose, `world` frame. */
  readonly poseWorld: Pose;
  readonly valid: boolean;
  readonly reason: string;
  readonly setBy: string;
  readonly version: number;
}

/** A notice for one client (`to`) or everyone. */
export interface Notice {
  to?: string;
  code: ErrorCode;
  message: string;
}

/** How far ahead (s) a jog is checked for collisions. */
const JOG_LOOKAHEAD_S = 0.15;

export interface MotionDeps {
  config: Config;
  logger: Logger;
  metrics: TwinMetrics;
  robot: RobotDescription;
  kinematics: ArmKinematics;
  cell: RobotCell;
  /** Source of trajectories (the twin's planner or the cell's MoveIt). */
  planner: PlannerBackend;
  /** The twin: collisions with every object, virtual ones included. */
  twin: ArmCollisionChecker;
  notify(notice: Notice): void;
  /**
   * Who else commands the arm: null when this session may move it, else the refusal text
   * naming the owner (one arm, one owner — see robot/cell-ownership.ts). Absent: always may.
   */
  otherOwner?: () => string | null;
  now?: () => number;
}

export class MotionCoordinator {
  readonly plans: PlanBook;
  goal: GoalRecord | null = null;
  #goalVersion = 0;
  #stopped = false;
  #planning = false;
  #jogger: string | null = null;
  readonly #d: MotionDeps;
  readonly #now: () => number;
  readonly #lookahead: Float64Array;

  constructor(deps: MotionDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.plans = new PlanBook(deps.config.motion.planHistory);
    this.#lookahead = new Float64Array(deps.kinematics.dof);
  }

  mode(): ArmMode {
    if (this.#stopped) return ArmMode.Stopped;
    if (this.plans.active()) return ArmMode.Executing;
    if (this.#planning) return ArmMode.Planning;
    if (this.#d.cell.isJogging()) return ArmMode.Jogging;
    return ArmMode.Idle;
  }

  /** Jog by joint velocity or by a tool twist in `base_link`. */
  jog(actor: Actor, cmd: JogCommand): void {
    this.#requireOwner();
    this.#requireLink();
    if (this.plans.active()) {
      throw new CommandError(ErrorCode.Conflict, "a plan is executing; stop it before jogging");
    }
    const { kinematics, config } = this.#d;
    const dof = kinematics.dof;
    const v = new Float64Array(dof);
    if (cmd.mode === "joint") {
      if (cmd.joint >= dof)
        throw new CommandError(ErrorCode.OutOfRange, `joint ${cmd.joint} ≥ ${dof}`);
      v[cmd.joint] = cmd.velocity;
    } else if (cmd.mode === "joints") {
      if (cmd.velocities.length !== dof) {
        throw new CommandError(
          ErrorCode.OutOfRange,
          `expected ${dof} velocities, got ${cmd.velocities.length}`,
        );
      }
      v.set(cmd.velocities);
    } else {
      const lin = Math.hypot(cmd.linear.x, cmd.linear.y, cmd.linear.z);
      const ang = Math.hypot(cmd.angular.x, cmd.angular.y, cmd.angular.z);
      if (lin > config.motion.jogMaxLinear || ang > config.motion.jogMaxAngular) {
        throw new CommandError(
          ErrorCode.OutOfRange,
          `twist over the jog limits (${config.motion.jogMaxLinear} m/s, ${config.motion.jogMaxAngular} rad/s)`,
        );
      }
      const q = this.#d.cell.measurement().positions;
      twistToJointVelocities(kinematics.jacobian(q), cmd.linear, cmd.angular, 0.05, v);
      scaleIntoLimits(v, kinematics.maxVelocity);
    }
    for (let j = 0; j < dof; j++) {
      if (Math.abs(v[j]!) > kinematics.maxVelocity[j]!) {
        throw new CommandError(
          ErrorCode.OutOfRange,
          `joint ${j} velocity ${v[j]!.toFixed(3)} rad/s over its limit ${kinematics.maxVelocity[j]!.toFixed(3)}`,
        );
      }
    }
    const hit = this.#jogHit(v);
    if (hit) throw new CommandError(ErrorCode.Collision, `jog would collide: ${describeHit(hit)}`);
    this.#stopped = false;
    this.#jogger = actor.sessionId;
    this.#d.cell.jog(v, cmd.deadmanMs ?? config.motion.jogDeadmanMs);
  }

  /** Sets (or clears) the goal marker and solves it, so clients can show a ghost arm. */
  setGoal(actor: Actor, goal: Goal | null): void {
    if (goal === null) {
      this.goal = null;
      this.#goalVersion += 1;
      return;
    }
    const solved = this.#solveGoal(goal, this.#d.cell.measurement().positions);
    this.#goalVersion += 1;
    this.goal = { ...solved, goal, setBy: actor.name, version: this.#goalVersion };
  }

  /**
   * Plans to `goal` (or the goal marker), then validates the trajectory in the twin.
   * Resolves with the plan (validated) or throws with the reason (the plan stays, rejected).
   */
  async plan(actor: Actor, goal: Goal | undefined, velocityScale?: number): Promise<PlanRecord> {
    this.#requireLink();
    const target = goal ?? this.goal?.goal;
    if (!target)
      throw new CommandError(ErrorCode.Conflict, "no goal: send one or set the goal marker");
    if (this.#planning) throw new CommandError(ErrorCode.Conflict, "already planning; wait for it");
    if (this.plans.active()) throw new CommandError(ErrorCode.Conflict, "a plan is executing");

    const { config, planner, kinematics, metrics } = this.#d;
    const start = Float64Array.from(this.#d.cell.measurement().positions);
    // A goal that names nothing or lies outside the joint limits is refused before a plan
    // record exists: only goals the planner actually tried are kept (as rejected) for audit.
    const resolved = this.#goalForPlanner(target);
    const plan = this.plans.create({
      goal: target,
      requestedBy: actor.name,
      requestedBySession: actor.sessionId,
      start,
      nowMs: this.#now(),
    });
    this.#planning = true;
    // Let the tick publish `planning` and the proposed plan before the CPU-bound search.
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    try {
      const result = await planner.plan(
        { start, goal: resolved },
        {
          timeoutMs: config.motion.planTimeoutMs,
          velocityScale: velocityScale ?? config.motion.planVelocityScale,
          accelerationScale: velocityScale ?? config.motion.planVelocityScale,
        },
      );
      plan.planningMs = performance.now() - t0;
      if (!result.ok) {
        this.plans.transition(plan, PlanStatus.Rejected, result.message);
        metrics.planSeconds.observe({ outcome: "failed" }, plan.planningMs / 1000);
        metrics.plans.inc({ status: PlanStatus.Rejected });
        throw new CommandError(ErrorCode.PlanFailed, `${plan.id}: ${result.message}`);
      }
      metrics.planSeconds.observe({ outcome: "ok" }, plan.planningMs / 1000);
      plan.trajectory = result.trajectory;
      const first = result.trajectory.points[0]?.positions ?? [];
      if (
        first.length !== start.length ||
        maxAbsDiff(first, start) > config.motion.planStartToleranceRad
      ) {
        const reason = `${planner.name} planner returned a trajectory that does not start at the arm`;
        this.plans.transition(plan, PlanStatus.Rejected, reason);
        metrics.plans.inc({ status: PlanStatus.Rejected });
        throw new CommandError(ErrorCode.PlanFailed, `${plan.id}: ${reason}`);
      }
      const check = validateTrajectory(result.trajectory, this.#d.twin, kinematics);
      if (!check.ok) {
        const reason = `twin replay failed: ${check.message}`;
        this.plans.transition(plan, PlanStatus.Rejected, reason);
        metrics.plans.inc({ status: PlanStatus.Rejected });
        throw new CommandError(ErrorCode.Collision, `${plan.id}: ${reason}`);
      }
      this.plans.transition(plan, PlanStatus.Validated);
      return plan;
    } catch (err) {
      if (plan.status === PlanStatus.Proposed) {
        this.plans.transition(plan, PlanStatus.Rejected, "planning failed");
      }
      if (err instanceof CommandError) throw err;
      throw new CommandError(ErrorCode.PlanFailed, `${plan.id}: planning failed`, { cause: err });
    } finally {
      this.#planning = false;
    }
  }

  /** Approves a validated plan and starts executing it on the cell. */
  approve(actor: Actor, planId: string): PlanRecord {
    const plan = this.plans.get(planId);
    if (!plan) throw new CommandError(ErrorCode.NotFound, `no plan ${planId}`);
    if (plan.status !== PlanStatus.Validated || !plan.trajectory) {
      throw new CommandError(
        ErrorCode.Conflict,
        `${planId} is ${plan.status}; only a validated plan can be approved`,
      );
    }
    if (
      this.#d.config.motion.requireSecondOperator &&
      plan.requestedBySession === actor.sessionId
    ) {
      throw new CommandError(ErrorCode.Forbidden, "a second operator must approve this plan");
    }
    this.#requireOwner();
    this.#requireLink();
    if (this.plans.active())
      throw new CommandError(ErrorCode.Conflict, "another plan is executing");

    const q = this.#d.cell.measurement().positions;
    const deviation = maxAbsDiff(q, plan.start);
    if (deviation > this.#d.config.motion.planStartToleranceRad) {
      this.plans.transition(plan, PlanStatus.Rejected, "stale: the arm moved since planning");
      throw new CommandError(
        ErrorCode.Conflict,
        `${planId} is stale: the arm is ${deviation.toFixed(3)} rad from the plan's start; plan again`,
      );
    }
    const recheck = validateTrajectory(plan.trajectory, this.#d.twin, this.#d.kinematics);
    if (!recheck.ok) {
      const reason = `twin changed since validation: ${recheck.message}`;
      this.plans.transition(plan, PlanStatus.Rejected, reason);
      throw new CommandError(ErrorCode.Collision, `${planId}: ${reason}`);
    }

    this.plans.transition(plan, PlanStatus.Approved);
    plan.approvedBy = actor.name;
    this.#stopped = false;
    let execution: Execution;
    try {
      execution = this.#d.cell.execute(plan.trajectory);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.plans.transition(plan, PlanStatus.Aborted, `the cell refused it: ${reason}`);
      this.#d.metrics.plans.inc({ status: PlanStatus.Aborted });
      throw new CommandError(
        err instanceof CellError ? ErrorCode.LinkDown : ErrorCode.Internal,
        `${planId}: the cell refused it: ${reason}`,
        { cause: err },
      );
    }
    this.plans.transition(plan, PlanStatus.Executing);
    // Plan time runs from when the cell took the goal up, not from sending (deviation-monitor.ts).
    const sentMs = this.#now();
    const activeMs = execution.activeSinceMs?.bind(execution) ?? (() => sentMs);
    const monitor = new DeviationMonitor(
      plan.trajectory,
      { sentMs, activeMs },
      this.#d.config.link.deviationToleranceRad,
    );
    this.#executing = { plan, progress: () => execution.progress(), monitor };
    this.#d.logger.info({ plan: plan.id, by: actor.userId }, "plan approved, executing");
    void execution.done.then((outcome) => {
      if (plan.status !== PlanStatus.Executing) return;
      if (outcome.status === "succeeded") this.plans.transition(plan, PlanStatus.Succeeded);
      else this.plans.transition(plan, PlanStatus.Aborted, outcome.reason);
      this.#d.metrics.plans.inc({ status: plan.status });
      this.#executing = null;
      if (outcome.status === "aborted") {
        this.#d.notify({
          code: ErrorCode.Conflict,
          message: `${plan.id} aborted: ${outcome.reason}`,
        });
      }
    });
    return plan;
  }

  #executing: { plan: PlanRecord; progress: () => number; monitor: DeviationMonitor } | null = null;
  /** Measured-vs-planned deviation of the running plan, rad (0 when none). */
  deviation = 0;

  /** Active plan id and its progress 0..1 (empty id when none). */
  execution(): { planId: string; progress: number } {
    return this.#executing
      ? { planId: this.#executing.plan.id, progress: this.#executing.progress() }
      : { planId: "", progress: 0 };
  }

  /** Stops everything now; works whatever the link or mode (it never throws). */
  stop(actor: Actor | null, reason = "stop"): void {
    const who = actor ? `stopped by ${actor.name}` : reason;
    // A room that sees the arm read-only has no goal of its own: its STOP cancels whatever
    // runs on the cell (stopping is never refused; only commands that move the arm are).
    if (actor && this.#d.otherOwner?.() && this.#d.cell.cancelAll) this.#d.cell.cancelAll(who);
    else this.#d.cell.stop(who);
    const active = this.plans.active();
    if (active) {
      this.plans.transition(active, PlanStatus.Aborted, who);
      this.#d.metrics.plans.inc({ status: PlanStatus.Aborted });
      this.#executing = null;
    }
    this.#stopped = true;
    this.#jogger = null;
  }

  /** Clears goal, waiting plans and the stop latch (scene reset). */
  reset(reason: string): void {
    if (this.plans.active())
      throw new CommandError(ErrorCode.Conflict, "a plan is executing; stop first");
    this.plans.rejectPending(reason);
    this.goal = null;
    this.#goalVersion += 1;
    this.#stopped = false;
  }

  /** Per tick: halt a jog that is about to collide. */
  update(): void {
    this.#watchExecution();
    if (!this.#d.cell.isJogging()) {
      this.#jogger = null;
      return;
    }
    const hit = this.#jogHit(this.#d.cell.measurement().velocities);
    if (hit) {
      this.#d.cell.stop("jog collision");
      this.#d.notify({
        ...(this.#jogger !== null && { to: this.#jogger }),
        code: ErrorCode.Collision,
        message: `jog halted before a collision: ${describeHit(hit)}`,
      });
      this.#jogger = null;
    }
  }

  /** Stops a running plan whose arm leaves the planned motion beyond the tolerance. */
  #watchExecution(): void {
    const exec = this.#executing;
    if (!exec) {
      this.deviation = 0;
      return;
    }
    const check = exec.monitor.check(this.#d.cell.measurement().positions, this.#now());
    this.deviation = check.deviation;
    if (!check.tripped) return;
    const tol = this.#d.config.link.deviationToleranceRad;
    const reason = `deviation ${check.deviation.toFixed(3)} rad from the plan exceeds ${tol} rad`;
    this.#d.logger.warn(
      { plan: exec.plan.id, deviation: check.deviation },
      "execution deviates; stopping",
    );
    this.stop(null, reason);
    this.#d.notify({ code: ErrorCode.Conflict, message: `${exec.plan.id} stopped: ${reason}` });
  }

  #requireLink(): void {
    const status = this.#d.cell.linkStatus();
    if (status === LinkStatus.Disconnected) {
      const why = this.#d.cell.linkError?.();
      throw new CommandError(
        ErrorCode.LinkDown,
        `robot cell is disconnected; motion commands are refused${why ? ` (${why})` : ""}`,
      );
    }
    if (status === LinkStatus.Stale) {
      const age = this.#d.cell.jointStateAgeMs?.() ?? NaN;
      throw new CommandError(
        ErrorCode.LinkStale,
        `robot cell link is stale (no joint states for ${Number.isFinite(age) ? `${Math.round(age)} ms` : "too long"}); motion commands are refused`,
      );
    }
  }

  /** Refuses a command that would move an arm another session owns, naming the owner. */
  #requireOwner(): void {
    const other = this.#d.otherOwner?.();
    if (other) throw new CommandError(ErrorCode.Conflict, other);
  }

  /** Collision along the jog direction within the lookahead (limits are the cell's job). */
  #jogHit(velocities: ArrayLike<number>): CollisionHit | null {
    const q = this.#d.cell.measurement().positions;
    const { lower, upper } = this.#d.kinematics;
    const out = this.#lookahead;
    for (const frac of [0.5, 1]) {
      for (let j = 0; j < out.length; j++) {
        const next = q[j]! + velocities[j]! * JOG_LOOKAHEAD_S * frac;
        out[j] = Math.min(upper[j]!, Math.max(lower[j]!, next));
      }
      const hit = this.#d.twin.checkArm(out);
      if (hit) return hit;
    }
    return null;
  }

  #goalForPlanner(goal: Goal) {
    if (goal.kind === "pose") {
      return { kind: "pose" as const, pose: this.#d.robot.worldToBase(goal.pose) };
    }
    return { kind: "joints" as const, positions: this.#jointGoal(goal) };
  }

  #jointGoal(goal: Exclude<Goal, { kind: "pose" }>): Float64Array {
    const { kinematics, robot } = this.#d;
    if (goal.kind === "named") {
      const named = robot.namedPoses.get(goal.name);
      if (!named) {
        throw new CommandError(
          ErrorCode.NotFound,
          `no named pose ${goal.name} (have: ${[...robot.namedPoses.keys()].join(", ")})`,
        );
      }
      return Float64Array.from(named);
    }
    if (goal.positions.length !== kinematics.dof) {
      throw new CommandError(
        ErrorCode.OutOfRange,
        `expected ${kinematics.dof} joint positions, got ${goal.positions.length}`,
      );
    }
    for (let j = 0; j < kinematics.dof; j++) {
      const v = goal.positions[j]!;
      if (v < kinematics.lower[j]! || v > kinematics.upper[j]!) {
        throw new CommandError(
          ErrorCode.OutOfRange,
          `joint ${kinematics.jointNames[j]} = ${v.toFixed(3)} rad outside [${kinematics.lower[j]!.toFixed(3)}, ${kinematics.upper[j]!.toFixed(3)}]`,
        );
      }
    }
    return Float64Array.from(goal.positions);
  }

  #solveGoal(goal: Goal, seed: Float64Array): Omit<GoalRecord, "goal" | "setBy" | "version"> {
    const { kinematics, robot, twin } = this.#d;
    if (goal.kind === "pose") {
      const ik = kinematics.ik(robot.worldToBase(goal.pose), seed, {
        accept: (q) => twin.checkArm(q) === null,
      });
      if (!ik.ok) {
        return {
          positions: null,
          poseWorld: goal.pose,
          valid: false,
          reason: "unreachable or in collision",
        };
      }
      return { positions: ik.q, poseWorld: goal.pose, valid: true, reason: "" };
    }
    const q = this.#jointGoal(goal);
    const hit = twin.checkArm(q);
    const poseWorld = robot.baseToWorld(kinematics.fk(q));
    return hit
      ? { positions: q, poseWorld, valid: false, reason: `in collision: ${describeHit(hit)}` }
      : { positions: q, poseWorld, valid: true, reason: "" };
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Scales a joint velocity vector uniformly so every joint is within its limit. */
function scaleIntoLimits(v: Float64Array, vmax: Float64Array): void {
  let s = 1;
  for (let j = 0; j < v.length; j++) s = Math.min(s, vmax[j]! / Math.max(1e-12, Math.abs(v[j]!)));
  if (s < 1) for (let j = 0; j < v.length; j++) v[j]! *= s;
}
