/**
 * Kinematics of a URDF robot: forward kinematics of the planning group (tool pose in
 * `base_link`), its geometric Jacobian, inverse kinematics (see ik.ts), and the pose of
 * every link for collision checking. Built once from a {@link RobotModel}; the hot paths
 * (fk, jacobian, link poses) reuse preallocated buffers and allocate nothing.
 *
 * Frames: `base_link` is the group's base link, which must be the URDF root (for a Panda,
 * `panda_link0`). Joint vectors are in group order, rad (m for prismatic joints).
 */
import type { Pose } from "../../shared/geometry.ts";
import type { ArmKinematicsLike, IkOptions, IkResult } from "./contracts.ts";
import { KinematicsError } from "./errors.ts";
import { solveIk } from "./ik.ts";
import {
  applyJoint,
  copyTransform,
  multiplyTransforms,
  setIdentity,
  TRANSFORM_SIZE,
  transformFromXyzRpy,
  transformToPose,
} from "./math.ts";
import { chainJoints } from "./robot-loader.ts";
import type { JointModel, RobotModel } from "./robot-model.ts";

/** Where a joint of the tree takes its value from. */
type JointSource =
  | { kind: "fixed" }
  | { kind: "arm"; index: number }
  | { kind: "gripper"; multiplier: number; offset: number }
  | { kind: "constant"; value: number };

/** One link of the tree in evaluation order (parents before children). */
interface TreeLink {
  name: string;
  /** Index of the parent in evaluation order, -1 for the root. */
  parent: number;
  origin: Float64Array;
  revolute: boolean;
  axis: readonly [number, number, number];
  source: JointSource;
}

export class ArmKinematics implements ArmKinematicsLike {
  readonly dof: number;
  readonly jointNames: readonly string[];
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly maxVelocity: Float64Array;
  readonly maxAcceleration: Float64Array;
  /** Every link in evaluation order (parents first); index into {@link linkPoses} output. */
  readonly linkNames: readonly string[];
  /** Opening (m) per unit of the gripper joint; 0 when the robot has no gripper. */
  readonly gripperScale: number;
  /** Gripper opening range, m. */
  readonly gripperRange: { readonly min: number; readonly max: number };

  readonly #chainOrigins: Float64Array[];
  readonly #chainAxes: (readonly [number, number, number])[];
  readonly #chainRevolute: boolean[];
  readonly #tip: Float64Array;
  readonly #tree: TreeLink[];
  readonly #frames: Float64Array;
  readonly #scratch = new Float64Array(24);

  constructor(readonly model: RobotModel) {
    if (model.group.base !== model.rootLink) {
      throw new KinematicsError(
        `group base "${model.group.base}" must be the URDF root "${model.rootLink}"`,
      );
    }
    const chain = chainJoints(model, model.group.base, model.group.tip);
    const movable = chain.filter((j) => j.type !== "fixed");
    this.dof = movable.length;
    this.jointNames = movable.map((j) => j.name);
    this.lower = Float64Array.from(movable, (j) => j.limit?.lower ?? -Math.PI);
    this.upper = Float64Array.from(movable, (j) => j.limit?.upper ?? Math.PI);
    this.maxVelocity = Float64Array.from(movable, (j) => j.limit?.velocity ?? 1);
    this.maxAcceleration = Float64Array.from(movable, (j) => model.maxAcceleration[j.name] ?? 1);

    // Fold fixed joints into the origin of the next movable joint (or into the tip).
    this.#chainOrigins = [];
    this.#chainAxes = [];
    this.#chainRevolute = [];
    let pending = identity();
    for (const j of chain) {
      const o = originOf(j);
      const folded = multiplyTransforms(new Float64Array(TRANSFORM_SIZE), pending, o);
      if (j.type === "fixed") {
        pending = folded;
        continue;
      }
      this.#chainOrigins.push(folded);
      this.#chainAxes.push(j.axis);
      this.#chainRevolute.push(j.type !== "prismatic");
      pending = identity();
    }
    this.#tip = pending;

    const gripper = model.gripper;
    const gripperJoint = gripper ? model.joints.find((j) => j.name === gripper.joint) : undefined;
    this.gripperScale = gripper?.openingScale ?? 0;
    this.gripperRange = {
      min: (gripperJoint?.limit?.lower ?? 0) * this.gripperScale,
      max: (gripperJoint?.limit?.upper ?? 0) * this.gripperScale,
    };
    this.#tree = buildTree(model, this.jointNames, gripper?.joint ?? null);
    this.linkNames = this.#tree.map((l) => l.name);
    this.#frames = new Float64Array(this.#chainOrigins.length * TRANSFORM_SIZE + TRANSFORM_SIZE);
  }

