/**
 * Zod schemas for the ROS message contents the cell reads (service requests, action goals,
 * published commands), one set per ROS version because the time fields differ
 * (`{sec, nanosec}` in ROS 2, `{secs, nsecs}` in ROS 1).
 *
 * Like rosbridge, a missing field takes the message's default (0, "", [], false), so a
 * client may send only the fields it sets. Unlike rosbridge, fields the cell does not read
 * are ignored rather than checked against the full message definition; time objects are
 * strict so that a time in the other version's spelling is refused instead of read as 0.
 * Numbers must be finite (JSON cannot carry NaN; CBOR can, and it is refused here).
 */
import { z } from "zod";
import { type RosTime, type RosVersion, toRosTime } from "../../shared/ros-msgs.ts";

/** Most joints a message may name (the cell has 7; a full robot state has a few more). */
export const MAX_JOINTS = 64;
/** Most points in one trajectory (a 10 MiB frame holds about this many 7-joint points). */
export const MAX_TRAJECTORY_POINTS = 100_000;
const MAX_NAME = 256;

const num = (d = 0) => z.number().default(d);
const int = (d = 0) => z.number().int().default(d);
const str = () => z.string().max(MAX_NAME).default("");
const numbers = () => z.array(z.number()).max(MAX_JOINTS).default([]);

