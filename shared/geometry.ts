/**
 * Plain geometry types used at every boundary (messages, state, sim API).
 * SI units: metres and radians. The frame is always named by the field or the JSDoc
 * of whoever holds the value (`world`, `base_link`, `tool`).
 */

/** A point or a vector, metres (or m/s, rad/s where documented). */
export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/** A unit quaternion (Hamilton convention, scalar last as in ROS geometry_msgs). */
export interface Quat {
  x: number;
  y: number;
  z: number;
  w: number;
}

/** A rigid transform: position in metres, orientation as a unit quaternion. */
export interface Pose {
  position: Vec3;
  orientation: Quat;
}

export const IDENTITY_QUAT: Readonly<Quat> = Object.freeze({ x: 0, y: 0, z: 0, w: 1 });
