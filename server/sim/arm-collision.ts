/**
 * Collision queries of a hypothetical arm configuration: the arm's primitive collision
 * shapes (from the URDF) are placed by forward kinematics and tested with Rapier's exact
 * shape-vs-shape intersection against each other (except the pairs robot.json disables)
 * and against the scene objects.
 *
 * Why not the world's query pipeline: Rapier refreshes its broad phase only when the world
 * steps, so an object added or moved between steps would be missed. Here the broad phase is
 * a bounding-sphere test in JS over the object list the world keeps current, which for a
 * cell's few dozen objects costs less than one Rapier call.
 */
import type RAPIER from "@dimforge/rapier3d-compat";
import type { CollisionHit } from "./contracts.ts";
import type { ArmKinematics } from "./kinematics.ts";
import {
  invertTransform,
  multiplyTransforms,
  quatFromRotation,
  TRANSFORM_SIZE,
  transformFromXyzRpy,
} from "./math.ts";
import type { RobotModel } from "./robot-model.ts";
import { pointDistance, type RapierPrimitive, toRapierShape } from "./shapes.ts";

type Rapier = typeof RAPIER;

/**
 * A shape placed in `world`, with the plain objects Rapier's query calls take. The
 * quaternion is derived only when a Rapier call needs it (most pairs are rejected before).
 */
export class PlacedShape {
  /** Rapier shape position in `world`, m. */
  readonly pos = { x: 0, y: 0, z: 0 };
  /** Rapier shape pose in `world` (rotation row-major, translation), see math.ts. */
  readonly t = new Float64Array(TRANSFORM_SIZE);
  readonly #rot = { x: 0, y: 0, z: 0, w: 1 };
  #rotStale = true;

  constructor(readonly prim: RapierPrimitive) {}

  /** Places the shape at transform `t` (read at offset `o`). */
  place(t: Float64Array, o = 0): void {
    for (let i = 0; i < TRANSFORM_SIZE; i++) this.t[i] = t[o + i] as number;
    this.pos.x = t[o + 9] as number;
    this.pos.y = t[o + 10] as number;
    this.pos.z = t[o + 11] as number;
    this.#rotStale = true;
  }

  /** Unit quaternion of the placed rotation. */
  get rot(): { x: number; y: number; z: number; w: number } {
    if (this.#rotStale) {
      quatFromRotation(quatScratch, this.t);
      this.#rot.x = quatScratch[0] as number;
      this.#rot.y = quatScratch[1] as number;
      this.#rot.z = quatScratch[2] as number;
      this.#rot.w = quatScratch[3] as number;
      this.#rotStale = false;
    }
    return this.#rot;
  }
}

const quatScratch = new Float64Array(4);

/** A scene object as the collision queries see it. */
export class ObjectProxy extends PlacedShape {
  /** `shape frame ← world` (the inverse of the placed pose), for the broad phase. */
  readonly inv = new Float64Array(TRANSFORM_SIZE);

  constructor(
    readonly id: string,
    prim: RapierPrimitive,
  ) {
    super(prim);
  }

  override place(t: Float64Array, o = 0): void {
    super.place(t, o);
    invertTransform(this.inv, this.t);
  }
}

class ArmShape extends PlacedShape {
  constructor(
    prim: RapierPrimitive,
    /** Index of the link in `kin.linkNames`. */
    readonly link: number,
    readonly linkName: string,
    /** Link frame → Rapier shape frame (URDF origin · cylinder offset). */
    readonly local: Float64Array,
    /** True for links that no joint moves (the base): they may rest on the mount. */
    readonly fixed: boolean,
  ) {
    super(prim);
  }
}

/** The arm's collision shapes and the pairs of them checked against each other. */
export class ArmShapes {
  readonly shapes: readonly ArmShape[];
  /** Flat pairs of indices into {@link shapes} checked for self-collision. */
  readonly selfPairs: Int32Array;
  readonly #links: Float64Array;
  readonly #tmp = new Float64Array(TRANSFORM_SIZE);

  /**
   * @param baseWorld `world ← base_link` transform of the robot's mounting
   */
  constructor(
    R: Rapier,
    private readonly kin: ArmKinematics,
    model: RobotModel,
    private readonly baseWorld: Float64Array,
  ) {
    const movedBy = movingLinks(model);
    const shapes: ArmShape[] = [];
    kin.linkNames.forEach((linkName, link) => {
      const l = model.links.find((x) => x.name === linkName);
      for (const c of l?.collisions ?? []) {
        const prim = toRapierShape(R, c.shape);
        const local = multiplyTransforms(
          new Float64Array(TRANSFORM_SIZE),
          transformFromXyzRpy(c.origin.xyz, c.origin.rpy),
          prim.offset,
        );
        shapes.push(new ArmShape(prim, link, linkName, local, !movedBy.has(linkName)));
      }
    });
    this.shapes = shapes;
    const disabled = new Set(model.disabledCollisions.map((p) => pairKey(p.link1, p.link2)));
    const pairs: number[] = [];
    for (let a = 0; a < shapes.length; a++) {
      for (let b = a + 1; b < shapes.length; b++) {
        const sa = shapes[a] as ArmShape;
        const sb = shapes[b] as ArmShape;
        if (sa.link === sb.link || disabled.has(pairKey(sa.linkName, sb.linkName))) continue;
        if (sa.fixed && sb.fixed) continue;
        pairs.push(a, b);
      }
    }
    this.selfPairs = Int32Array.from(pairs);
    this.#links = new Float64Array(kin.linkNames.length * TRANSFORM_SIZE);
  }

