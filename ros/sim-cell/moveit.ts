/**
 * MoveIt's planning services on the simulated cell: `GetMotionPlan`
 * (`/plan_kinematic_path`) and `GetPositionIK` (`/compute_ik`), each a request message →
 * a call on the cell's planner or IK → a response message with a MoveIt error code.
 * Requests are already validated against their schema (shared/ros-schemas.ts).
 *
 * Choices where MoveIt leaves room (also in the README):
 * - the goal is `goal_constraints[0]`: either joint constraints on all group joints, or one
 *   position constraint plus one orientation constraint on the tip link, in `base_link`
 *   (`header.frame_id` "" or `panda_link0`); tolerances are not used (the plan ends exactly
 *   on the goal);
 * - `allowed_planning_time` ≤ 0 → 5 s; capped at 30 s;
 * - scaling factors in (0, 1] are used as given; anything else (0 = unset, < 0, > 1) → 1.0,
 *   as MoveIt's time parameterisation does when the request carries no valid factor;
 * - a missing start state (no joint names) is the arm's current state; a partial one is
 *   completed from it (names that are not group joints, e.g. fingers, are ignored).
 */
import type { Logger } from "pino";
import {
  type GetMotionPlanResponse,
  type GetPositionIKResponse,
  header,
  MoveItErrorCode,
  type MoveItErrorCodesMsg,
  type RobotTrajectoryMsg,
  type RosVersion,
  type GetMotionPlanRequest,
  type GetPositionIKRequest,
} from "../../shared/ros-msgs.ts";
import {
  describeHit,
  PlanFailure,
  type PlannerGoal,
  PlannerInputError,
} from "../../server/sim/index.ts";
import type { SimCellCore } from "./cell.ts";
import {
  type JointNames,
  jointStateMsg,
  jointVectorFrom,
  normalisedQuat,
  toolPoseFor,
  trajectoryMsg,
} from "./conversions.ts";

/** Planning time when the request gives none, s. */
export const DEFAULT_PLANNING_TIME_S = 5;
/** Longest planning time granted, s (planning blocks the cell's event loop). */
export const MAX_PLANNING_TIME_S = 30;
/** `error_code.source` of every answer (ROS 2). */
const ERROR_SOURCE = "sim_cell";

type ErrorCode = (typeof MoveItErrorCode)[keyof typeof MoveItErrorCode];

/** A planning failure with its MoveIt code and a message for the logs. */
interface Refusal {
  code: ErrorCode;
  message: string;
}

/** MoveIt's reading of a scaling factor: (0, 1] as given, anything else 1.0. */
export function scalingFactor(value: number): number {
  return value > 0 && value <= 1 ? value : 1;
}

export class MoveItServices {
  readonly #cell: SimCellCore;
  readonly #names: JointNames;
  readonly #version: RosVersion;
  readonly #logger: Logger;

  constructor(cell: SimCellCore, names: JointNames, version: RosVersion, logger: Logger) {
    this.#cell = cell;
    this.#names = names;
    this.#version = version;
    this.#logger = logger;
  }