/** All schemas for one ROS version. */
export function rosSchemas(version: RosVersion) {
  const nanos = () => z.number().int().min(0).max(999_999_999).default(0);
  const exact: z.ZodType<RosTime, unknown> =
    version === 2
      ? z.strictObject({ sec: int(), nanosec: nanos() })
      : z.strictObject({ secs: int(), nsecs: nanos() });
  const zero = toRosTime(0, version);
  /** A time or duration in the version's spelling; missing = 0. */
  const Time = exact.optional().transform((t): RosTime => t ?? { ...zero });
  const Header = z
    .object({ stamp: Time, frame_id: str(), seq: z.number().int().optional() })
    .prefault({});
  const Vector3 = z.object({ x: num(), y: num(), z: num() }).prefault({});
  // ROS 2 message defaults give an identity quaternion (w = 1); ROS 1 gives all zeros.
  const Quaternion = z
    .object({ x: num(), y: num(), z: num(), w: num(version === 2 ? 1 : 0) })
    .prefault({});
  const Pose = z.object({ position: Vector3, orientation: Quaternion }).prefault({});

  const JointState = z
    .object({
      header: Header,
      name: z.array(z.string().max(MAX_NAME)).max(MAX_JOINTS).default([]),
      position: numbers(),
      velocity: numbers(),
      effort: numbers(),
    })
    .prefault({});
  const RobotState = z
    .object({ joint_state: JointState, is_diff: z.boolean().default(false) })
    .prefault({});

  const JointTrajectoryPoint = z.object({
    positions: numbers(),
    velocities: numbers(),
    accelerations: numbers(),
    effort: numbers(),
    time_from_start: Time,
  });
  const JointTrajectory = z
    .object({
      header: Header,
      joint_names: z.array(z.string().max(MAX_NAME)).max(MAX_JOINTS).default([]),
      points: z.array(JointTrajectoryPoint).max(MAX_TRAJECTORY_POINTS).default([]),
    })
    .prefault({});
  const RobotTrajectory = z
    .object({
      joint_trajectory: JointTrajectory,
      multi_dof_joint_trajectory: z.unknown().optional(),
    })
    .prefault({});

  const JointConstraint = z.object({
    joint_name: str(),
    position: num(),
    tolerance_above: num(),
    tolerance_below: num(),
    weight: num(),
  });
  const PositionConstraint = z.object({
    header: Header,
    link_name: str(),
    target_point_offset: Vector3,
    constraint_region: z
      .object({
        primitives: z
          .array(z.object({ type: int(), dimensions: z.array(z.number()).max(16).default([]) }))
          .max(16)
          .default([]),
        primitive_poses: z.array(Pose).max(16).default([]),
      })
      .prefault({}),
    weight: num(),
  });
  const OrientationConstraint = z.object({
    header: Header,
    orientation: Quaternion,
    link_name: str(),
    absolute_x_axis_tolerance: num(),
    absolute_y_axis_tolerance: num(),
    absolute_z_axis_tolerance: num(),
    weight: num(),
  });
  const Constraints = z.object({
    name: str(),
    joint_constraints: z.array(JointConstraint).max(MAX_JOINTS).default([]),
    position_constraints: z.array(PositionConstraint).max(16).default([]),
    orientation_constraints: z.array(OrientationConstraint).max(16).default([]),
  });
  const MotionPlanRequest = z
    .object({
      start_state: RobotState,
      goal_constraints: z.array(Constraints).max(16).default([]),
      group_name: str(),
      planner_id: str(),
      pipeline_id: str(),
      num_planning_attempts: int(),
      allowed_planning_time: num(),
      max_velocity_scaling_factor: num(),
      max_acceleration_scaling_factor: num(),
    })
    .prefault({});

  const GetMotionPlanRequest = z.object({ motion_plan_request: MotionPlanRequest }).prefault({});
  const GetPositionIKRequest = z
    .object({
      ik_request: z
        .object({
          group_name: str(),
          robot_state: RobotState,
          avoid_collisions: z.boolean().default(false),
          ik_link_name: str(),
          pose_stamped: z.object({ header: Header, pose: Pose }).prefault({}),
          timeout: Time,
        })
        .prefault({}),
    })
    .prefault({});

  const ExecuteTrajectoryGoal = z.object({ trajectory: RobotTrajectory }).prefault({});
  const FollowJointTrajectoryGoal = z
    .object({ trajectory: JointTrajectory, goal_time_tolerance: Time })
    .prefault({});

  const JointJog = z
    .object({
      header: Header,
      joint_names: z.array(z.string().max(MAX_NAME)).max(MAX_JOINTS).default([]),
      displacements: numbers(),
      velocities: numbers(),
      duration: z.number().min(0).max(3600).default(0),
    })
    .prefault({});

  const GoalId = z.object({ stamp: Time, id: z.string().max(MAX_NAME).default("") }).prefault({});
  /** actionlib `…ActionGoal` (roslib's `Goal` sends no header); `goal` is read per action. */
  const ActionGoalEnvelope = z
    .object({ header: Header, goal_id: GoalId, goal: z.unknown().optional() })
    .prefault({});

  /** action_msgs/srv/CancelGoal request (roslib's cancelAllGoals sends `{}`). */
  const CancelGoalRequest = z
    .object({
      goal_info: z
        .object({
          goal_id: z
            .object({ uuid: z.array(z.number().int().min(0).max(255)).max(16).default([]) })
            .prefault({}),
          stamp: Time,
        })
        .prefault({}),
    })
    .prefault({});

  return {
    Time,
    Header,
    Pose,
    JointState,
    JointTrajectory,
    GetMotionPlanRequest,
    GetPositionIKRequest,
    ExecuteTrajectoryGoal,
    FollowJointTrajectoryGoal,
    ActionGoalEnvelope,
    GoalId,
    JointJog,
    CancelGoalRequest,
  };
}

export type RosSchemas = ReturnType<typeof rosSchemas>;
export type JointStateIn = z.output<RosSchemas["JointState"]>;
export type JointTrajectoryIn = z.output<RosSchemas["JointTrajectory"]>;
export type GetMotionPlanRequestIn = z.output<RosSchemas["GetMotionPlanRequest"]>;
export type GetPositionIKRequestIn = z.output<RosSchemas["GetPositionIKRequest"]>;
export type ExecuteTrajectoryGoalIn = z.output<RosSchemas["ExecuteTrajectoryGoal"]>;
export type FollowJointTrajectoryGoalIn = z.output<RosSchemas["FollowJointTrajectoryGoal"]>;
export type JointJogIn = z.output<RosSchemas["JointJog"]>;
export type GoalIdIn = z.output<RosSchemas["GoalId"]>;
export type CancelGoalRequestIn = z.output<RosSchemas["CancelGoalRequest"]>;

/** "a.b: expected number, received string; …": the first few zod issues, for a client. */
export function describeZodError(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((i) => {
    const path = i.path.map(String).join(".");
    return path ? `${path}: ${i.message}` : i.message;
  });
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : "";
  return parts.join("; ") + more;
}
