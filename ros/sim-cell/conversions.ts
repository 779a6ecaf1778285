/**
 * Conversions between ROS messages (as plain objects, see shared/ros-msgs.ts) and the
 * simulation core's types: joint vectors in group order, {@link JointTrajectory}, poses.
 * The cell publishes its own joint names (by default the URDF group's) in group order;
 * incoming messages may name the joints in any order and are mapped here.
 *
 * Units as in ROS: rad, rad/s, s, m. Frames: poses in `base_link` (`panda_link0`).
 */
import type { Pose } from "../../shared/geometry.ts";
import {
  fromRosTime,
  header,
  type Header,
  type JointStateMsg,
  type JointTrajectoryMsg,
  type JointTrajectoryPointMsg,
  type RosVersion,
  toRosTime,
} from "../../shared/ros-msgs.ts";
import {
  type ArmLimits,
  composePoses,
  type JointTrajectory,
  maxAbsDiff,
  type TrajectoryPoint,
} from "../../server/sim/index.ts";
import { GoalRejectedError } from "./errors.ts";

/** Position limits may be exceeded by this much in a goal trajectory, rad (rounding). */
const LIMIT_TOLERANCE_RAD = 1e-6;
/** Point velocities may exceed the joint limits by this fraction (rounding in clients). */
const VELOCITY_TOLERANCE = 1e-3;

/** The cell's joint names and the map from a name to its index in group order. */
export class JointNames {
  readonly names: readonly string[];
  readonly #index: ReadonlyMap<string, number>;
  constructor(names: readonly string[]) {
    this.names = names;
    this.#index = new Map(names.map((n, i) => [n, i]));
  }
  get dof(): number {
    return this.names.length;
  }
  /** Index in group order, or -1 for a name that is not one of the cell's joints. */
  indexOf(name: string): number {
    return this.#index.get(name) ?? -1;
  }
}

/** A header for a message the cell publishes; ROS 1 headers carry a sequence number. */
export function stampedHeader(
  seconds: number,
  version: RosVersion,
  frameId = "",
  seq?: number,
): Header {
  const h = header(seconds, version, frameId);
  if (version === 1 && seq !== undefined) h.seq = seq;
  return h;
}

/** `sensor_msgs/JointState` of the arm (efforts are zero: the simulation has no dynamics). */
export function jointStateMsg(
  names: JointNames,
  positions: ArrayLike<number>,
  velocities: ArrayLike<number>,
  stampS: number,
  version: RosVersion,
  seq?: number,
): JointStateMsg {
  return {
    header: stampedHeader(stampS, version, "", seq),
    name: [...names.names],
    position: Array.from(positions),
    velocity: Array.from(velocities),
    effort: new Array<number>(names.dof).fill(0),
  };
}

/**
 * The joint vector a `JointState` describes, in group order. Joints it does not name keep
 * their value from `fallback` (MoveIt fills a partial start state from the current one);
 * names that are not the cell's (e.g. finger joints) are ignored.
 * @returns the vector, or a reason why the message is malformed
 */
export function jointVectorFrom(
  js: JointStateMsg,
  names: JointNames,
  fallback: ArrayLike<number>,
): { ok: true; q: Float64Array } | { ok: false; reason: string } {
  const q = Float64Array.from(fallback);
  if (js.position.length !== js.name.length) {
    return {
      ok: false,
      reason: `joint_state names ${js.name.length} joints but has ${js.position.length} positions`,
    };
  }
  const seen = new Set<string>();
  for (let k = 0; k < js.name.length; k++) {
    const name = js.name[k] as string;
    if (seen.has(name)) return { ok: false, reason: `joint_state names "${name}" twice` };
    seen.add(name);
    const j = names.indexOf(name);
    if (j >= 0) q[j] = js.position[k] as number;
  }
  return { ok: true, q };
}

/**
 * A goal trajectory from a client, checked and mapped to group order, ready to play.
 * Checks: the joint names are exactly the cell's (any order), every point has one finite
 * position per joint (velocities and accelerations: one per joint or none), times are
 * increasing, positions inside the limits and velocities within them, and the first point
 * is within `startTolerance` of the arm. A first point later than 0 s gets a point at 0 s
 * at the arm's position, so the arm moves there smoothly (as a ros2_control controller does).
 * Missing velocities are taken as 0 (the arm comes to rest at such points).
 * @throws GoalRejectedError naming the first failed check
 */