  /** Tool (group tip) pose in `base_link` for joint positions `q` (rad). Allocates the Pose. */
  fk(q: ArrayLike<number>): Pose {
    const out = new Float64Array(TRANSFORM_SIZE);
    this.fkTransform(q, out);
    return transformToPose(out);
  }

  /** Tool transform in `base_link` written into `out` (no allocation). */
  fkTransform(q: ArrayLike<number>, out: Float64Array): Float64Array {
    this.#chainFrames(q);
    return multiplyTransforms(out, this.#frames, this.#tip, 0, this.dof * TRANSFORM_SIZE, 0);
  }

  /**
   * Geometric Jacobian of the tool point in `base_link`: 6 × dof, row-major, rows
   * (vx, vy, vz, wx, wy, wz) per unit joint speed. Writes into `out` (a new array if absent).
   */
  jacobian(q: ArrayLike<number>, out: Float64Array = new Float64Array(6 * this.dof)): Float64Array {
    const n = this.dof;
    const f = this.#frames;
    this.#chainFrames(q);
    const tip = this.#scratch;
    multiplyTransforms(tip, f, this.#tip, 0, n * TRANSFORM_SIZE, 0);
    const px = tip[9] as number;
    const py = tip[10] as number;
    const pz = tip[11] as number;
    for (let k = 0; k < n; k++) {
      const o = (k + 1) * TRANSFORM_SIZE; // frame of joint k after its motion
      const [ax, ay, az] = this.#chainAxes[k] as readonly [number, number, number];
      // Joint axis in base_link: the joint frame's rotation applied to the local axis.
      const zx = (f[o] as number) * ax + (f[o + 1] as number) * ay + (f[o + 2] as number) * az;
      const zy = (f[o + 3] as number) * ax + (f[o + 4] as number) * ay + (f[o + 5] as number) * az;
      const zz = (f[o + 6] as number) * ax + (f[o + 7] as number) * ay + (f[o + 8] as number) * az;
      if (this.#chainRevolute[k]) {
        const rx = px - (f[o + 9] as number);
        const ry = py - (f[o + 10] as number);
        const rz = pz - (f[o + 11] as number);
        out[k] = zy * rz - zz * ry;
        out[n + k] = zz * rx - zx * rz;
        out[2 * n + k] = zx * ry - zy * rx;
        out[3 * n + k] = zx;
        out[4 * n + k] = zy;
        out[5 * n + k] = zz;
      } else {
        out[k] = zx;
        out[n + k] = zy;
        out[2 * n + k] = zz;
        out[3 * n + k] = 0;
        out[4 * n + k] = 0;
        out[5 * n + k] = 0;
      }
    }
    return out;
  }

  /** Damped-least-squares IK for a tool pose in `base_link`; see {@link solveIk}. */
  ik(target: Pose, seed: ArrayLike<number>, options?: IkOptions): IkResult {
    return solveIk(this, target, seed, options);
  }

  /**
   * Pose of every link in `base_link` for arm joints `q` (rad) and a gripper opening (m),
   * in {@link linkNames} order, written into `out` (12 numbers per link, see math.ts).
   */
  linkPoses(
    q: ArrayLike<number>,
    gripperOpening: number,
    out: Float64Array = new Float64Array(this.#tree.length * TRANSFORM_SIZE),
  ): Float64Array {
    const g = this.gripperScale > 0 ? gripperOpening / this.gripperScale : 0;
    const tree = this.#tree;
    for (let i = 0; i < tree.length; i++) {
      const l = tree[i] as TreeLink;
      const o = i * TRANSFORM_SIZE;
      if (l.parent < 0) {
        setIdentity(out, o);
        continue;
      }
      const s = l.source;
      if (s.kind === "fixed") {
        multiplyTransforms(out, out, l.origin, o, l.parent * TRANSFORM_SIZE, 0);
        continue;
      }
      const value =
        s.kind === "arm"
          ? (q[s.index] as number)
          : s.kind === "gripper"
            ? s.multiplier * g + s.offset
            : s.value;
      const [ax, ay, az] = l.axis;
      applyJoint(
        out,
        o,
        out,
        l.parent * TRANSFORM_SIZE,
        l.origin,
        l.revolute,
        ax,
        ay,
        az,
        value,
        this.#scratch,
      );
    }
    return out;
  }

  /** Frames of the chain: base (identity) then each joint's frame after its motion. */
  #chainFrames(q: ArrayLike<number>): void {
    const f = this.#frames;
    setIdentity(f, 0);
    for (let k = 0; k < this.dof; k++) {
      const [ax, ay, az] = this.#chainAxes[k] as readonly [number, number, number];
      applyJoint(
        f,
        (k + 1) * TRANSFORM_SIZE,
        f,
        k * TRANSFORM_SIZE,
        this.#chainOrigins[k] as Float64Array,
        this.#chainRevolute[k] as boolean,
        ax,
        ay,
        az,
        q[k] as number,
        this.#scratch,
      );
    }
  }
}

function identity(): Float64Array {
  return setIdentity(new Float64Array(TRANSFORM_SIZE));
}

function originOf(j: JointModel): Float64Array {
  return transformFromXyzRpy(j.origin.xyz, j.origin.rpy);
}

/** Links in breadth-first order from the root, each with where its joint's value comes from. */
function buildTree(
  model: RobotModel,
  armJoints: readonly string[],
  gripperJoint: string | null,
): TreeLink[] {
  const byParent = new Map<string, JointModel[]>();
  for (const j of model.joints) {
    const list = byParent.get(j.parent) ?? [];
    list.push(j);
    byParent.set(j.parent, list);
  }
  const jointByName = new Map(model.joints.map((j) => [j.name, j]));
  const sourceOf = (j: JointModel, depth = 0): JointSource => {
    if (j.type === "fixed") return { kind: "fixed" };
    const arm = armJoints.indexOf(j.name);
    if (arm >= 0) return { kind: "arm", index: arm };
    if (j.name === gripperJoint) return { kind: "gripper", multiplier: 1, offset: 0 };
    const mimicked = j.mimic ? jointByName.get(j.mimic.joint) : undefined;
    if (j.mimic && mimicked && depth < 4) {
      const inner = sourceOf(mimicked, depth + 1);
      if (inner.kind === "gripper") {
        return {
          kind: "gripper",
          multiplier: j.mimic.multiplier * inner.multiplier,
          offset: j.mimic.multiplier * inner.offset + j.mimic.offset,
        };
      }
    }
    // A joint outside the group and the gripper stays at its zero (or nearest limit).
    const lim = j.limit;
    return { kind: "constant", value: lim ? Math.min(lim.upper, Math.max(lim.lower, 0)) : 0 };
  };
  const out: TreeLink[] = [
    {
      name: model.rootLink,
      parent: -1,
      origin: identity(),
      revolute: true,
      axis: [0, 0, 1],
      source: { kind: "fixed" },
    },
  ];
  for (let i = 0; i < out.length; i++) {
    for (const j of byParent.get((out[i] as TreeLink).name) ?? []) {
      out.push({
        name: j.child,
        parent: i,
        origin: copyTransform(new Float64Array(TRANSFORM_SIZE), originOf(j)),
        revolute: j.type !== "prismatic",
        axis: j.axis,
        source: sourceOf(j),
      });
    }
  }
  return out;
}
