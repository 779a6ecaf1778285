/**
 * Primitive shapes as Rapier shapes. URDF and scene files run cylinders along their local
 * z axis; Rapier runs them along y, so a cylinder carries a fixed rotation (Rx(π/2), which
 * takes y to z) between its frame and the Rapier shape.
 */
import type RAPIER from "@dimforge/rapier3d-compat";
import { multiplyTransforms, setAxisAngle, setIdentity, TRANSFORM_SIZE } from "./math.ts";
import type { PrimitiveShape } from "./robot-model.ts";

type Rapier = typeof RAPIER;

/** Dimensions in the Rapier shape frame (cylinders along y), m. */
export type ShapeExtent =
  | { readonly kind: "box"; readonly hx: number; readonly hy: number; readonly hz: number }
  | { readonly kind: "ball"; readonly r: number }
  | { readonly kind: "cylinder"; readonly halfHeight: number; readonly r: number };

/** A Rapier shape plus the transform from its primitive's frame to the Rapier shape frame. */
export interface RapierPrimitive {
  readonly shape: RAPIER.Shape;
  readonly extent: ShapeExtent;
  /** Identity for boxes and spheres; Rx(π/2) for cylinders. */
  readonly offset: Float64Array;
  /** Radius of a sphere about the frame origin that encloses the shape, m. */
  readonly boundingRadius: number;
}

/** Builds the Rapier shape of a primitive (sizes in m). */
export function toRapierShape(R: Rapier, p: PrimitiveShape): RapierPrimitive {
  const offset = setIdentity(new Float64Array(TRANSFORM_SIZE));
  switch (p.kind) {
    case "box":
      return {
        shape: new R.Cuboid(p.size.x / 2, p.size.y / 2, p.size.z / 2),
        extent: { kind: "box", hx: p.size.x / 2, hy: p.size.y / 2, hz: p.size.z / 2 },
        offset,
        boundingRadius: Math.hypot(p.size.x, p.size.y, p.size.z) / 2,
      };
    case "sphere":
      return {
        shape: new R.Ball(p.radius),
        extent: { kind: "ball", r: p.radius },
        offset,
        boundingRadius: p.radius,
      };
    case "cylinder":
      setAxisAngle(offset, 1, 0, 0, Math.PI / 2);
      return {
        shape: new R.Cylinder(p.height / 2, p.radius),
        extent: { kind: "cylinder", halfHeight: p.height / 2, r: p.radius },
        offset,
        boundingRadius: Math.hypot(p.radius, p.height / 2),
      };
  }
}

/** `out = frame · offset`: the Rapier shape's pose for a primitive placed at `frame`. */
export function shapeTransform(
  out: Float64Array,
  frame: Float64Array,
  prim: RapierPrimitive,
  fo = 0,
): Float64Array {
  return multiplyTransforms(out, frame, prim.offset, 0, fo, 0);
}

/**
 * Distance (m) from a point given in the shape's own frame to the shape's surface,
 * 0 inside. Exact for boxes and balls; for cylinders the distance to the enclosing
 * cylinder's side or caps (exact too). Used as a cheap broad phase before Rapier's test.
 */
export function pointDistance(e: ShapeExtent, x: number, y: number, z: number): number {
  switch (e.kind) {
    case "box": {
      const dx = Math.max(Math.abs(x) - e.hx, 0);
      const dy = Math.max(Math.abs(y) - e.hy, 0);
      const dz = Math.max(Math.abs(z) - e.hz, 0);
      return Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
    case "ball":
      return Math.max(Math.hypot(x, y, z) - e.r, 0);
    case "cylinder": {
      const dr = Math.max(Math.hypot(x, z) - e.r, 0);
      const dy = Math.max(Math.abs(y) - e.halfHeight, 0);
      return Math.sqrt(dr * dr + dy * dy);
    }
  }
}
