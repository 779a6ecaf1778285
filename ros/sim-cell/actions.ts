/**
 * Trajectory execution: the two action servers of the cell, `/execute_trajectory`
 * (moveit_msgs ExecuteTrajectory) and `/panda_arm_controller/follow_joint_trajectory`
 * (control_msgs FollowJointTrajectory), on one controller, so one goal runs at a time and
 * a newly accepted goal preempts the running one.
 *
 * {@link TrajectoryExecutor} is transport-neutral: it checks a goal, plays it on the arm,
 * produces feedback at ~20 Hz and the result message. Two transports feed it:
 * - ROS 2 ({@link Ros2ActionGoals}): rosbridge's `send_action_goal` / `cancel_action_goal`
 *   ops, answered with `action_feedback` and `action_result` to the client that sent the goal;
 * - ROS 1 (`ActionlibServer` in actionlib.ts): actionlib over topics, as roslib's
 *   `ActionClient` expects (`goal`, `cancel` in; `status`, `feedback`, `result` out).
 *
 * Outcomes (ROS 2 `action_result.status` / ROS 1 GoalStatus):
 * succeeded → SUCCEEDED (4 / 3); canceled → CANCELED (5) / PREEMPTED (2);
 * preempted by a new goal → ABORTED (6) / PREEMPTED (2); stopped otherwise → ABORTED (6 / 4);
 * refused → `result: false` with the reason, ABORTED (6) / REJECTED (5).
 * A goal keeps running when its client disconnects, as on a real controller.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import {
  ActionStatus,
  type ExecuteTrajectoryFeedback,
  type ExecuteTrajectoryResult,
  type FollowJointTrajectoryFeedback,
  FollowJointTrajectoryErrorCode,
  type FollowJointTrajectoryResult,
  MoveItErrorCode,
  type MoveItErrorCodesMsg,
  type RosVersion,
  type JointTrajectoryMsg,
} from "../../shared/ros-msgs.ts";
import {
  newSample,
  type TrajectoryOutcome,
  type TrajectorySample,
} from "../../server/sim/index.ts";
import { type ActionSpec, sameType } from "./catalog.ts";
import type { CellExecution, SimCellCore } from "./cell.ts";
import type { ClientSession } from "./client.ts";
import { type JointNames, pointMsg, stampedHeader, trajectoryFromMsg } from "./conversions.ts";
import { GoalRejectedError } from "./errors.ts";
import type { OpId, OpOf } from "./protocol.ts";
import { describeIssues } from "../../shared/messages/common.ts";
import { type RosSchemas } from "../../shared/ros-schemas.ts";
import type { EncodeOptions } from "./wire.ts";

/** How a goal ended. */
export type GoalEnd =
  | { readonly kind: "succeeded" }
  | { readonly kind: "canceled" }
  | { readonly kind: "preempted"; readonly reason: string }
  | { readonly kind: "aborted"; readonly reason: string };

/** Where a goal's feedback and end go (a ROS 2 client, or ROS 1 actionlib topics). */
export interface GoalSink {
  feedback(values: unknown): void;
  end(end: GoalEnd, result: unknown): void;
}

/** A goal accepted by the executor. */
export class TrajectoryGoal {
  readonly action: ActionSpec;
  readonly sink: GoalSink;
  execution: CellExecution | null = null;
  /** Set just before the executor stops the arm for it, so the end is reported as such. */
  pendingEnd: GoalEnd | null = null;
  ended = false;
  constructor(action: ActionSpec, sink: GoalSink) {
    this.action = action;
    this.sink = sink;
  }
}

/** Feedback rate while a goal runs, Hz. */
export const FEEDBACK_HZ = 20;

