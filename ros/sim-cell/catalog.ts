/**
 * What the simulated cell offers over rosbridge, per ROS version: topic, service and action
 * names with their type names, and who publishes each topic. Names are those of a Panda
 * under MoveIt (`/plan_kinematic_path`, `/compute_ik`, `/execute_trajectory`) with a
 * ros2_control joint trajectory controller (`/panda_arm_controller/follow_joint_trajectory`)
 * and MoveIt Servo's joint jog input.
 *
 * ROS 2 actions use rosbridge's action ops; ROS 1 actions are actionlib over five topics
 * each (`goal`, `cancel` from clients; `status`, `feedback`, `result` from the cell).
 */
import { rosNames, type RosVersion } from "../../shared/ros-msgs.ts";

export const JOINT_STATES_TOPIC = "/joint_states";
export const SERVO_JOINT_JOG_TOPIC = "/servo_node/delta_joint_cmds";
export const PLAN_SERVICE = "/plan_kinematic_path";
export const IK_SERVICE = "/compute_ik";
export const EXECUTE_TRAJECTORY_ACTION = "/execute_trajectory";
export const FOLLOW_JOINT_TRAJECTORY_ACTION = "/panda_arm_controller/follow_joint_trajectory";
/**
 * Simulation only: place the arm at a configuration, at rest (a real cell has no such
 * service; the twin's `reset` uses it to send a simulated arm home).
 */
export const RESET_ARM_SERVICE = "/sim_cell/reset_arm";
export const RESET_ARM_TYPE = "agenttwin_msgs/ResetArm";
/** Simulation only: the `/joint_states` scheduler's own lateness (see deadline-scheduler.ts). */
export const PUBLISH_LATENESS_SERVICE = "/sim_cell/publish_lateness";
export const PUBLISH_LATENESS_TYPE = "agenttwin_msgs/PublishLateness";

/** The two trajectory actions; they share one controller, so one goal runs at a time. */
export type TrajectoryActionKind = "execute_trajectory" | "follow_joint_trajectory";

/** What travels on a topic, as the cell handles it. */
export type TopicRole =
  | "joint_states"
  | "servo_joint_jog"
  | "actionlib_goal"
  | "actionlib_cancel"
  | "actionlib_status"
  | "actionlib_feedback"
  | "actionlib_result";

export interface TopicSpec {
  readonly name: string;
  /** Type name in the version's spelling. */
  readonly type: string;
  /** `cell`: only the cell publishes (clients subscribe); `client`: clients advertise and publish. */
  readonly publisher: "cell" | "client";
  readonly role: TopicRole;
  /** The action server a ROS 1 actionlib topic belongs to. */
  readonly action?: ActionSpec;
}

export type ServiceRole = "plan" | "ik" | "cancel_goal" | "reset_arm" | "publish_lateness";

export interface ServiceSpec {
  readonly name: string;
  readonly type: string;
  readonly role: ServiceRole;
  /** For `cancel_goal`: the ROS 2 action whose goals it cancels. */
  readonly action?: ActionSpec;
}

export interface ActionSpec {
  readonly name: string;
  /** ROS 2: the action type; ROS 1: the actionlib prefix (`…Action`). */
  readonly type: string;
  readonly kind: TrajectoryActionKind;
}

export interface CellCatalog {
  readonly version: RosVersion;
  readonly topics: ReadonlyMap<string, TopicSpec>;
  readonly services: ReadonlyMap<string, ServiceSpec>;
  readonly actions: ReadonlyMap<string, ActionSpec>;
}

/** The cell's interfaces for one ROS version. */
export function cellCatalog(version: RosVersion): CellCatalog {
  const names = rosNames(version);
  const actions: ActionSpec[] = [
    { name: EXECUTE_TRAJECTORY_ACTION, type: names.executeTrajectory, kind: "execute_trajectory" },
    {
      name: FOLLOW_JOINT_TRAJECTORY_ACTION,
      type: names.followJointTrajectory,
      kind: "follow_joint_trajectory",
    },
  ];
  const topics: TopicSpec[] = [
    { name: JOINT_STATES_TOPIC, type: names.jointState, publisher: "cell", role: "joint_states" },
    {
      name: SERVO_JOINT_JOG_TOPIC,
      type: names.jointJog,
      publisher: "client",
      role: "servo_joint_jog",
    },
  ];
  const services: ServiceSpec[] = [
    { name: PLAN_SERVICE, type: names.getMotionPlan, role: "plan" },
    { name: IK_SERVICE, type: names.getPositionIK, role: "ik" },
    { name: RESET_ARM_SERVICE, type: RESET_ARM_TYPE, role: "reset_arm" },
    { name: PUBLISH_LATENESS_SERVICE, type: PUBLISH_LATENESS_TYPE, role: "publish_lateness" },
  ];
  for (const action of actions) {
    if (version === 1) {
      const t = (suffix: string, type: string, publisher: "cell" | "client", role: TopicRole) =>
        topics.push({ name: `${action.name}/${suffix}`, type, publisher, role, action });
      t("goal", `${action.type}Goal`, "client", "actionlib_goal");
      t("cancel", "actionlib_msgs/GoalID", "client", "actionlib_cancel");
      t("status", "actionlib_msgs/GoalStatusArray", "cell", "actionlib_status");
      t("feedback", `${action.type}Feedback`, "cell", "actionlib_feedback");
      t("result", `${action.type}Result`, "cell", "actionlib_result");
    } else {
      // roslib's Action.cancelAllGoals calls this hidden service of the action.
      services.push({
        name: `${action.name}/_action/cancel_goal`,
        type: "action_msgs/srv/CancelGoal",
        role: "cancel_goal",
        action,
      });
    }
  }
  return {
    version,
    topics: new Map(topics.map((t) => [t.name, t])),
    services: new Map(services.map((s) => [s.name, s])),
    actions: new Map(actions.map((a) => [a.name, a])),
  };
}

/**
 * Whether a client's type name means `expected`. ROS 2 rosbridge also accepts the short
 * spelling without the `msg`/`srv`/`action` segment (`sensor_msgs/JointState`); ROS 1
 * names have no such segment.
 */
export function sameType(given: string, expected: string, version: RosVersion): boolean {
  if (given === expected) return true;
  if (version === 1) return false;
  const short = (t: string) => t.replace(/^([^/]+)\/(?:msg|srv|action)\/([^/]+)$/, "$1/$2");
  return short(given) === short(expected);
}
