/**
 * Planning through the cell's MoveIt: one `plan_kinematic_path` (moveit_msgs/GetMotionPlan)
 * call per request, joint goals as joint constraints, pose goals as a position constraint
 * (a 1 mm sphere) plus an orientation constraint on the group's tip link, both in the
 * group's base frame (`base_link`). The returned trajectory is mapped back to the twin's
 * joint names and order; the twin then replays it before anyone may approve it.
 */
import {
  type ConstraintsMsg,
  fromRosTime,
  type GetMotionPlanRequest,
  type GetMotionPlanResponse,
  header,
  MoveItErrorCode,
  rosNames,
} from "../../shared/ros-msgs.ts";
import { describeIssues } from "../../shared/messages/common.ts";
import { rosSchemas } from "../../shared/ros-schemas.ts";
import type { LinkConfig } from "../config.ts";
import type { PlanOptions, PlanRequest } from "../sim/motion-planner.ts";
import type { TrajectoryPoint } from "../sim/trajectory.ts";
import type { PlannerBackend, PlanOutcome } from "./planning.ts";
import type { JointNameMap } from "./joint-names.ts";
import { CellError } from "./robot-cell.ts";
import type { RosConnection } from "./ros-connection.ts";

/** Position tolerance of a pose goal (radius of the target sphere), m. */
const POSE_POSITION_TOLERANCE_M = 0.001;
/** Orientation tolerance of a pose goal, rad per axis. */
const POSE_ORIENTATION_TOLERANCE_RAD = 0.01;
/** Tolerance of joint-goal constraints, rad. */
const JOINT_TOLERANCE_RAD = 0.001;

const CODE_NAMES = new Map<number, string>(Object.entries(MoveItErrorCode).map(([k, v]) => [v, k]));

export interface MoveItPlannerOptions {
  connection: RosConnection;
  link: LinkConfig;
  joints: JointNameMap;
  /** Group base frame (e.g. `panda_link0`) and tip link (e.g. `panda_hand_tcp`). */
  baseFrame: string;
  tipLink: string;
}

export class MoveItPlanner implements PlannerBackend {
  readonly name = "moveit";
  readonly #o: MoveItPlannerOptions;

  constructor(options: MoveItPlannerOptions) {
    this.#o = options;
  }

  async plan(request: PlanRequest, options: PlanOptions): Promise<PlanOutcome> {
    const { connection, link, joints } = this.#o;
    const v = link.rosVersion;
    const cellNames = joints.cellNames();
    const goal: ConstraintsMsg = {
      name: "",
      joint_constraints: [],
      position_constraints: [],
      orientation_constraints: [],
    };
    if (request.goal.kind === "joints") {
      const q = request.goal.positions;
      goal.joint_constraints = cellNames.map((joint_name, j) => ({
        joint_name,
        position: q[j] as number,
        tolerance_above: JOINT_TOLERANCE_RAD,
        tolerance_below: JOINT_TOLERANCE_RAD,
        weight: 1,
      }));
    } else {
      const { position, orientation } = request.goal.pose;
      const h = header(0, v, this.#o.baseFrame);
      goal.position_constraints = [
        {
          header: h,
          link_name: this.#o.tipLink,
          target_point_offset: { x: 0, y: 0, z: 0 },
          constraint_region: {
            primitives: [{ type: 2 /* SPHERE */, dimensions: [POSE_POSITION_TOLERANCE_M] }],
            primitive_poses: [
              { position: { ...position }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
            ],
          },
          weight: 1,
        },
      ];
      goal.orientation_constraints = [
        {
          header: h,
          link_name: this.#o.tipLink,
          orientation: { ...orientation },
          absolute_x_axis_tolerance: POSE_ORIENTATION_TOLERANCE_RAD,
          absolute_y_axis_tolerance: POSE_ORIENTATION_TOLERANCE_RAD,
          absolute_z_axis_tolerance: POSE_ORIENTATION_TOLERANCE_RAD,
          weight: 1,
        },
      ];
    }
    const req: GetMotionPlanRequest = {
      motion_plan_request: {
        group_name: link.moveitGroup,
        planner_id: link.moveitPlannerId,
        start_state: {
          joint_state: {
            header: header(0, v),
            name: cellNames,
            position: Array.from(request.start),
            velocity: [],
            effort: [],
          },
        },
        goal_constraints: [goal],
        num_planning_attempts: 1,
        allowed_planning_time: options.timeoutMs / 1000,
        max_velocity_scaling_factor: options.velocityScale,
        max_acceleration_scaling_factor: options.accelerationScale,
      },
    };
    let res: GetMotionPlanResponse;
    try {
      // The call may take the whole planning time, plus the link's own call timeout.
      res = await connection.callService<GetMotionPlanRequest, GetMotionPlanResponse>(
        link.planService,
        rosNames(v).getMotionPlan,
        req,
        options.timeoutMs + link.callTimeoutMs,
      );
    } catch (err) {
      if (err instanceof CellError) return { ok: false, message: `MoveIt: ${err.message}` };
      throw err;
    }
    // A real MoveIt adds fields (stripped) and may omit some (ROS defaults filled in).
    const parsed = rosSchemas(v).GetMotionPlanResponse.safeParse(res);
    if (!parsed.success)
      return {
        ok: false,
        message: `MoveIt: malformed response (${describeIssues(parsed.error)})`,
      };
    const r = parsed.data.motion_plan_response;
    const code = r.error_code.val;
    if (code !== MoveItErrorCode.SUCCESS) {
      return {
        ok: false,
        message: `MoveIt: ${CODE_NAMES.get(code ?? NaN) ?? `error ${String(code)}`}`,
      };
    }
    return this.#toTrajectory(r);
  }

  #toTrajectory(r: GetMotionPlanResponse["motion_plan_response"]): PlanOutcome {
    const jt = r.trajectory?.joint_trajectory;
    const joints = this.#o.joints;
    const dof = joints.twinNames.length;
    if (
      !jt ||
      !Array.isArray(jt.joint_names) ||
      !Array.isArray(jt.points) ||
      jt.points.length === 0
    ) {
      return { ok: false, message: "MoveIt returned an empty trajectory" };
    }
    const order = jt.joint_names.map((n) => joints.indexOf(n));
    if (order.some((i) => i === undefined) || new Set(order).size !== dof || order.length !== dof) {
      return {
        ok: false,
        message: `MoveIt trajectory joints (${jt.joint_names.join(", ")}) are not the group's`,
      };
    }
    const points: TrajectoryPoint[] = [];
    let prev = -Infinity;
    for (const p of jt.points) {
      const t = fromRosTime(p.time_from_start);
      if (!(t >= 0) || t <= prev)
        return { ok: false, message: "MoveIt trajectory times do not increase" };
      prev = t;
      const place = (src: readonly number[] | undefined): number[] | null => {
        const out = new Array<number>(dof).fill(0);
        if (!src || src.length === 0) return out;
        if (src.length !== dof) return null;
        for (let k = 0; k < dof; k++) {
          const val = src[k];
          if (typeof val !== "number" || !Number.isFinite(val)) return null;
          out[order[k] as number] = val;
        }
        return out;
      };
      const positions = p.positions?.length ? place(p.positions) : null;
      const velocities = place(p.velocities);
      const accelerations = place(p.accelerations);
      if (!positions || !velocities || !accelerations) {
        return { ok: false, message: "MoveIt trajectory has a malformed point" };
      }
      points.push({ timeFromStart: t, positions, velocities, accelerations });
    }
    return { ok: true, trajectory: { jointNames: joints.twinNames, points, duration: prev } };
  }
}