  /** Places every shape for arm joints `q` (rad) and gripper opening (m). */
  place(q: ArrayLike<number>, gripper: number): void {
    const links = this.kin.linkPoses(q, gripper, this.#links);
    const t = this.#tmp;
    for (const s of this.shapes) {
      multiplyTransforms(t, links, s.local, 0, s.link * TRANSFORM_SIZE, 0);
      multiplyTransforms(t, this.baseWorld, t);
      s.place(t);
    }
  }

  /** World pose of link `link` (index in `kin.linkNames`) after the last {@link place}. */
  linkTransform(link: number, out: Float64Array): Float64Array {
    return multiplyTransforms(out, this.baseWorld, this.#links, 0, 0, link * TRANSFORM_SIZE);
  }

  /** First pair of arm links in contact, as placed. */
  selfHit(): CollisionHit | null {
    const s = this.shapes;
    const p = this.selfPairs;
    for (let i = 0; i < p.length; i += 2) {
      const a = s[p[i] as number] as ArmShape;
      const b = s[p[i + 1] as number] as ArmShape;
      if (intersects(a, b)) return { link: a.linkName, other: { kind: "link", name: b.linkName } };
    }
    return null;
  }

  /**
   * First arm shape in contact with an object, as placed.
   * @param mount id of the object the base is bolted to (fixed links may touch it)
   */
  objectHit(objects: readonly ObjectProxy[], mount: string | null): CollisionHit | null {
    for (const s of this.shapes) {
      for (const o of objects) {
        if (s.fixed && o.id === mount) continue;
        if (intersectsObject(s, o))
          return { link: s.linkName, other: { kind: "object", id: o.id } };
      }
    }
    return null;
  }

  /** First arm link whose shape intersects object `shape`, or null. */
  touching(shape: ObjectProxy, skipFixed: boolean): string | null {
    for (const s of this.shapes) {
      if (skipFixed && s.fixed) continue;
      if (intersectsObject(s, shape)) return s.linkName;
    }
    return null;
  }
}

/** True when the bounding spheres of two placed shapes do not meet. */
function spheresApart(a: PlacedShape, b: PlacedShape): boolean {
  const dx = a.pos.x - b.pos.x;
  const dy = a.pos.y - b.pos.y;
  const dz = a.pos.z - b.pos.z;
  const r = a.prim.boundingRadius + b.prim.boundingRadius;
  return dx * dx + dy * dy + dz * dz > r * r;
}

/** Bounding-sphere rejection, then Rapier's exact test. */
export function intersects(a: PlacedShape, b: PlacedShape): boolean {
  if (spheresApart(a, b)) return false;
  return a.prim.shape.intersectsShape(a.pos, a.rot, b.prim.shape, b.pos, b.rot);
}

/**
 * Like {@link intersects}, with a tighter broad phase for objects: the other shape's
 * bounding sphere against the object's exact extent (a large flat table passes a
 * sphere-sphere test for everything above it; this rejects all but what is near).
 */
export function intersectsObject(a: PlacedShape, o: ObjectProxy): boolean {
  if (spheresApart(a, o)) return false;
  const m = o.inv;
  const x =
    (m[0] as number) * a.pos.x +
    (m[1] as number) * a.pos.y +
    (m[2] as number) * a.pos.z +
    (m[9] as number);
  const y =
    (m[3] as number) * a.pos.x +
    (m[4] as number) * a.pos.y +
    (m[5] as number) * a.pos.z +
    (m[10] as number);
  const z =
    (m[6] as number) * a.pos.x +
    (m[7] as number) * a.pos.y +
    (m[8] as number) * a.pos.z +
    (m[11] as number);
  if (pointDistance(o.prim.extent, x, y, z) > a.prim.boundingRadius) return false;
  return a.prim.shape.intersectsShape(a.pos, a.rot, o.prim.shape, o.pos, o.rot);
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Links below at least one movable joint. */
function movingLinks(model: RobotModel): Set<string> {
  const out = new Set<string>();
  const byParent = new Map<string, typeof model.joints>();
  for (const j of model.joints) byParent.set(j.parent, [...(byParent.get(j.parent) ?? []), j]);
  const visit = (link: string, moved: boolean) => {
    if (moved) out.add(link);
    for (const j of byParent.get(link) ?? []) visit(j.child, moved || j.type !== "fixed");
  };
  visit(model.rootLink, false);
  return out;
}