export class TrajectoryExecutor {
  readonly #cell: SimCellCore;
  readonly #names: JointNames;
  readonly #version: RosVersion;
  readonly #logger: Logger;
  readonly #sample: TrajectorySample;
  #active: TrajectoryGoal | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(cell: SimCellCore, names: JointNames, version: RosVersion, logger: Logger) {
    this.#cell = cell;
    this.#names = names;
    this.#version = version;
    this.#logger = logger;
    this.#sample = newSample(names.dof, true);
  }

  /** The running goal, or null. */
  get active(): TrajectoryGoal | null {
    return this.#active;
  }

  /**
   * Checks a goal trajectory and plays it; a running goal is preempted (only once the new
   * one is accepted).
   * @throws GoalRejectedError when the trajectory is not playable (nothing changes)
   */
  start(action: ActionSpec, trajectory: JointTrajectoryMsg, sink: GoalSink): TrajectoryGoal {
    const cell = this.#cell;
    cell.advance();
    const traj = trajectoryFromMsg(
      trajectory,
      this.#names,
      cell.kinematics,
      cell.arm.positions,
      cell.startTolerance,
    );
    const goal = new TrajectoryGoal(action, sink);
    const previous = this.#active;
    if (previous) {
      previous.pendingEnd = {
        kind: "preempted",
        reason: `preempted by a new goal on ${action.name}`,
      };
    }
    try {
      goal.execution = cell.execute(traj, (outcome) => this.#ended(goal, outcome));
    } catch (err) {
      if (previous) previous.pendingEnd = null;
      if (err instanceof GoalRejectedError) throw err;
      throw new GoalRejectedError("invalid_goal", (err as Error).message, { cause: err });
    }
    this.#active = goal;
    this.#logger.info(
      { action: action.name, points: traj.points.length, duration: traj.duration },
      "trajectory goal accepted",
    );
    this.#timer ??= setInterval(() => this.#tick(), 1000 / FEEDBACK_HZ);
    return goal;
  }

  /** Stops the arm at once for `goal`, which ends `canceled`. @returns false when it had ended */
  cancel(goal: TrajectoryGoal): boolean {
    if (goal.ended) return false;
    goal.pendingEnd = { kind: "canceled" };
    this.#cell.stop("canceled");
    return true;
  }

  /** The result message for a goal that ended so. */
  result(action: ActionSpec, end: GoalEnd): ExecuteTrajectoryResult | FollowJointTrajectoryResult {
    if (action.kind === "execute_trajectory") {
      const val =
        end.kind === "succeeded"
          ? MoveItErrorCode.SUCCESS
          : end.kind === "aborted"
            ? MoveItErrorCode.CONTROL_FAILED
            : MoveItErrorCode.PREEMPTED;
      const message =
        end.kind === "succeeded" ? "" : end.kind === "canceled" ? "canceled" : end.reason;
      return { error_code: this.#errorCode(val, message) };
    }
    switch (end.kind) {
      case "succeeded":
        return { error_code: FollowJointTrajectoryErrorCode.SUCCESSFUL, error_string: "" };
      case "canceled":
        // ros2_controllers reports a canceled goal with SUCCESSFUL and its status CANCELED.
        return { error_code: FollowJointTrajectoryErrorCode.SUCCESSFUL, error_string: "canceled" };
      case "preempted":
        return {
          error_code: FollowJointTrajectoryErrorCode.INVALID_GOAL,
          error_string: end.reason,
        };
      case "aborted":
        return {
          error_code: FollowJointTrajectoryErrorCode.PATH_TOLERANCE_VIOLATED,
          error_string: end.reason,
        };
    }
  }

  /** The result message for a refused goal (ROS 1 publishes it with status REJECTED). */
  rejectionResult(
    action: ActionSpec,
    err: GoalRejectedError,
  ): ExecuteTrajectoryResult | FollowJointTrajectoryResult {
    if (action.kind === "execute_trajectory") {
      return { error_code: this.#errorCode(MoveItErrorCode.CONTROL_FAILED, err.message) };
    }
    return {
      error_code:
        err.rejection === "invalid_joints"
          ? FollowJointTrajectoryErrorCode.INVALID_JOINTS
          : FollowJointTrajectoryErrorCode.INVALID_GOAL,
      error_string: err.message,
    };
  }

  /** MoveItErrorCodes; ROS 2 (moveit_msgs ≥ 2.3) also carries a message and its source. */
  #errorCode(val: number, message: string): MoveItErrorCodesMsg {
    return this.#version === 2 ? { val, message, source: "sim_cell" } : { val };
  }

  /** Stops feedback (the cell stops the arm itself when it closes). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #ended(goal: TrajectoryGoal, outcome: TrajectoryOutcome): void {
    if (goal.ended) return;
    goal.ended = true;
    if (this.#active === goal) this.#active = null;
    const end: GoalEnd =
      outcome.status === "succeeded"
        ? { kind: "succeeded" }
        : (goal.pendingEnd ?? { kind: "aborted", reason: outcome.reason });
    this.#logger.info({ action: goal.action.name, end }, "trajectory goal ended");
    goal.sink.end(end, this.result(goal.action, end));
    if (this.#active === null && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #tick(): void {
    this.#cell.advance();
    const goal = this.#active;
    if (goal) goal.sink.feedback(this.#feedback(goal));
  }

  #feedback(goal: TrajectoryGoal): ExecuteTrajectoryFeedback | FollowJointTrajectoryFeedback {
    const exec = goal.execution as CellExecution;
    if (goal.action.kind === "execute_trajectory") {
      return { state: `progress=${exec.progress().toFixed(3)}` };
    }
    const arm = this.#cell.arm;
    const s = this.#sample;
    exec.desired(s);
    const t = exec.elapsed();
    const v = this.#version;
    const error = Array.from(s.positions, (q, j) => q - (arm.positions[j] as number));
    const errorV = Array.from(s.velocities, (q, j) => q - (arm.velocities[j] as number));
    return {
      header: stampedHeader(this.#cell.stampS, v),
      joint_names: [...this.#names.names],
      desired: pointMsg(s.positions, s.velocities, s.accelerations ?? [], t, v),
      actual: pointMsg(arm.positions, arm.velocities, [], t, v),
      error: pointMsg(error, errorV, [], t, v),
    };
  }
}

/** The goal trajectory inside an action goal message of either kind. */
export function trajectoryOf(
  action: ActionSpec,
  schemas: RosSchemas,
  args: unknown,
): { ok: true; trajectory: JointTrajectoryMsg } | { ok: false; reason: string } {
  if (action.kind === "execute_trajectory") {
    const parsed = schemas.ExecuteTrajectoryGoal.safeParse(args ?? {});
    return parsed.success
      ? { ok: true, trajectory: parsed.data.trajectory.joint_trajectory }
      : { ok: false, reason: describeIssues(parsed.error) };
  }
  const parsed = schemas.FollowJointTrajectoryGoal.safeParse(args ?? {});
  return parsed.success
    ? { ok: true, trajectory: parsed.data.trajectory }
    : { ok: false, reason: describeIssues(parsed.error) };
}

/** ROS 2: rosbridge's action ops, one goal per `send_action_goal` id. */
export class Ros2ActionGoals {
  readonly #executor: TrajectoryExecutor;
  readonly #actions: ReadonlyMap<string, ActionSpec>;
  readonly #schemas: RosSchemas;
  /** Running goals by op id (at most one runs; ended goals are removed). */
  readonly #goals = new Map<OpId, { goal: TrajectoryGoal; uuid: number[] }>();

  constructor(
    executor: TrajectoryExecutor,
    actions: ReadonlyMap<string, ActionSpec>,
    schemas: RosSchemas,
  ) {
    this.#executor = executor;
    this.#actions = actions;
    this.#schemas = schemas;
  }

  /** `send_action_goal`: accept and play the goal, or answer a failed `action_result`. */
  sendGoal(client: ClientSession, op: OpOf<"send_action_goal">): void {
    const encode: EncodeOptions = {
      compression: op.compression === "cbor" ? "cbor" : "none",
      fragmentSize: op.fragment_size,
    };
    const fail = (reason: string) =>
      client.send(
        {
          op: "action_result",
          id: op.id,
          action: op.action,
          status: ActionStatus.ABORTED,
          result: false,
          values: reason,
        },
        encode,
      );
    const action = this.#actions.get(op.action);
    if (!action) {
      const msg = `unknown action "${op.action}" (offered: ${[...this.#actions.keys()].join(", ")})`;
      client.status("error", msg, op.id);
      fail(msg);
      return;
    }
    if (!sameType(op.action_type, action.type, 2)) {
      const msg = `action ${op.action} has type ${action.type}, not ${op.action_type}`;
      client.status("error", msg, op.id);
      fail(msg);
      return;
    }
    if (this.#goals.has(op.id)) {
      fail(`goal id ${String(op.id)} is already running`);
      return;
    }
    const parsed = trajectoryOf(action, this.#schemas, op.args);
    if (!parsed.ok) {
      fail(`invalid goal: ${parsed.reason}`);
      return;
    }
    const feedback = op.feedback === true;
    const sink: GoalSink = {
      feedback: (values) => {
        if (feedback)
          client.send({ op: "action_feedback", id: op.id, action: op.action, values }, encode);
      },
      end: (end, result) => {
        this.#goals.delete(op.id);
        const status =
          end.kind === "succeeded"
            ? ActionStatus.SUCCEEDED
            : end.kind === "canceled"
              ? ActionStatus.CANCELED
              : ActionStatus.ABORTED;
        client.send(
          {
            op: "action_result",
            id: op.id,
            action: op.action,
            status,
            result: true,
            values: result,
          },
          encode,
        );
      },
    };
    try {
      const goal = this.#executor.start(action, parsed.trajectory, sink);
      this.#goals.set(op.id, { goal, uuid: [...randomBytes(16)] });
    } catch (err) {
      if (!(err instanceof GoalRejectedError)) throw err;
      fail(err.message);
    }
  }

  /** `cancel_action_goal`: stops the arm for that goal (from any client: ids are unique). */
  cancelGoal(client: ClientSession, op: OpOf<"cancel_action_goal">): void {
    const entry = this.#goals.get(op.id);
    if (!entry || entry.goal.action.name !== op.action) {
      client.status("warning", `no running goal ${String(op.id)} on ${op.action}`, op.id);
      return;
    }
    this.#executor.cancel(entry.goal);
  }

  /**
   * `<action>/_action/cancel_goal` (action_msgs/srv/CancelGoal) with a zero goal id and
   * stamp: cancels every goal of the action (what roslib's `cancelAllGoals` sends).
   * @returns the CancelGoal response
   */
  cancelAll(
    action: ActionSpec,
    uuid: readonly number[],
  ): {
    return_code: number;
    goals_canceling: { goal_id: { uuid: number[] }; stamp: { sec: number; nanosec: number } }[];
  } {
    const all = uuid.every((b) => b === 0);
    const canceling: { goal_id: { uuid: number[] }; stamp: { sec: number; nanosec: number } }[] =
      [];
    for (const { goal, uuid: id } of this.#goals.values()) {
      if (goal.action !== action) continue;
      if (!all && id.join() !== uuid.join()) continue;
      if (this.#executor.cancel(goal))
        canceling.push({ goal_id: { uuid: id }, stamp: { sec: 0, nanosec: 0 } });
    }
    // CancelGoal return codes: 0 ERROR_NONE, 2 ERROR_UNKNOWN_GOAL_ID.
    return { return_code: canceling.length > 0 || all ? 0 : 2, goals_canceling: canceling };
  }
}
