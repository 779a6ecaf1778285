/**
 * A robot arm as a set of primitive objects in `world`: every collision element of every
 * link, placed by forward kinematics at a configuration. Used to put a virtual (proposed)
 * second arm into the twin, where it blocks plans and the radio like any object.
 */
import type { Pose } from "../../shared/geometry.ts";
import type { ArmKinematics } from "./kinematics.ts";
import {
  multiplyTransforms,
  TRANSFORM_SIZE,
  transformFromPose,
  transformFromXyzRpy,
  transformToPose,
} from "./math.ts";
import type { PrimitiveShape } from "./robot-model.ts";

export interface PlacedPrimitive {
  readonly link: string;
  readonly shape: PrimitiveShape;
  /** Centre pose of the primitive, `world` (cylinders along local z). */
  readonly pose: Pose;
}

/**
 * @param q joint positions, rad (group order)
 * @param baseWorld pose of the arm's `base_link` in `world`
 */
export function armPrimitives(
  kin: ArmKinematics,
  q: ArrayLike<number>,
  gripper: number,
  baseWorld: Pose,
): PlacedPrimitive[] {
  const links = kin.linkPoses(q, gripper);
  const base = transformFromPose(baseWorld);
  const t = new Float64Array(TRANSFORM_SIZE);
  const out: PlacedPrimitive[] = [];
  kin.linkNames.forEach((name, i) => {
    const model = kin.model.links.find((l) => l.name === name);
    for (const c of model?.collisions ?? []) {
      multiplyTransforms(t, base, links, 0, 0, i * TRANSFORM_SIZE);
      multiplyTransforms(t, t, transformFromXyzRpy(c.origin.xyz, c.origin.rpy));
      out.push({ link: name, shape: c.shape, pose: transformToPose(t) });
    }
  });
  return out;
}
