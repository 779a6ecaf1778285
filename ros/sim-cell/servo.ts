/**
 * MoveIt Servo's joint jog input on the simulated cell: `control_msgs/JointJog` on
 * `/servo_node/delta_joint_cmds` → {@link SimCellCore.jog}. Velocities (rad/s) are held
 * for `duration` seconds (at least {@link MIN_JOG_DURATION_S}), then the arm decelerates to
 * rest within its acceleration limits, as Servo does when commands stop. Joints the
 * message does not name are held at zero velocity. Refused (with the reason, nothing
 * changes): unknown or repeated joint names, a velocity count that does not match,
 * displacements (Servo's position jog, not simulated), velocities over a joint's limit,
 * and any jog while a trajectory executes.
 */
import type { JointJogMsg } from "../../shared/ros-msgs.ts";
import type { SimCellCore } from "./cell.ts";
import type { JointNames } from "./conversions.ts";
import { RequestRefusedError } from "./errors.ts";

/** Shortest hold of a jog command, s (Servo's incoming command timeout is about this). */
export const MIN_JOG_DURATION_S = 0.1;

/**
 * Applies one joint jog command.
 * @throws RequestRefusedError when it is refused
 */
export function applyJointJog(cell: SimCellCore, names: JointNames, msg: JointJogMsg): void {
  if (cell.execution !== null) {
    throw new RequestRefusedError("cannot jog while a trajectory is executing");
  }
  if (msg.displacements.some((d) => d !== 0)) {
    throw new RequestRefusedError("joint jog displacements are not supported; send velocities");
  }
  if (msg.velocities.length !== msg.joint_names.length) {
    throw new RequestRefusedError(
      `${msg.joint_names.length} joint names but ${msg.velocities.length} velocities`,
    );
  }
  const v = new Float64Array(names.dof);
  const seen = new Set<number>();
  const limits = cell.kinematics.maxVelocity;
  for (let k = 0; k < msg.joint_names.length; k++) {
    const name = msg.joint_names[k] as string;
    const j = names.indexOf(name);
    if (j < 0) throw new RequestRefusedError(`unknown joint "${name}"`);
    if (seen.has(j)) throw new RequestRefusedError(`joint "${name}" named twice`);
    seen.add(j);
    const value = msg.velocities[k] as number;
    const max = limits[j] as number;
    if (Math.abs(value) > max) {
      throw new RequestRefusedError(
        `${name}: ${value} rad/s exceeds the joint's velocity limit of ${max} rad/s`,
      );
    }
    v[j] = value;
  }
  cell.jog(v, Math.max(msg.duration, MIN_JOG_DURATION_S));
}
