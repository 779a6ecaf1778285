/**
 * The small contracts between the parts of the simulation core, so that kinematics,
 * the Rapier world, the planner and the motion controller can be built and tested apart.
 * Types (and one formatter): nothing here imports Rapier, Colyseus or any server code.
 *
 * Joint vectors are `ArrayLike<number>` in radians (revolute) or metres (prismatic), in the
 * order of {@link ArmLimits.jointNames}. Cartesian values are in the arm's `base_link` frame
 * unless a name says `world`.
 */
import type { Pose } from "../../shared/geometry.ts";

/** Joint limits of the planning group (the 7 arm joints), SI units. */
export interface ArmLimits {
  /** Joint names in group order (e.g. `panda_joint1` … `panda_joint7`). */
  readonly jointNames: readonly string[];
  /** Lower position limits, rad. */
  readonly lower: Float64Array;
  /** Upper position limits, rad. */
  readonly upper: Float64Array;
  /** Maximum joint speeds, rad/s (URDF `<limit velocity>`). */
  readonly maxVelocity: Float64Array;
  /** Maximum joint accelerations, rad/s² (not in URDF; from the robot's limits file). */
  readonly maxAcceleration: Float64Array;
}

/** What collided: another link of the arm or a scene object. */
export type CollisionOther =
  | { readonly kind: "link"; readonly name: string }
  | { readonly kind: "object"; readonly id: string };

/** First contact found by a collision query. */
export interface CollisionHit {
  /** The arm link (or attached object id) that touches something. */
  readonly link: string;
  readonly other: CollisionOther;
}

/** "panda_link5 touches object box-1": a hit as operators read it. */
export function describeHit(hit: CollisionHit): string {
  const other = hit.other.kind === "object" ? `object ${hit.other.id}` : `link ${hit.other.name}`;
  return `${hit.link} touches ${other}`;
}

/** Answers whether the arm at a configuration touches itself or the scene. */
export interface ArmCollisionChecker {
  /**
   * Checks a hypothetical arm configuration without changing the world.
   * @param q joint positions, rad, group order
   * @returns the first contact, or `null` when the configuration is collision-free
   */
  checkArm(q: ArrayLike<number>): CollisionHit | null;
}

/** Result of an inverse-kinematics query. */
export interface IkResult {
  /** True when both tolerances were met within the joint limits. */
  readonly ok: boolean;
  /** Best configuration found, rad (inside the joint limits even when `ok` is false). */
  readonly q: Float64Array;
  /** Remaining position error, m. */
  readonly positionError: number;
  /** Remaining orientation error (angle of the residual rotation), rad. */
  readonly orientationError: number;
  readonly iterations: number;
}

export interface IkOptions {
  /** Iterations per attempt (default 200). */
  maxIterations?: number;
  /** Position tolerance, m (default 1e-4). */
  positionTolerance?: number;
  /** Orientation tolerance, rad (default 1e-3). */
  orientationTolerance?: number;
  /** Random restarts after the seed fails (default 8). */
  restarts?: number;
  /** Source of randomness for restarts; [0, 1). Default: a fixed-seed PRNG. */
  random?: () => number;
  /** Extra acceptance test (e.g. collision-free); a solution failing it counts as a miss. */
  accept?: (q: Float64Array) => boolean;
}

/** Forward and inverse kinematics of the planning group, in the `base_link` frame. */
export interface ArmKinematicsLike extends ArmLimits {
  /** Number of joints in the group (7 for a Panda). */
  readonly dof: number;
  /** Pose of the tool frame (TCP) in `base_link` for joint positions `q` (rad). */
  fk(q: ArrayLike<number>): Pose;
  /** Damped-least-squares IK for a tool pose in `base_link`, respecting joint limits. */
  ik(target: Pose, seed: ArrayLike<number>, options?: IkOptions): IkResult;
}
