/**
 * A robot arm as the radio sees it: capsules around its links, in `world`. The capsule axes
 * join the origins of consecutive links along the kinematic chain from the base link to the
 * tool frame (for a Panda: link0 → link1 → … → link8 → hand → hand_tcp); links whose origins
 * coincide (link1/link2, link5/link6, link8/hand) give no capsule. Pure, no TensorFlow.js.
 */
import type { Pose, Vec3 } from "../../shared/geometry.ts";
import type { ArmKinematics } from "../sim/kinematics.ts";
import { TRANSFORM_SIZE, transformFromPose, transformPoint } from "../sim/math.ts";
import { chainJoints } from "../sim/robot-loader.ts";
import type { ArmGeometry } from "./contracts.ts";

/** Default capsule radius around a Panda link, m (the links are ~0.11–0.13 m thick). */
export const ARM_LINK_RADIUS_M = 0.06;
/** Link origins closer than this give no capsule, m. */
const MIN_SEGMENT_M = 0.01;

export interface ArmGeometryOptions {
  /** Gripper opening, m (default 0.04). */
  readonly gripperOpening?: number;
  /** Capsule radius, m (default {@link ARM_LINK_RADIUS_M}). */
  readonly radiusM?: number;
}

const chainCache = new WeakMap<ArmKinematics, number[]>();

/** Indices into `kinematics.linkNames` of the chain base → tool, base first. */
function chainIndices(kinematics: ArmKinematics): number[] {
  let idx = chainCache.get(kinematics);
  if (!idx) {
    const { model } = kinematics;
    const names = [
      model.group.base,
      ...chainJoints(model, model.group.base, model.group.tip).map((j) => j.child),
    ];
    idx = names.map((n) => kinematics.linkNames.indexOf(n)).filter((i) => i >= 0);
    chainCache.set(kinematics, idx);
  }
  return idx;
}

/**
 * Capsules of an arm at joint positions `q` (rad, group order) standing at `basePose`
 * (`world ← base_link`).
 * @param id the arm's id in the environment (e.g. `panda`, `virtual-arm-1`)
 */
export function armGeometry(
  kinematics: ArmKinematics,
  q: ArrayLike<number>,
  basePose: Pose,
  id: string,
  options: ArmGeometryOptions = {},
): ArmGeometry {
  const r = options.radiusM ?? ARM_LINK_RADIUS_M;
  const poses = kinematics.linkPoses(q, options.gripperOpening ?? 0.04);
  const base = transformFromPose(basePose);
  const p = new Float64Array(3);
  const points: Vec3[] = [];
  for (const i of chainIndices(kinematics)) {
    const o = i * TRANSFORM_SIZE;
    transformPoint(
      p,
      base,
      poses[o + 9] as number,
      poses[o + 10] as number,
      poses[o + 11] as number,
    );
    const pt = { x: p[0] as number, y: p[1] as number, z: p[2] as number };
    const last = points[points.length - 1];
    if (!last || Math.hypot(pt.x - last.x, pt.y - last.y, pt.z - last.z) >= MIN_SEGMENT_M)
      points.push(pt);
  }
  const links: { a: Vec3; b: Vec3; r: number }[] = [];
  for (let i = 0; i + 1 < points.length; i++)
    links.push({ a: points[i] as Vec3, b: points[i + 1] as Vec3, r });
  return { id, base: basePose, links };
}