export function trajectoryFromMsg(
  msg: JointTrajectoryMsg,
  names: JointNames,
  limits: ArmLimits,
  armPositions: ArrayLike<number>,
  startTolerance: number,
): JointTrajectory {
  const dof = names.dof;
  if (msg.joint_names.length !== dof) {
    throw new GoalRejectedError(
      "invalid_joints",
      `trajectory names ${msg.joint_names.length} joints, the arm has ${dof} (${names.names.join(", ")})`,
    );
  }
  const perm = new Array<number>(dof);
  const seen = new Set<number>();
  msg.joint_names.forEach((name, k) => {
    const j = names.indexOf(name);
    if (j < 0) throw new GoalRejectedError("invalid_joints", `unknown joint "${name}"`);
    if (seen.has(j)) throw new GoalRejectedError("invalid_joints", `joint "${name}" named twice`);
    seen.add(j);
    perm[k] = j;
  });
  if (msg.points.length === 0)
    throw new GoalRejectedError("invalid_goal", "trajectory has no points");

  const points: TrajectoryPoint[] = [];
  let prevT = -Infinity;
  for (let i = 0; i < msg.points.length; i++) {
    const p = msg.points[i] as JointTrajectoryMsg["points"][number];
    const t = fromRosTime(p.time_from_start);
    if (!(t >= 0))
      throw new GoalRejectedError("invalid_goal", `point ${i}: negative time_from_start`);
    if (!(t > prevT)) {
      throw new GoalRejectedError("invalid_goal", `point ${i}: time_from_start does not increase`);
    }
    prevT = t;
    const reorder = (values: number[], what: string): number[] => {
      if (values.length === 0 && what !== "positions") return new Array<number>(dof).fill(0);
      if (values.length !== dof) {
        throw new GoalRejectedError(
          "invalid_goal",
          `point ${i}: ${values.length} ${what} for ${dof} joints`,
        );
      }
      const out = new Array<number>(dof);
      for (let k = 0; k < dof; k++) out[perm[k] as number] = values[k] as number;
      return out;
    };
    const positions = reorder(p.positions, "positions");
    const velocities = reorder(p.velocities, "velocities");
    const accelerations = reorder(p.accelerations, "accelerations");
    for (let j = 0; j < dof; j++) {
      const q = positions[j] as number;
      const lo = limits.lower[j] as number;
      const hi = limits.upper[j] as number;
      if (q < lo - LIMIT_TOLERANCE_RAD || q > hi + LIMIT_TOLERANCE_RAD) {
        throw new GoalRejectedError(
          "invalid_goal",
          `point ${i}: ${names.names[j]} = ${q.toFixed(4)} rad outside [${lo}, ${hi}]`,
        );
      }
      const v = Math.abs(velocities[j] as number);
      const vmax = limits.maxVelocity[j] as number;
      if (v > vmax * (1 + VELOCITY_TOLERANCE)) {
        throw new GoalRejectedError(
          "invalid_goal",
          `point ${i}: ${names.names[j]} velocity ${v.toFixed(3)} rad/s over the limit ${vmax}`,
        );
      }
    }
    points.push({ timeFromStart: t, positions, velocities, accelerations });
  }

  const first = points[0] as TrajectoryPoint;
  const off = maxAbsDiff(first.positions, armPositions);
  if (off > startTolerance) {
    throw new GoalRejectedError(
      "invalid_goal",
      `trajectory starts ${off.toFixed(4)} rad away from the arm (tolerance ${startTolerance} rad)`,
    );
  }
  if (first.timeFromStart > 0) {
    const zero = new Array<number>(dof).fill(0);
    points.unshift({
      timeFromStart: 0,
      positions: Array.from(armPositions),
      velocities: zero,
      accelerations: [...zero],
    });
  }
  const last = points[points.length - 1] as TrajectoryPoint;
  return { jointNames: names.names, points, duration: last.timeFromStart };
}

/** A trajectory point as `trajectory_msgs/JointTrajectoryPoint` (efforts empty). */
export function pointMsg(
  positions: ArrayLike<number>,
  velocities: ArrayLike<number>,
  accelerations: ArrayLike<number>,
  timeS: number,
  version: RosVersion,
): JointTrajectoryPointMsg {
  return {
    positions: Array.from(positions),
    velocities: Array.from(velocities),
    accelerations: Array.from(accelerations),
    effort: [],
    time_from_start: toRosTime(timeS, version),
  };
}

/** A planned trajectory as `trajectory_msgs/JointTrajectory` in the cell's joint names. */
export function trajectoryMsg(
  traj: JointTrajectory,
  names: JointNames,
  version: RosVersion,
  frameId: string,
): JointTrajectoryMsg {
  return {
    header: header(0, version, frameId),
    joint_names: [...names.names],
    points: traj.points.map((p) =>
      pointMsg(p.positions, p.velocities, p.accelerations, p.timeFromStart, version),
    ),
  };
}

/**
 * The tool (group tip) pose that puts the point `offset` (m, in the tool frame) at
 * `target` with orientation `orientation`, all in `base_link`: MoveIt's
 * `target_point_offset` of a position constraint.
 */
export function toolPoseFor(
  target: Pose["position"],
  orientation: Pose["orientation"],
  offset: Pose["position"],
): Pose {
  if (offset.x === 0 && offset.y === 0 && offset.z === 0) {
    return { position: { ...target }, orientation: { ...orientation } };
  }
  return composePoses(
    { position: target, orientation },
    {
      position: { x: -offset.x, y: -offset.y, z: -offset.z },
      orientation: { x: 0, y: 0, z: 0, w: 1 },
    },
  );
}

/** A unit quaternion, or null for one too short to normalise (e.g. all zeros). */
export function normalisedQuat(q: Pose["orientation"]): Pose["orientation"] | null {
  const n = Math.hypot(q.x, q.y, q.z, q.w);
  if (!(n > 1e-6)) return null;
  return { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n };
}
