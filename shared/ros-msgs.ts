/**
 * The ROS messages the twin exchanges with a robot cell over rosbridge, as plain objects
 * (roslib 2.x sends and receives plain objects). Shared by the server's `RosCell` and the
 * simulated cell in `ros/sim-cell`, so both sides agree on every field.
 *
 * ROS 1 and ROS 2 differ in type names (`sensor_msgs/JointState` vs
 * `sensor_msgs/msg/JointState`) and in time fields (`{secs, nsecs}` vs `{sec, nanosec}`);
 * {@link rosNames} and the time helpers hide both. Units as in ROS: m, rad, s.
 */

export type RosVersion = 1 | 2;

/** ROS 1 `time`/`duration` or ROS 2 `builtin_interfaces/Time`/`Duration`. */
export type RosTime = { secs: number; nsecs: number } | { sec: number; nanosec: number };

export interface Header {
  stamp: RosTime;
  frame_id: string;
  /** ROS 1 only. */
  seq?: number;
}

/** sensor_msgs/JointState */
export interface JointStateMsg {
  header: Header;
  name: string[];
  position: number[];
  velocity: number[];
  effort: number[];
}

/** trajectory_msgs/JointTrajectoryPoint */
export interface JointTrajectoryPointMsg {
  positions: number[];
  velocities: number[];
  accelerations: number[];
  effort: number[];
  time_from_start: RosTime;
}

/** trajectory_msgs/JointTrajectory */
export interface JointTrajectoryMsg {
  header: Header;
  joint_names: string[];
  points: JointTrajectoryPointMsg[];
}

/** moveit_msgs/RobotTrajectory (the multi-DOF part is unused and sent empty). */
export interface RobotTrajectoryMsg {
  joint_trajectory: JointTrajectoryMsg;
  multi_dof_joint_trajectory?: { header: Header; joint_names: string[]; points: unknown[] };
}

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

export interface MoveItErrorCodesMsg {
  val: number;
  /** ROS 2 (moveit_msgs ≥ 2.3, Iron) only: what went wrong, for people. */
  message?: string;
  /** ROS 2 (moveit_msgs ≥ 2.3, Iron) only: which component set the code. */
  source?: string;
}

/** moveit_msgs/JointConstraint */
export interface JointConstraintMsg {
  joint_name: string;
  position: number;
  tolerance_above: number;
  tolerance_below: number;
  weight: number;
}

/** geometry_msgs/Pose */
export interface PoseMsg {
  position: { x: number; y: number; z: number };
  orientation: { x: number; y: number; z: number; w: number };
}

/** moveit_msgs/PositionConstraint, reduced to a target point (a small sphere region). */
export interface PositionConstraintMsg {
  header: Header;
  link_name: string;
  target_point_offset: { x: number; y: number; z: number };
  constraint_region: {
    primitives: { type: number; dimensions: number[] }[];
    primitive_poses: PoseMsg[];
  };
  weight: number;
}

/** moveit_msgs/OrientationConstraint */
export interface OrientationConstraintMsg {
  header: Header;
  link_name: string;
  orientation: PoseMsg["orientation"];
  absolute_x_axis_tolerance: number;
  absolute_y_axis_tolerance: number;
  absolute_z_axis_tolerance: number;
  weight: number;
}

/** moveit_msgs/Constraints */
export interface ConstraintsMsg {
  name: string;
  joint_constraints: JointConstraintMsg[];
  position_constraints: PositionConstraintMsg[];
  orientation_constraints: OrientationConstraintMsg[];
}

/** moveit_msgs/MotionPlanRequest (the fields the twin sets; rosbridge fills the rest). */
export interface MotionPlanRequestMsg {
  group_name: string;
  planner_id: string;
  start_state: { joint_state: JointStateMsg; is_diff?: boolean };
  goal_constraints: ConstraintsMsg[];
  num_planning_attempts: number;
  allowed_planning_time: number;
  max_velocity_scaling_factor: number;
  max_acceleration_scaling_factor: number;
}

/** moveit_msgs/GetMotionPlan request and response. */
export interface GetMotionPlanRequest {
  motion_plan_request: MotionPlanRequestMsg;
}
export interface GetMotionPlanResponse {
  motion_plan_response: {
    trajectory_start?: { joint_state: JointStateMsg };
    group_name: string;
    trajectory: RobotTrajectoryMsg;
    planning_time: number;
    error_code: MoveItErrorCodesMsg;
  };
}

/** moveit_msgs/GetPositionIK request and response. */
export interface GetPositionIKRequest {
  ik_request: {
    group_name: string;
    robot_state: { joint_state: JointStateMsg };
    avoid_collisions: boolean;
    ik_link_name: string;
    pose_stamped: { header: Header; pose: PoseMsg };
    timeout: RosTime;
  };
}
export interface GetPositionIKResponse {
  solution: { joint_state: JointStateMsg };
  error_code: MoveItErrorCodesMsg;
}

/** moveit_msgs/ExecuteTrajectory action: goal, feedback, result. */
export interface ExecuteTrajectoryGoal {
  trajectory: RobotTrajectoryMsg;
}
export interface ExecuteTrajectoryFeedback {
  /** Free text, e.g. "MONITOR"; progress here as `progress=<0..1>`. */
  state: string;
}
export interface ExecuteTrajectoryResult {
  error_code: MoveItErrorCodesMsg;
}

/** control_msgs/FollowJointTrajectory action: goal, feedback, result. */
export interface FollowJointTrajectoryGoal {
  trajectory: JointTrajectoryMsg;
  goal_time_tolerance?: RosTime;
}
export interface FollowJointTrajectoryFeedback {
  header: Header;
  joint_names: string[];
  desired: JointTrajectoryPointMsg;
  actual: JointTrajectoryPointMsg;
  error: JointTrajectoryPointMsg;
}
export interface FollowJointTrajectoryResult {
  /** 0 SUCCESSFUL, -1 INVALID_GOAL, -2 INVALID_JOINTS, -4 PATH_TOLERANCE_VIOLATED, -5 GOAL_TOLERANCE_VIOLATED. */
  error_code: number;
  error_string: string;
}

/** control_msgs/FollowJointTrajectory result `error_code` values. */
export const FollowJointTrajectoryErrorCode = {
  SUCCESSFUL: 0,
  INVALID_GOAL: -1,
  INVALID_JOINTS: -2,
  OLD_HEADER_TIMESTAMP: -3,
  PATH_TOLERANCE_VIOLATED: -4,
  GOAL_TOLERANCE_VIOLATED: -5,
} as const;

/** control_msgs/JointJog (MoveIt Servo's joint jog input). */
export interface JointJogMsg {
  header: Header;
  joint_names: string[];
  displacements: number[];
  velocities: number[];
  /** s */
  duration: number;
}

/** actionlib_msgs/GoalID and GoalStatus (ROS 1 actionlib over topics). */
export interface GoalIdMsg {
  stamp: RosTime;
  id: string;
}
export interface GoalStatusMsg {
  goal_id: GoalIdMsg;
  /** 0 PENDING, 1 ACTIVE, 2 PREEMPTED, 3 SUCCEEDED, 4 ABORTED, 5 REJECTED, … */
  status: number;
  text: string;
}

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

/** actionlib_msgs/GoalStatusArray (ROS 1 `<action>/status`). */
export interface GoalStatusArrayMsg {
  header: Header;
  status_list: GoalStatusMsg[];
}

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
