/**
 * The twin's physics world (Rapier): the arm as kinematic link bodies that follow the
 * measured joints, the cell's physical objects from the scene layout, and the virtual
 * objects operators add (fixed, or dynamic under gravity). It answers collision queries
 * for hypothetical arm configurations ({@link ArmCollisionChecker}) and can be saved and
 * restored byte for byte (`takeSnapshot` / `restoreSnapshot`).
 *
 * Frames: `world` is z up, metres; the robot's `base_link` sits at the layout's base pose.
 * Time: fixed steps of {@link TwinWorld.timestep} seconds.
 */
import RAPIER from "@dimforge/rapier3d-compat";
import { z } from "zod";
import { ShapeSchema } from "../../shared/messages/twin.ts";
import type { Pose } from "../../shared/geometry.ts";
import { ArmShapes, intersectsObject, ObjectProxy } from "./arm-collision.ts";
import type { ArmCollisionChecker, CollisionHit } from "./contracts.ts";
import { ObjectError, SnapshotError } from "./errors.ts";
import type { ArmKinematics } from "./kinematics.ts";
import {
  multiplyTransforms,
  quatFromRotation,
  TRANSFORM_SIZE,
  transformFromPose,
  transformFromXyzRpy,
  transformToPose,
} from "./math.ts";
import type { PrimitiveShape } from "./robot-model.ts";
import type { SceneLayout, SceneObjectSpec } from "./scene.ts";
import { shapeTransform, toRapierShape } from "./shapes.ts";

/** An object as clients see it. */
export interface WorldObject {
  readonly id: string;
  readonly shape: PrimitiveShape;
  /** Centre pose, `world`. */
  readonly pose: Pose;
  readonly dynamic: boolean;
  readonly virtual: boolean;
  readonly mass: number;
  readonly color: string | null;
  /** True while a hand controller carries it. */
  readonly held: boolean;
}

export interface TwinWorldOptions {
  /** Physics step, s (e.g. 0.001 for 1 kHz). */
  timestep: number;
  /** Gravity along world z, m/s² (default -9.81). */
  gravityZ?: number;
}

/** Collision groups: high 16 bits = membership, low 16 bits = filter. */
const GROUP_ARM = 0x0001;
const GROUP_OBJECT = 0x0002;
const ARM_GROUPS = (GROUP_ARM << 16) | GROUP_OBJECT;
const OBJECT_GROUPS = (GROUP_OBJECT << 16) | GROUP_ARM | GROUP_OBJECT;

/** Overlap between objects tolerated at placement (resting contact), m. */
const PLACEMENT_TOLERANCE_M = 1e-3;

const SNAPSHOT_MAGIC = 0x31575441; // "ATW1" little-endian

const Finite = z.number().finite();
const PoseJson = z.object({
  position: z.object({ x: Finite, y: Finite, z: Finite }),
  orientation: z.object({ x: Finite, y: Finite, z: Finite, w: Finite }),
});
/** The JS half of a snapshot: what the world keeps beside Rapier's bytes. */
const SnapshotTable = z.object({
  links: z.array(z.string()),
  gripper: Finite,
  objects: z.array(
    z.object({
      spec: z.object({
        id: z.string(),
        shape: ShapeSchema,
        pose: PoseJson,
        dynamic: z.boolean(),
        mass: Finite,
        virtual: z.boolean(),
        color: z.string().nullable(),
      }),
      handle: Finite,
      held: z.boolean(),
    }),
  ),
});

/**
 * Snapshot layout: magic "ATW1" (u32 LE), length of the object table (u32 LE), the table
 * as UTF-8 JSON, then Rapier's own snapshot bytes.
 */
export function encodeSnapshot(
  table: string,
  physics: Uint8Array = new Uint8Array(0),
  magic = SNAPSHOT_MAGIC,
): Uint8Array {
  const json = new TextEncoder().encode(table);
  const out = new Uint8Array(8 + json.length + physics.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, true);
  view.setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(physics, 8 + json.length);
  return out;
}

/**
 * Largest change of a joint (rad) or of the gripper opening (m) that is not a move of the
 * arm: below an encoder's resolution, so an arm at rest does not keep the physics awake.
 */
