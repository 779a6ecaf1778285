/**
 * The ROS messages the twin exchanges with a robot cell over rosbridge, as plain objects
 * (roslib 2.x sends and receives plain objects). Shared by the server's `RosCell` and the
 * simulated cell in `ros/sim-cell`, so both sides agree on every field.
 *
 * The shapes are defined once, as zod schemas in `shared/ros-schemas.ts`; the types here are
 * inferred from them (a message as validation outputs it: every field present). This module
 * adds the constants (error codes, status values) and helpers.
 *
 * ROS 1 and ROS 2 differ in type names (`sensor_msgs/JointState` vs
 * `sensor_msgs/msg/JointState`) and in time fields (`{secs, nsecs}` vs `{sec, nanosec}`);
 * {@link rosNames} and the time helpers hide both. Units as in ROS: m, rad, s.
 */
import type { RosMessage, RosTime, RosVersion } from "./ros-schemas.ts";

export type { RosTime, RosVersion } from "./ros-schemas.ts";

/** std_msgs/Header (`seq` in ROS 1 only). */
export type Header = RosMessage<"Header">;
/** geometry_msgs/Pose */
export type PoseMsg = RosMessage<"Pose">;
/** sensor_msgs/JointState */
export type JointStateMsg = RosMessage<"JointState">;
/** trajectory_msgs/JointTrajectoryPoint */
export type JointTrajectoryPointMsg = RosMessage<"JointTrajectoryPoint">;
/** trajectory_msgs/JointTrajectory */
export type JointTrajectoryMsg = RosMessage<"JointTrajectory">;
/** moveit_msgs/RobotTrajectory (the multi-DOF part is unused). */
export type RobotTrajectoryMsg = RosMessage<"RobotTrajectory">;
/** moveit_msgs/MoveItErrorCodes (`message`, `source`: ROS 2 Iron and later only). */
export type MoveItErrorCodesMsg = RosMessage<"MoveItErrorCodes">;
/** moveit_msgs/JointConstraint */
export type JointConstraintMsg = RosMessage<"JointConstraint">;
/** moveit_msgs/PositionConstraint, used as a target point (a small sphere region). */
export type PositionConstraintMsg = RosMessage<"PositionConstraint">;
/** moveit_msgs/OrientationConstraint */
export type OrientationConstraintMsg = RosMessage<"OrientationConstraint">;
/** moveit_msgs/Constraints */
export type ConstraintsMsg = RosMessage<"Constraints">;
/** moveit_msgs/MotionPlanRequest (the fields the twin sets; rosbridge fills the rest). */
export type MotionPlanRequestMsg = RosMessage<"MotionPlanRequest">;
/** moveit_msgs/GetMotionPlan request and response. */
export type GetMotionPlanRequest = RosMessage<"GetMotionPlanRequest">;
export type GetMotionPlanResponse = RosMessage<"GetMotionPlanResponse">;
/** moveit_msgs/GetPositionIK request and response. */
export type GetPositionIKRequest = RosMessage<"GetPositionIKRequest">;
export type GetPositionIKResponse = RosMessage<"GetPositionIKResponse">;
/** moveit_msgs/ExecuteTrajectory action: goal, feedback, result. */
export type ExecuteTrajectoryGoal = RosMessage<"ExecuteTrajectoryGoal">;
export type ExecuteTrajectoryFeedback = RosMessage<"ExecuteTrajectoryFeedback">;
export type ExecuteTrajectoryResult = RosMessage<"ExecuteTrajectoryResult">;
/** control_msgs/FollowJointTrajectory action: goal, feedback, result. */
export type FollowJointTrajectoryGoal = RosMessage<"FollowJointTrajectoryGoal">;
export type FollowJointTrajectoryFeedback = RosMessage<"FollowJointTrajectoryFeedback">;
export type FollowJointTrajectoryResult = RosMessage<"FollowJointTrajectoryResult">;
/** control_msgs/JointJog (MoveIt Servo's joint jog input; `duration` in s). */
export type JointJogMsg = RosMessage<"JointJog">;
/** actionlib_msgs/GoalID, GoalStatus, GoalStatusArray (ROS 1 actionlib over topics). */
export type GoalIdMsg = RosMessage<"GoalId">;
export type GoalStatusMsg = RosMessage<"GoalStatus">;
export type GoalStatusArrayMsg = RosMessage<"GoalStatusArray">;

