/**
 * The ROS messages the twin exchanges with a robot cell over rosbridge, as zod schemas: the
 * one definition of their shapes. `shared/ros-msgs.ts` infers its TypeScript types from
 * these (`z.output`), the simulated cell (`ros/sim-cell`) validates what clients send with
 * them, and the server's `RosCell` side may validate what a real rosbridge sends.
 *
 * Field names are exactly the ROS ones (rosbridge sends plain objects). One set per ROS
 * version because the time fields differ (`{sec, nanosec}` in ROS 2, `{secs, nsecs}` in
 * ROS 1). Each schema lists the fields the twin reads or writes, checked against the message
 * definitions of sensor_msgs, trajectory_msgs, geometry_msgs, moveit_msgs, control_msgs and
 * actionlib_msgs; fields a definition has beyond those (MotionPlanRequest's
 * `workspace_parameters`, FollowJointTrajectory's tolerances, ROS 2's `multi_dof_*` feedback,
 * …) are stripped, never refused, so a newer ROS release adding fields still validates.
 *
 * Like rosbridge, a missing field takes the message's default (0, "", [], false), so a
 * sender may give only the fields it sets. Time objects are strict so that a time in the
 * other version's spelling is refused instead of read as 0. Numbers must be finite (JSON
 * cannot carry NaN; CBOR can, and it is refused here). Units as in ROS: m, rad, s.
 */
import { z } from "zod";

/** The ROS generation of the cell: 1 (rosbridge_suite 0.11, actionlib) or 2. */
export type RosVersion = 1 | 2;

/** ROS 1 `time`/`duration` or ROS 2 `builtin_interfaces/Time`/`Duration`. */
export type RosTime = { secs: number; nsecs: number } | { sec: number; nanosec: number };

/** Most joints a message may name (the cell has 7; a full robot state has a few more). */
export const MAX_JOINTS = 64;
/** Most points in one trajectory (a 10 MiB frame holds about this many 7-joint points). */
export const MAX_TRAJECTORY_POINTS = 100_000;
const MAX_NAME = 256;
/** Longest free text (error strings, status texts, feedback states), characters. */
const MAX_TEXT = 4096;

const num = (d = 0) => z.number().default(d);
const int = (d = 0) => z.number().int().default(d);
const str = () => z.string().max(MAX_NAME).default("");
const text = () => z.string().max(MAX_TEXT).default("");
const numbers = () => z.array(z.number()).max(MAX_JOINTS).default([]);
const names = () => z.array(z.string().max(MAX_NAME)).max(MAX_JOINTS).default([]);