export const ARM_REST_EPS = 1e-7;

let rapierReady: Promise<void> | undefined;
/** Loads Rapier's WebAssembly once per process. */
export function initPhysics(): Promise<void> {
  rapierReady ??= RAPIER.init();
  return rapierReady;
}

interface ObjectEntry {
  spec: SceneObjectSpec;
  handle: number;
  held: boolean;
  /** Set when teleported, so a fixed object's proxy is re-read too. */
  moved: boolean;
  proxy: ObjectProxy;
}

interface ArmBody {
  link: number;
  handle: number;
}

/** Creates a world for `kin`'s robot in `layout` (loads Rapier on first use). */
export async function createTwinWorld(
  kin: ArmKinematics,
  layout: SceneLayout,
  options: TwinWorldOptions,
): Promise<TwinWorld> {
  await initPhysics();
  return new TwinWorld(kin, layout, options);
}

export class TwinWorld implements ArmCollisionChecker {
  readonly timestep: number;
  readonly #kin: ArmKinematics;
  readonly #mount: string | null;
  readonly #baseWorld: Float64Array;
  readonly #query: ArmShapes;
  readonly #armBodies: ArmBody[] = [];
  readonly #objects = new Map<string, ObjectEntry>();
  readonly #links: Float64Array;
  readonly #tmp = new Float64Array(TRANSFORM_SIZE);
  readonly #quat = new Float64Array(4);
  #world: RAPIER.World;
  #gripper = 0;
  #stale = true;
  /** Joints (rad) and gripper (m) the arm's bodies were last moved to; NaN before the first move. */
  readonly #armAt: Float64Array;
  /**
   * Something a step must act on happened since the last step: the arm moved, an object was
   * added, removed, teleported, taken or released, or a snapshot was restored.
   */
  #changed = true;
  /** The last step moved something: the next one runs too (see {@link step}). */
  #settling = false;
  #version = 0;
  /**
   * Steps {@link step} did not run because nothing could move: the arm at rest and every
   * free dynamic body asleep (Rapier's island sleeping). A resting world costs no physics.
   */
  skippedSteps = 0;
  /** Cached list of proxies; rebuilt after objects are added or removed. */
  #proxyList: ObjectProxy[] | null = null;
  #freed = false;

  /** Use {@link createTwinWorld}, which loads Rapier first. */
  constructor(kin: ArmKinematics, layout: SceneLayout, options: TwinWorldOptions) {
    if (!(options.timestep > 0 && options.timestep <= 0.05)) {
      throw new RangeError(`timestep must be in (0, 0.05] s, got ${options.timestep}`);
    }
    this.timestep = options.timestep;
    this.#kin = kin;
    this.#mount = layout.mount;
    this.#baseWorld = transformFromPose(layout.robotBase);
    this.#query = new ArmShapes(RAPIER, kin, kin.model, this.#baseWorld);
    this.#links = new Float64Array(kin.linkNames.length * TRANSFORM_SIZE);
    this.#armAt = new Float64Array(kin.dof + 1).fill(Number.NaN);
    this.#world = new RAPIER.World({ x: 0, y: 0, z: options.gravityZ ?? -9.81 });
    this.#world.timestep = options.timestep;
    this.#createArmBodies();
    for (const spec of layout.objects) this.addObject(spec);
  }