/** moveit_msgs/MoveItErrorCodes values used here. */
export const MoveItErrorCode = {
  SUCCESS: 1,
  FAILURE: 99999,
  PLANNING_FAILED: -1,
  INVALID_MOTION_PLAN: -2,
  MOTION_PLAN_INVALIDATED_BY_ENVIRONMENT_CHANGE: -3,
  CONTROL_FAILED: -4,
  TIMED_OUT: -6,
  PREEMPTED: -7,
  START_STATE_IN_COLLISION: -10,
  GOAL_IN_COLLISION: -12,
  GOAL_VIOLATES_PATH_CONSTRAINTS: -13,
  GOAL_CONSTRAINTS_VIOLATED: -14,
  INVALID_GROUP_NAME: -15,
  INVALID_GOAL_CONSTRAINTS: -16,
  INVALID_ROBOT_STATE: -17,
  NO_IK_SOLUTION: -31,
  INVALID_LINK_NAME: -18,
  FRAME_TRANSFORM_FAILURE: -21,
  START_STATE_INVALID: -26,
} as const;

/** control_msgs/FollowJointTrajectory result `error_code` values. */
export const FollowJointTrajectoryErrorCode = {
  SUCCESSFUL: 0,
  INVALID_GOAL: -1,
  INVALID_JOINTS: -2,
  OLD_HEADER_TIMESTAMP: -3,
  PATH_TOLERANCE_VIOLATED: -4,
  GOAL_TOLERANCE_VIOLATED: -5,
} as const;

/** ROS 1 actionlib_msgs/GoalStatus values (`status` of a {@link GoalStatusMsg}). */
export const GoalStatusCode = {
  PENDING: 0,
  ACTIVE: 1,
  PREEMPTED: 2,
  SUCCEEDED: 3,
  ABORTED: 4,
  REJECTED: 5,
  PREEMPTING: 6,
  RECALLING: 7,
  RECALLED: 8,
  LOST: 9,
} as const;

/** ROS 2 action_msgs/GoalStatus values as rosbridge reports them in `action_result.status`. */
export const ActionStatus = {
  UNKNOWN: 0,
  ACCEPTED: 1,
  EXECUTING: 2,
  CANCELING: 3,
  SUCCEEDED: 4,
  CANCELED: 5,
  ABORTED: 6,
} as const;

/** Type names per ROS version. */
export function rosNames(version: RosVersion) {
  const t = (pkg: string, kind: "msg" | "srv" | "action", name: string) =>
    version === 2 ? `${pkg}/${kind}/${name}` : `${pkg}/${name}`;
  return {
    jointState: t("sensor_msgs", "msg", "JointState"),
    jointJog: t("control_msgs", "msg", "JointJog"),
    getMotionPlan: t("moveit_msgs", "srv", "GetMotionPlan"),
    getPositionIK: t("moveit_msgs", "srv", "GetPositionIK"),
    /** ROS 2: the action type; ROS 1: the actionlib prefix (`…Action`, + Goal/Feedback/Result). */
    executeTrajectory:
      version === 2
        ? "moveit_msgs/action/ExecuteTrajectory"
        : "moveit_msgs/ExecuteTrajectoryAction",
    followJointTrajectory:
      version === 2
        ? "control_msgs/action/FollowJointTrajectory"
        : "control_msgs/FollowJointTrajectoryAction",
  };
}

/** Seconds (float) → the version's time object. */
export function toRosTime(seconds: number, version: RosVersion): RosTime {
  const s = Math.floor(seconds);
  const n = Math.round((seconds - s) * 1e9);
  const [sec, nano] = n >= 1e9 ? [s + 1, n - 1e9] : [s, n];
  return version === 2 ? { sec, nanosec: nano } : { secs: sec, nsecs: nano };
}

/** Either version's time object → seconds (float); NaN for anything else. */
export function fromRosTime(t: unknown): number {
  if (!t || typeof t !== "object") return Number.NaN;
  const o = t as Record<string, unknown>;
  const s = o.sec ?? o.secs;
  const n = o.nanosec ?? o.nsecs;
  return typeof s === "number" && typeof n === "number" ? s + n * 1e-9 : Number.NaN;
}

/** A header stamped with `seconds` (wall clock, s since the Unix epoch). */
export function header(seconds: number, version: RosVersion, frameId = ""): Header {
  return { stamp: toRosTime(seconds, version), frame_id: frameId };
}