  /** `moveit_msgs/GetMotionPlan`: plans from the start state to `goal_constraints[0]`. */
  planKinematicPath(request: GetMotionPlanRequest): GetMotionPlanResponse {
    const t0 = performance.now();
    const cell = this.#cell;
    const r = request.motion_plan_request;
    cell.advance();
    const start = jointVectorFrom(r.start_state.joint_state, this.#names, cell.arm.positions);
    const startState = start.ok ? start.q : Float64Array.from(cell.arm.positions);
    const respond = (code: ErrorCode, trajectory: RobotTrajectoryMsg | null, message = "") => {
      const response: GetMotionPlanResponse = {
        motion_plan_response: {
          trajectory_start: {
            joint_state: jointStateMsg(
              this.#names,
              startState,
              new Float64Array(this.#names.dof),
              cell.stampS,
              this.#version,
            ),
          },
          group_name: r.group_name,
          trajectory: trajectory ?? this.#emptyTrajectory(),
          planning_time: (performance.now() - t0) / 1000,
          error_code: this.#errorCode(code, message),
        },
      };
      return response;
    };
    const refuse = (f: Refusal) => {
      this.#logger.info({ code: f.code, reason: f.message }, "plan_kinematic_path refused");
      return respond(f.code, null, f.message);
    };

    if (r.group_name !== cell.groupName) {
      return refuse({
        code: MoveItErrorCode.INVALID_GROUP_NAME,
        message: `unknown group "${r.group_name}" (the cell plans for "${cell.groupName}")`,
      });
    }
    if (!start.ok)
      return refuse({ code: MoveItErrorCode.INVALID_ROBOT_STATE, message: start.reason });
    const goal = this.#goalOf(r);
    if ("code" in goal) return refuse(goal);

    const budgetMs =
      1000 *
      (r.allowed_planning_time > 0
        ? Math.min(r.allowed_planning_time, MAX_PLANNING_TIME_S)
        : DEFAULT_PLANNING_TIME_S);
    let target: Float64Array;
    if (goal.kind === "pose") {
      const ik = cell.solvePose(goal.pose, startState, true);
      if (!ik.ok) {
        return refuse(
          ik.reason === "in_collision"
            ? {
                code: MoveItErrorCode.GOAL_IN_COLLISION,
                message: `goal is in collision: ${ik.hit ? describeHit(ik.hit) : "every IK solution touches something"}`,
              }
            : {
                code: MoveItErrorCode.NO_IK_SOLUTION,
                message: `goal pose out of reach (closest ${(ik.positionError * 1000).toFixed(1)} mm)`,
              },
        );
      }
      target = ik.q;
    } else {
      target = Float64Array.from(goal.positions);
    }
    const remainingMs = budgetMs - (performance.now() - t0);
    if (remainingMs <= 0) {
      return refuse({ code: MoveItErrorCode.TIMED_OUT, message: "no planning time left after IK" });
    }
    let result;
    try {
      result = cell.plan(
        { start: startState, goal: { kind: "joints", positions: target } },
        {
          timeoutMs: remainingMs,
          velocityScale: scalingFactor(r.max_velocity_scaling_factor),
          accelerationScale: scalingFactor(r.max_acceleration_scaling_factor),
        },
      );
    } catch (err) {
      if (!(err instanceof PlannerInputError)) throw err;
      return refuse({ code: MoveItErrorCode.FAILURE, message: err.message });
    }
    if (!result.ok) {
      return refuse({
        code: planFailureCode(result.reason, result.message),
        message: result.message,
      });
    }
    const trajectory: RobotTrajectoryMsg = {
      joint_trajectory: trajectoryMsg(
        result.trajectory,
        this.#names,
        this.#version,
        cell.baseFrame,
      ),
      multi_dof_joint_trajectory: {
        header: header(0, this.#version, cell.baseFrame),
        joint_names: [],
        points: [],
      },
    };
    return respond(MoveItErrorCode.SUCCESS, trajectory);
  }

  /** `moveit_msgs/GetPositionIK` for the tip link, seeded at the request's robot state. */
  computeIk(request: GetPositionIKRequest): GetPositionIKResponse {
    const cell = this.#cell;
    const r = request.ik_request;
    cell.advance();
    const empty = (code: ErrorCode, reason: string): GetPositionIKResponse => {
      this.#logger.info({ code, reason }, "compute_ik failed");
      return {
        error_code: this.#errorCode(code, reason),
        solution: {
          joint_state: {
            header: header(cell.stampS, this.#version),
            name: [],
            position: [],
            velocity: [],
            effort: [],
          },
        },
      };
    };
    if (r.group_name !== cell.groupName) {
      return empty(MoveItErrorCode.INVALID_GROUP_NAME, `unknown group "${r.group_name}"`);
    }
    if (r.ik_link_name !== "" && r.ik_link_name !== cell.tipLink) {
      return empty(MoveItErrorCode.INVALID_LINK_NAME, `IK is solved for "${cell.tipLink}" only`);
    }
    const frame = r.pose_stamped.header.frame_id.replace(/^\//, "");
    if (frame !== "" && frame !== cell.baseFrame) {
      return empty(MoveItErrorCode.FRAME_TRANSFORM_FAILURE, `poses must be in "${cell.baseFrame}"`);
    }
    const seed = jointVectorFrom(r.robot_state.joint_state, this.#names, cell.arm.positions);
    if (!seed.ok) return empty(MoveItErrorCode.INVALID_ROBOT_STATE, seed.reason);
    const orientation = normalisedQuat(r.pose_stamped.pose.orientation);
    if (!orientation)
      return empty(MoveItErrorCode.NO_IK_SOLUTION, "orientation is not a quaternion");
    const ik = cell.solvePose(
      { position: r.pose_stamped.pose.position, orientation },
      seed.q,
      r.avoid_collisions,
    );
    // MoveIt answers NO_IK_SOLUTION also when every solution is in collision.
    if (!ik.ok) {
      return empty(
        MoveItErrorCode.NO_IK_SOLUTION,
        ik.reason === "in_collision"
          ? `every solution is in collision${ik.hit ? ` (${describeHit(ik.hit)})` : ""}`
          : `pose out of reach (closest ${(ik.positionError * 1000).toFixed(1)} mm)`,
      );
    }
    return {
      solution: {
        joint_state: {
          header: header(cell.stampS, this.#version, cell.baseFrame),
          name: [...this.#names.names],
          position: Array.from(ik.q),
          velocity: [],
          effort: [],
        },
      },
      error_code: this.#errorCode(MoveItErrorCode.SUCCESS, ""),
    };
  }

  /** MoveItErrorCodes; ROS 2 (moveit_msgs ≥ 2.3) also carries a message and its source. */
  #errorCode(val: ErrorCode, message: string): MoveItErrorCodesMsg {
    return this.#version === 2 ? { val, message, source: ERROR_SOURCE } : { val };
  }

  /** The goal of `goal_constraints[0]` (joints in group order, or a tool pose in `base_link`). */
  #goalOf(r: GetMotionPlanRequest["motion_plan_request"]): PlannerGoal | Refusal {
    const cell = this.#cell;
    const invalid = (message: string): Refusal => ({
      code: MoveItErrorCode.INVALID_GOAL_CONSTRAINTS,
      message,
    });
    const c = r.goal_constraints[0];
    if (!c) return invalid("no goal constraints");
    const joints = c.joint_constraints;
    const positions = c.position_constraints;
    const orientations = c.orientation_constraints;
    if (joints.length > 0) {
      if (positions.length > 0 || orientations.length > 0) {
        return invalid("mixing joint and pose constraints in one goal is not supported");
      }
      const q = new Float64Array(this.#names.dof).fill(Number.NaN);
      for (const jc of joints) {
        const j = this.#names.indexOf(jc.joint_name);
        if (j < 0) return invalid(`unknown joint "${jc.joint_name}"`);
        if (!Number.isNaN(q[j])) return invalid(`joint "${jc.joint_name}" constrained twice`);
        const lo = cell.kinematics.lower[j] as number;
        const hi = cell.kinematics.upper[j] as number;
        if (jc.position < lo || jc.position > hi) {
          return invalid(`${jc.joint_name} = ${jc.position} rad outside [${lo}, ${hi}]`);
        }
        q[j] = jc.position;
      }
      const missing = this.#names.names.filter((_, j) => Number.isNaN(q[j]));
      if (missing.length > 0) return invalid(`no constraint on ${missing.join(", ")}`);
      return { kind: "joints", positions: q };
    }
    if (positions.length !== 1 || orientations.length !== 1) {
      return invalid("a pose goal needs one position and one orientation constraint");
    }
    const pc = positions[0] as (typeof positions)[number];
    const oc = orientations[0] as (typeof orientations)[number];
    for (const [what, link, frameId] of [
      ["position", pc.link_name, pc.header.frame_id],
      ["orientation", oc.link_name, oc.header.frame_id],
    ] as const) {
      if (link !== cell.tipLink) {
        return invalid(`${what} constraint on "${link}"; the cell plans for "${cell.tipLink}"`);
      }
      const frame = frameId.replace(/^\//, "");
      if (frame !== "" && frame !== cell.baseFrame) {
        return invalid(`${what} constraint in frame "${frameId}"; use "${cell.baseFrame}"`);
      }
    }
    const region = pc.constraint_region.primitive_poses[0];
    if (!region) return invalid("position constraint has no primitive pose");
    const orientation = normalisedQuat(oc.orientation);
    if (!orientation) return invalid("orientation constraint is not a quaternion");
    return {
      kind: "pose",
      pose: toolPoseFor(region.position, orientation, pc.target_point_offset),
    };
  }

  #emptyTrajectory(): RobotTrajectoryMsg {
    return {
      joint_trajectory: { header: header(0, this.#version), joint_names: [], points: [] },
      multi_dof_joint_trajectory: { header: header(0, this.#version), joint_names: [], points: [] },
    };
  }
}

/** The MoveIt error code for a planner failure. */
export function planFailureCode(reason: PlanFailure, message: string): ErrorCode {
  switch (reason) {
    case PlanFailure.GoalUnreachable:
      return message.includes("collision")
        ? MoveItErrorCode.GOAL_IN_COLLISION
        : MoveItErrorCode.NO_IK_SOLUTION;
    case PlanFailure.GoalInCollision:
      return MoveItErrorCode.GOAL_IN_COLLISION;
    case PlanFailure.StartInCollision:
      return MoveItErrorCode.START_STATE_IN_COLLISION;
    case PlanFailure.OutOfLimits:
      return message.startsWith("start")
        ? MoveItErrorCode.START_STATE_INVALID
        : MoveItErrorCode.INVALID_GOAL_CONSTRAINTS;
    case PlanFailure.Timeout:
      return MoveItErrorCode.TIMED_OUT;
    case PlanFailure.NoPath:
    case PlanFailure.ValidationFailed:
      return MoveItErrorCode.PLANNING_FAILED;
  }
}