/** All schemas for one ROS version. */
export function rosSchemas(version: RosVersion) {
  const nanos = () => z.number().int().min(0).max(999_999_999).default(0);
  const exact: z.ZodType<RosTime, unknown> =
    version === 2
      ? z.strictObject({ sec: int(), nanosec: nanos() })
      : z.strictObject({ secs: int(), nsecs: nanos() });
  const zero: RosTime = version === 2 ? { sec: 0, nanosec: 0 } : { secs: 0, nsecs: 0 };
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
  /** geometry_msgs/Pose */
  const Pose = z.object({ position: Vector3, orientation: Quaternion }).prefault({});

  /** sensor_msgs/JointState */
  const JointState = z
    .object({
      header: Header,
      name: names(),
      position: numbers(),
      velocity: numbers(),
      effort: numbers(),
    })
    .prefault({});
  /** moveit_msgs/RobotState (the joint part; the multi-DOF and attached-body parts are unused). */
  const RobotState = z
    .object({
      joint_state: JointState,
      /** Absent = false (a full state), as the ROS default; senders of full states omit it. */
      is_diff: z.boolean().optional(),
    })
    .prefault({});

  /** trajectory_msgs/JointTrajectoryPoint */
  const JointTrajectoryPoint = z.object({
    positions: numbers(),
    velocities: numbers(),
    accelerations: numbers(),
    effort: numbers(),
    time_from_start: Time,
  });
  /** trajectory_msgs/JointTrajectory */
  const JointTrajectory = z
    .object({
      header: Header,
      joint_names: names(),
      points: z.array(JointTrajectoryPoint).max(MAX_TRAJECTORY_POINTS).default([]),
    })
    .prefault({});
  /** moveit_msgs/RobotTrajectory (the multi-DOF part is unused: passed through unread). */
  const RobotTrajectory = z
    .object({
      joint_trajectory: JointTrajectory,
      multi_dof_joint_trajectory: z.unknown().optional(),
    })
    .prefault({});

  /**
   * moveit_msgs/MoveItErrorCodes (values in {@link MoveItErrorCode} of ros-msgs.ts);
   * `message` and `source` exist in ROS 2 from moveit_msgs 2.3 (Iron) only.
   */
  const MoveItErrorCodes = z
    .object({
      val: int(),
      message: z.string().max(MAX_TEXT).optional(),
      source: z.string().max(MAX_NAME).optional(),
    })
    .prefault({});

  /** moveit_msgs/JointConstraint */
  const JointConstraint = z.object({
    joint_name: str(),
    position: num(),
    tolerance_above: num(),
    tolerance_below: num(),
    weight: num(),
  });
  /** moveit_msgs/PositionConstraint (the region as primitives; meshes are unused). */
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
  /** moveit_msgs/OrientationConstraint */
  const OrientationConstraint = z.object({
    header: Header,
    orientation: Quaternion,
    link_name: str(),
    absolute_x_axis_tolerance: num(),
    absolute_y_axis_tolerance: num(),
    absolute_z_axis_tolerance: num(),
    weight: num(),
  });
  /** moveit_msgs/Constraints (visibility constraints are unused). */
  const Constraints = z.object({
    name: str(),
    joint_constraints: z.array(JointConstraint).max(MAX_JOINTS).default([]),
    position_constraints: z.array(PositionConstraint).max(16).default([]),
    orientation_constraints: z.array(OrientationConstraint).max(16).default([]),
  });
  /** moveit_msgs/MotionPlanRequest (the fields the twin sets; the rest take their defaults). */
  const MotionPlanRequest = z
    .object({
      start_state: RobotState,
      goal_constraints: z.array(Constraints).max(16).default([]),
      group_name: str(),
      planner_id: str(),
      /** Absent = "": MoveIt's default planning pipeline (ROS 1 Melodic and later, ROS 2). */
      pipeline_id: z.string().max(MAX_NAME).optional(),
      num_planning_attempts: int(),
      allowed_planning_time: num(),
      max_velocity_scaling_factor: num(),
      max_acceleration_scaling_factor: num(),
    })
    .prefault({});

  /** moveit_msgs/MotionPlanResponse */
  const MotionPlanResponse = z
    .object({
      trajectory_start: RobotState,
      group_name: str(),
      trajectory: RobotTrajectory,
      /** s */
      planning_time: num(),
      error_code: MoveItErrorCodes,
    })
    .prefault({});

  /** moveit_msgs/GetMotionPlan request and response. */
  const GetMotionPlanRequest = z.object({ motion_plan_request: MotionPlanRequest }).prefault({});
  const GetMotionPlanResponse = z.object({ motion_plan_response: MotionPlanResponse }).prefault({});

  /** moveit_msgs/GetPositionIK request (PositionIKRequest, one pose) and response. */
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
  const GetPositionIKResponse = z
    .object({ solution: RobotState, error_code: MoveItErrorCodes })
    .prefault({});

  /** moveit_msgs/ExecuteTrajectory action: goal, feedback, result. */
  const ExecuteTrajectoryGoal = z.object({ trajectory: RobotTrajectory }).prefault({});
  const ExecuteTrajectoryFeedback = z
    .object({
      /** Free text, e.g. "MONITOR"; the sim cell reports progress here as `progress=<0..1>`. */
      state: text(),
    })
    .prefault({});
  const ExecuteTrajectoryResult = z.object({ error_code: MoveItErrorCodes }).prefault({});

  /** control_msgs/FollowJointTrajectory action: goal, feedback, result (tolerances unused). */
  const FollowJointTrajectoryGoal = z
    .object({
      trajectory: JointTrajectory,
      /** Absent = zero: the controller's own default tolerance applies. */
      goal_time_tolerance: exact.optional(),
    })
    .prefault({});
  const FollowJointTrajectoryFeedback = z
    .object({
      header: Header,
      joint_names: names(),
      desired: JointTrajectoryPoint.prefault({}),
      actual: JointTrajectoryPoint.prefault({}),
      error: JointTrajectoryPoint.prefault({}),
    })
    .prefault({});
  const FollowJointTrajectoryResult = z
    .object({
      /** See {@link FollowJointTrajectoryErrorCode} in ros-msgs.ts (0 = SUCCESSFUL). */
      error_code: int(),
      error_string: text(),
    })
    .prefault({});

  /** control_msgs/JointJog (MoveIt Servo's joint jog input); `duration` in s. */
  const JointJog = z
    .object({
      header: Header,
      joint_names: names(),
      displacements: numbers(),
      velocities: numbers(),
      duration: z.number().min(0).max(3600).default(0),
    })
    .prefault({});

  /** actionlib_msgs/GoalID, GoalStatus and GoalStatusArray (ROS 1 actionlib over topics). */
  const GoalId = z.object({ stamp: Time, id: z.string().max(MAX_NAME).default("") }).prefault({});
  const GoalStatus = z.object({
    goal_id: GoalId,
    /** uint8; see {@link GoalStatusCode} in ros-msgs.ts. */
    status: z.number().int().min(0).max(255).default(0),
    text: text(),
  });
  const GoalStatusArray = z
    .object({ header: Header, status_list: z.array(GoalStatus).max(1024).default([]) })
    .prefault({});
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
    RobotState,
    JointTrajectoryPoint,
    JointTrajectory,
    RobotTrajectory,
    MoveItErrorCodes,
    JointConstraint,
    PositionConstraint,
    OrientationConstraint,
    Constraints,
    MotionPlanRequest,
    MotionPlanResponse,
    GetMotionPlanRequest,
    GetMotionPlanResponse,
    GetPositionIKRequest,
    GetPositionIKResponse,
    ExecuteTrajectoryGoal,
    ExecuteTrajectoryFeedback,
    ExecuteTrajectoryResult,
    FollowJointTrajectoryGoal,
    FollowJointTrajectoryFeedback,
    FollowJointTrajectoryResult,
    JointJog,
    GoalId,
    GoalStatus,
    GoalStatusArray,
    ActionGoalEnvelope,
    CancelGoalRequest,
  };
}

/** The schemas of either version; their outputs carry a {@link RosTime} of either spelling. */
export type RosSchemas = ReturnType<typeof rosSchemas>;
/** A message as a schema outputs it: every field present, defaults filled in. */
export type RosMessage<K extends keyof RosSchemas> = z.output<RosSchemas[K]>;
