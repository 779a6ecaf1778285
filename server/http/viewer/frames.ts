/**
 * Frames. The server's `world` is z up (ROS / URDF convention, metres); three.js scenes are
 * y up. The viewer keeps every twin thing in world coordinates under one group, the
 * world root, whose rotation maps world into the three scene:
 *
 *   scene ← world = Rx(−90°):  (x, y, z)_world ↦ (x, z, −y)_scene
 *   world ← scene = Rx(+90°):  (x, y, z)_scene ↦ (x, −z, y)_world
 *
 * so world +z (up) is scene +y, world +x stays +x and world +y is scene −z. Poses the
 * viewer sends (WebXR head and controllers) are converted back with {@link sceneToWorld}:
 * their orientation is that of the WebXR space (x right, y up, looking along −z) expressed
 * in `world`. Imports three's math only (no DOM), so it runs in Node tests as well.
 */
import { Quaternion, Vector3 } from "three";
import type { Pose } from "../../../shared/geometry.ts";

/** Rotation taking `world` (z up) vectors into the three scene (y up). */
export const SCENE_FROM_WORLD: Readonly<Quaternion> = new Quaternion().setFromAxisAngle(
  new Vector3(1, 0, 0),
  -Math.PI / 2,
);

/** Rotation taking three scene vectors into `world`. */
export const WORLD_FROM_SCENE: Readonly<Quaternion> = SCENE_FROM_WORLD.clone().invert();

/** A point or direction in `world` → three scene coordinates. */
export function worldToScene(p: { x: number; y: number; z: number }): Vector3 {
  return new Vector3(p.x, p.z, -p.y);
}

/**
 * A pose in three scene coordinates (as `getWorldPosition` / `getWorldQuaternion` give it)
 * → the same pose in `world`, rounded to 0.1 mm / 1e-6 and renormalised for the wire.
 */
export function sceneToWorld(position: Vector3, orientation: Quaternion): Pose {
  const q = WORLD_FROM_SCENE.clone().multiply(orientation).normalize();
  const r = (v: number, step: number) => Math.round(v / step) * step;
  return {
    position: { x: r(position.x, 1e-4), y: r(-position.z, 1e-4), z: r(position.y, 1e-4) },
    orientation: { x: r(q.x, 1e-6), y: r(q.y, 1e-6), z: r(q.z, 1e-6), w: r(q.w, 1e-6) },
  };
}