  /** `world ← base_link` of the robot, as a pose. */
  get basePose(): Pose {
    return transformToPose(this.#baseWorld);
  }

  /**
   * Moves the arm's link bodies to the measured joints (rad) and gripper opening (m). A change
   * of at most {@link ARM_REST_EPS} per joint (encoder noise of an arm at rest) is not a move.
   */
  setArmJoints(q: ArrayLike<number>, gripper: number): void {
    this.#gripper = gripper;
    if (!this.#armMoved(q, gripper)) return;
    const links = this.#kin.linkPoses(q, gripper, this.#links);
    const t = this.#tmp;
    for (const b of this.#armBodies) {
      multiplyTransforms(t, this.#baseWorld, links, 0, 0, b.link * TRANSFORM_SIZE);
      const body = this.#world.getRigidBody(b.handle);
      body.setNextKinematicTranslation({
        x: t[9] as number,
        y: t[10] as number,
        z: t[11] as number,
      });
      const r = this.#quatOf(t);
      body.setNextKinematicRotation(r);
    }
  }

  /**
   * Advances the physics by `steps` fixed steps, or skips them (counting
   * {@link skippedSteps}) when nothing changed since the last step and every free dynamic
   * body is asleep: such steps would leave every pose as it is.
   */
  step(steps = 1): void {
    if (steps <= 0) return;
    if (!this.#changed && !this.#settling && !this.#anyBodyAwake()) {
      this.skippedSteps += steps;
      return;
    }
    for (let i = 0; i < steps; i++) this.#world.step();
    this.#version++;
    // A kinematic body moved by this step keeps its velocity until a step without a new
    // target: run one more, or a body released later would start with that velocity.
    this.#settling = this.#changed;
    this.#changed = false;
    this.#stale = true;
  }

  /** First contact of the arm at configuration `q` (rad) with itself or an object. */
  checkArm(q: ArrayLike<number>): CollisionHit | null {
    this.#query.place(q, this.#gripper);
    const self = this.#query.selfHit();
    if (self) return self;
    return this.#query.objectHit(this.#proxies(), this.#mount);
  }

  /** Objects in insertion order (layout first), with poses read from the physics. */
  getObjects(): WorldObject[] {
    const out: WorldObject[] = [];
    for (const e of this.#objects.values()) {
      const body = this.#world.getRigidBody(e.handle);
      const p = body.translation();
      const r = body.rotation();
      out.push({
        id: e.spec.id,
        shape: e.spec.shape,
        pose: {
          position: { x: p.x, y: p.y, z: p.z },
          orientation: { x: r.x, y: r.y, z: r.z, w: r.w },
        },
        dynamic: e.spec.dynamic,
        virtual: e.spec.virtual,
        mass: e.spec.mass,
        color: e.spec.color,
        held: e.held,
      });
    }
    return out;
  }

  /**
   * What an object placed as `spec` would overlap with the arm at `armQ` (rad): an arm link
   * (`link <name>`) or another object (`object <id>`, beyond 1 mm of resting contact), or null.
   */
  checkObjectPlacement(spec: SceneObjectSpec, armQ: ArrayLike<number>): string | null {
    const candidate = this.#proxyFor(spec, spec.pose);
    this.#query.place(armQ, this.#gripper);
    const link = this.#query.touching(candidate, false);
    if (link) return `link ${link}`;
    for (const o of this.#proxies()) {
      if (!intersectsObject(candidate, o)) continue;
      const c = candidate.prim.shape.contactShape(
        candidate.pos,
        candidate.rot,
        o.prim.shape,
        o.pos,
        o.rot,
        0,
      );
      if (c && c.distance < -PLACEMENT_TOLERANCE_M) return `object ${o.id}`;
    }
    return null;
  }

  /** Adds an object. @throws ObjectError when the id is taken */
  addObject(spec: SceneObjectSpec): void {
    if (this.#objects.has(spec.id)) throw new ObjectError(spec.id, "already exists");
    const p = spec.pose;
    const bodyDesc = (spec.dynamic ? RAPIER.RigidBodyDesc.dynamic() : RAPIER.RigidBodyDesc.fixed())
      .setTranslation(p.position.x, p.position.y, p.position.z)
      .setRotation(normalised(p.orientation));
    const body = this.#world.createRigidBody(bodyDesc);
    const prim = toRapierShape(RAPIER, spec.shape);
    const q = this.#quatOf(prim.offset);
    const desc = colliderDesc(spec.shape)
      .setRotation(q)
      .setCollisionGroups(OBJECT_GROUPS)
      .setFriction(0.8);
    if (spec.dynamic) desc.setMass(spec.mass);
    this.#world.createCollider(desc, body);
    this.#objects.set(spec.id, {
      spec,
      handle: body.handle,
      held: false,
      moved: false,
      proxy: this.#proxyFor(spec, p),
    });
    this.#proxyList = null;
    this.#touch();
  }

  /** Removes an object. @throws ObjectError when there is none with this id */
  removeObject(id: string): void {
    const e = this.#entry(id);
    this.#world.removeRigidBody(this.#world.getRigidBody(e.handle));
    this.#objects.delete(id);
    this.#proxyList = null;
    this.#touch();
  }

  /** Held objects are kinematic (they follow {@link setObjectPose}); released ones fall again. */
  setObjectHeld(id: string, held: boolean): void {
    const e = this.#entry(id);
    if (e.held === held) return;
    e.held = held;
    const type = held
      ? RAPIER.RigidBodyType.KinematicPositionBased
      : e.spec.dynamic
        ? RAPIER.RigidBodyType.Dynamic
        : RAPIER.RigidBodyType.Fixed;
    this.#world.getRigidBody(e.handle).setBodyType(type, true);
    this.#touch();
  }

  /** Moves an object: smoothly over the next step when held, at once otherwise. */
  setObjectPose(id: string, pose: Pose): void {
    const e = this.#entry(id);
    const body = this.#world.getRigidBody(e.handle);
    const r = normalised(pose.orientation);
    if (e.held) {
      body.setNextKinematicTranslation(pose.position);
      body.setNextKinematicRotation(r);
    } else {
      body.setTranslation(pose.position, true);
      body.setRotation(r, true);
    }
    e.moved = true;
    this.#stale = true;
    this.#touch();
  }

  /** The whole world (physics state and object table) as bytes. */
  takeSnapshot(): Uint8Array {
    const table = JSON.stringify({
      links: this.#kin.linkNames,
      gripper: this.#gripper,
      objects: [...this.#objects.values()].map((e) => ({
        spec: e.spec,
        handle: e.handle,
        held: e.held,
      })),
    });
    return encodeSnapshot(table, this.#world.takeSnapshot());
  }

  /** Replaces the world with a snapshot of this robot's world. @throws SnapshotError */
  restoreSnapshot(bytes: Uint8Array): void {
    if (bytes.length < 8) throw new SnapshotError("snapshot too short");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== SNAPSHOT_MAGIC)
      throw new SnapshotError("not a twin world snapshot");
    const len = view.getUint32(4, true);
    if (8 + len > bytes.length) throw new SnapshotError("snapshot truncated");
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
    } catch (err) {
      throw new SnapshotError("snapshot object table is corrupt", { cause: err });
    }
    // Check the whole table before anything of the current world is touched.
    const table = SnapshotTable.safeParse(parsed);
    if (!table.success)
      throw new SnapshotError("snapshot object table is invalid", { cause: table.error });
    if (JSON.stringify(table.data.links) !== JSON.stringify(this.#kin.linkNames)) {
      throw new SnapshotError("snapshot is of another robot");
    }
    let world: RAPIER.World | null;
    try {
      world = RAPIER.World.restoreSnapshot(bytes.slice(8 + len));
    } catch (err) {
      throw new SnapshotError("physics snapshot is corrupt", { cause: err });
    }
    if (!world) throw new SnapshotError("physics snapshot is corrupt");
    this.#world.free();
    this.#world = world;
    this.#gripper = table.data.gripper;
    this.#objects.clear();
    for (const { spec, handle, held } of table.data.objects) {
      this.#objects.set(spec.id, {
        spec,
        handle,
        held,
        moved: true,
        proxy: this.#proxyFor(spec, spec.pose),
      });
    }
    this.#proxyList = null;
    this.#stale = true;
    this.#armAt.fill(Number.NaN);
    this.#touch();
  }

  /** Releases the WebAssembly memory. The world is unusable afterwards. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#world.free();
  }

  /**
   * Changes whenever an object's pose or the object table may have changed (a step that ran,
   * an object added, removed, moved, taken or released, a snapshot restored): a reader that
   * saw this version has seen {@link getObjects} as it is.
   */
  get version(): number {
    return this.#version;
  }

  #touch(): void {
    this.#changed = true;
    this.#version++;
  }

  /** Whether `q`, `gripper` differ from {@link #armAt} by more than ARM_REST_EPS; records them if so. */
  #armMoved(q: ArrayLike<number>, gripper: number): boolean {
    const at = this.#armAt;
    const n = at.length - 1;
    let moved = !(Math.abs(gripper - (at[n] as number)) <= ARM_REST_EPS);
    for (let i = 0; i < n && !moved; i++) {
      moved = !(Math.abs((q[i] as number) - (at[i] as number)) <= ARM_REST_EPS);
    }
    if (!moved) return false;
    for (let i = 0; i < n; i++) at[i] = q[i] as number;
    at[n] = gripper;
    this.#touch();
    return true;
  }

  /** Whether a dynamic object that is not held is awake (may still move). */
  #anyBodyAwake(): boolean {
    for (const e of this.#objects.values()) {
      if (e.spec.dynamic && !e.held && !this.#world.getRigidBody(e.handle).isSleeping())
        return true;
    }
    return false;
  }

  #createArmBodies(): void {
    const model = this.#kin.model;
    this.#kin.linkNames.forEach((name, link) => {
      const l = model.links.find((x) => x.name === name);
      if (!l || l.collisions.length === 0) return;
      const body = this.#world.createRigidBody(RAPIER.RigidBodyDesc.kinematicPositionBased());
      for (const c of l.collisions) {
        const prim = toRapierShape(RAPIER, c.shape);
        const local = shapeTransform(
          new Float64Array(TRANSFORM_SIZE),
          transformFromXyzRpy(c.origin.xyz, c.origin.rpy),
          prim,
        );
        const desc = colliderDesc(c.shape)
          .setTranslation(local[9] as number, local[10] as number, local[11] as number)
          .setRotation(this.#quatOf(local))
          .setCollisionGroups(ARM_GROUPS);
        this.#world.createCollider(desc, body);
      }
      this.#armBodies.push({ link, handle: body.handle });
    });
  }

  /** Object proxies with current poses (re-read from the physics after a step or a move). */
  #proxies(): ObjectProxy[] {
    if (this.#stale) {
      for (const e of this.#objects.values()) {
        if (!(e.spec.dynamic || e.held || e.moved)) continue;
        const body = this.#world.getRigidBody(e.handle);
        const t = transformFromPose(
          { position: body.translation(), orientation: body.rotation() },
          this.#tmp,
        );
        e.proxy.place(shapeTransform(t, t, e.proxy.prim));
        e.moved = false;
      }
      this.#stale = false;
    }
    this.#proxyList ??= [...this.#objects.values()].map((e) => e.proxy);
    return this.#proxyList;
  }

  #proxyFor(spec: SceneObjectSpec, pose: Pose): ObjectProxy {
    const prim = toRapierShape(RAPIER, spec.shape);
    const proxy = new ObjectProxy(spec.id, prim);
    proxy.place(shapeTransform(this.#tmp, transformFromPose(pose), prim));
    return proxy;
  }

  #entry(id: string): ObjectEntry {
    const e = this.#objects.get(id);
    if (!e) throw new ObjectError(id, "no such object");
    return e;
  }

  /** Rotation of transform `t` as a new plain quaternion (for Rapier calls). */
  #quatOf(t: Float64Array): { x: number; y: number; z: number; w: number } {
    const q = quatFromRotation(this.#quat, t);
    return { x: q[0] as number, y: q[1] as number, z: q[2] as number, w: q[3] as number };
  }
}

function colliderDesc(shape: PrimitiveShape): RAPIER.ColliderDesc {
  switch (shape.kind) {
    case "box":
      return RAPIER.ColliderDesc.cuboid(shape.size.x / 2, shape.size.y / 2, shape.size.z / 2);
    case "sphere":
      return RAPIER.ColliderDesc.ball(shape.radius);
    case "cylinder":
      return RAPIER.ColliderDesc.cylinder(shape.height / 2, shape.radius);
  }
}

function normalised(q: { x: number; y: number; z: number; w: number }) {
  const n = Math.hypot(q.x, q.y, q.z, q.w) || 1;
  return { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n };
}
