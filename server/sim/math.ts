/**
 * Rigid transforms for the kinematics and collision code, stored flat so that hot loops
 * (FK, IK, collision checks) reuse preallocated buffers instead of allocating objects.
 *
 * A {@link Transform} is a `Float64Array(12)`: the rotation matrix row-major in `[0..8]`
 * and the translation (m) in `[9..11]`. `a_T_b` maps coordinates in frame `b` to frame `a`.
 * Every function that writes takes its output first and may alias an input unless noted.
 */
import type { Pose, Quat, Vec3 } from "../../shared/geometry.ts";

/** Rotation (row-major, `[0..8]`) and translation (m, `[9..11]`) of a rigid transform. */
export type Transform = Float64Array;

/** Number of numbers in one {@link Transform}; arrays of transforms use this stride. */
export const TRANSFORM_SIZE = 12;

/** A new identity transform. */
export function transformIdentity(): Transform {
  const t = new Float64Array(TRANSFORM_SIZE);
  t[0] = 1;
  t[4] = 1;
  t[8] = 1;
  return t;
}

/** Writes the identity into `out` (at element offset `o`). */
export function setIdentity(out: Float64Array, o = 0): Float64Array {
  out.fill(0, o, o + TRANSFORM_SIZE);
  out[o] = 1;
  out[o + 4] = 1;
  out[o + 8] = 1;
  return out;
}

/** Copies the transform at `src[so..]` into `out[o..]`. */
export function copyTransform(out: Float64Array, src: Float64Array, o = 0, so = 0): Float64Array {
  for (let i = 0; i < TRANSFORM_SIZE; i++) out[o + i] = src[so + i] as number;
  return out;
}

/**
 * Transform from a URDF `origin`: translation `xyz` (m) and fixed-axis roll/pitch/yaw (rad),
 * i.e. `R = Rz(yaw) · Ry(pitch) · Rx(roll)`.
 */
export function transformFromXyzRpy(
  xyz: readonly [number, number, number],
  rpy: readonly [number, number, number],
  out: Transform = new Float64Array(TRANSFORM_SIZE),
): Transform {
  const [r, p, y] = rpy;
  const cr = Math.cos(r);
  const sr = Math.sin(r);
  const cp = Math.cos(p);
  const sp = Math.sin(p);
  const cy = Math.cos(y);
  const sy = Math.sin(y);
  out[0] = cy * cp;
  out[1] = cy * sp * sr - sy * cr;
  out[2] = cy * sp * cr + sy * sr;
  out[3] = sy * cp;
  out[4] = sy * sp * sr + cy * cr;
  out[5] = sy * sp * cr - cy * sr;
  out[6] = -sp;
  out[7] = cp * sr;
  out[8] = cp * cr;
  out[9] = xyz[0];
  out[10] = xyz[1];
  out[11] = xyz[2];
  return out;
}

/** Writes the rotation of unit quaternion `(x, y, z, w)` into `out[o..o+8]`. */
export function setRotationFromQuat(
  out: Float64Array,
  x: number,
  y: number,
  z: number,
  w: number,
  o = 0,
): void {
  const xx = x * x;
  const yy = y * y;
  const zz = z * z;
  const xy = x * y;
  const xz = x * z;
  const yz = y * z;
  const wx = w * x;
  const wy = w * y;
  const wz = w * z;
  out[o] = 1 - 2 * (yy + zz);
  out[o + 1] = 2 * (xy - wz);
  out[o + 2] = 2 * (xz + wy);
  out[o + 3] = 2 * (xy + wz);
  out[o + 4] = 1 - 2 * (xx + zz);
  out[o + 5] = 2 * (yz - wx);
  out[o + 6] = 2 * (xz - wy);
  out[o + 7] = 2 * (yz + wx);
  out[o + 8] = 1 - 2 * (xx + yy);
}

/** Transform of a {@link Pose} (the quaternion is normalised on the way in). */
export function transformFromPose(
  pose: Pose,
  out: Transform = new Float64Array(TRANSFORM_SIZE),
  o = 0,
): Transform {
  const q = pose.orientation;
  const n = Math.hypot(q.x, q.y, q.z, q.w) || 1;
  setRotationFromQuat(out, q.x / n, q.y / n, q.z / n, q.w / n, o);
  out[o + 9] = pose.position.x;
  out[o + 10] = pose.position.y;
  out[o + 11] = pose.position.z;
  return out;
}

/**
 * Unit quaternion of the rotation at `m[o..o+8]` (Shepperd's method, stable for every angle),
 * written as `[x, y, z, w]` into `out`; `w >= 0`.
 */
export function quatFromRotation(
  out: Float64Array | number[],
  m: Float64Array,
  o = 0,
): Float64Array | number[] {
  const m00 = m[o] as number;
  const m01 = m[o + 1] as number;
  const m02 = m[o + 2] as number;
  const m10 = m[o + 3] as number;
  const m11 = m[o + 4] as number;
  const m12 = m[o + 5] as number;
  const m20 = m[o + 6] as number;
  const m21 = m[o + 7] as number;
  const m22 = m[o + 8] as number;
  const trace = m00 + m11 + m22;
  let x: number;
  let y: number;
  let z: number;
  let w: number;
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    w = 0.25 * s;
    x = (m21 - m12) / s;
    y = (m02 - m20) / s;
    z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    x = 0.25 * s;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = 0.25 * s;
    z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = 0.25 * s;
  }
  const sign = w < 0 ? -1 : 1;
  const n = sign / Math.hypot(x, y, z, w);
  out[0] = x * n;
  out[1] = y * n;
  out[2] = z * n;
  out[3] = w * n;
  return out;
}

const quatScratch = new Float64Array(4);

/** The transform at `t[o..]` as a plain {@link Pose} (allocates the result). */
export function transformToPose(t: Float64Array, o = 0): Pose {
  quatFromRotation(quatScratch, t, o);
  return {
    position: { x: t[o + 9] as number, y: t[o + 10] as number, z: t[o + 11] as number },
    orientation: {
      x: quatScratch[0] as number,
      y: quatScratch[1] as number,
      z: quatScratch[2] as number,
      w: quatScratch[3] as number,
    },
  };
}

/**
 * `out[o..] = a[ao..] · b[bo..]` (apply `b` first). Safe when `out` aliases `a` or `b`
 * at the same offset, because every input is read before anything is written.
 */
export function multiplyTransforms(
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  o = 0,
  ao = 0,
  bo = 0,
): Float64Array {
  const a0 = a[ao] as number;
  const a1 = a[ao + 1] as number;
  const a2 = a[ao + 2] as number;
  const a3 = a[ao + 3] as number;
  const a4 = a[ao + 4] as number;
  const a5 = a[ao + 5] as number;
  const a6 = a[ao + 6] as number;
  const a7 = a[ao + 7] as number;
  const a8 = a[ao + 8] as number;
  const a9 = a[ao + 9] as number;
  const a10 = a[ao + 10] as number;
  const a11 = a[ao + 11] as number;
  const b0 = b[bo] as number;
  const b1 = b[bo + 1] as number;
  const b2 = b[bo + 2] as number;
  const b3 = b[bo + 3] as number;
  const b4 = b[bo + 4] as number;
  const b5 = b[bo + 5] as number;
  const b6 = b[bo + 6] as number;
  const b7 = b[bo + 7] as number;
  const b8 = b[bo + 8] as number;
  const b9 = b[bo + 9] as number;
  const b10 = b[bo + 10] as number;
  const b11 = b[bo + 11] as number;
  out[o] = a0 * b0 + a1 * b3 + a2 * b6;
  out[o + 1] = a0 * b1 + a1 * b4 + a2 * b7;
  out[o + 2] = a0 * b2 + a1 * b5 + a2 * b8;
  out[o + 3] = a3 * b0 + a4 * b3 + a5 * b6;
  out[o + 4] = a3 * b1 + a4 * b4 + a5 * b7;
  out[o + 5] = a3 * b2 + a4 * b5 + a5 * b8;
  out[o + 6] = a6 * b0 + a7 * b3 + a8 * b6;
  out[o + 7] = a6 * b1 + a7 * b4 + a8 * b7;
  out[o + 8] = a6 * b2 + a7 * b5 + a8 * b8;
  out[o + 9] = a0 * b9 + a1 * b10 + a2 * b11 + a9;
  out[o + 10] = a3 * b9 + a4 * b10 + a5 * b11 + a10;
  out[o + 11] = a6 * b9 + a7 * b10 + a8 * b11 + a11;
  return out;
}

/** `out[o..] = inverse(a[ao..])` for a rigid transform. Safe when `out` aliases `a`. */
export function invertTransform(out: Float64Array, a: Float64Array, o = 0, ao = 0): Float64Array {
  const r0 = a[ao] as number;
  const r1 = a[ao + 1] as number;
  const r2 = a[ao + 2] as number;
  const r3 = a[ao + 3] as number;
  const r4 = a[ao + 4] as number;
  const r5 = a[ao + 5] as number;
  const r6 = a[ao + 6] as number;
  const r7 = a[ao + 7] as number;
  const r8 = a[ao + 8] as number;
  const tx = a[ao + 9] as number;
  const ty = a[ao + 10] as number;
  const tz = a[ao + 11] as number;
  out[o] = r0;
  out[o + 1] = r3;
  out[o + 2] = r6;
  out[o + 3] = r1;
  out[o + 4] = r4;
  out[o + 5] = r7;
  out[o + 6] = r2;
  out[o + 7] = r5;
  out[o + 8] = r8;
  out[o + 9] = -(r0 * tx + r3 * ty + r6 * tz);
  out[o + 10] = -(r1 * tx + r4 * ty + r7 * tz);
  out[o + 11] = -(r2 * tx + r5 * ty + r8 * tz);
  return out;
}

/**
 * `out = parent · (origin · Rot(axis, angle))` for a revolute joint, or
 * `parent · (origin · Trans(axis · value))` for a prismatic one. `axis` must be a unit vector.
 * The common case of a joint about its local z axis avoids building the rotation matrix.
 */
export function applyJoint(
  out: Float64Array,
  o: number,
  parent: Float64Array,
  po: number,
  origin: Float64Array,
  revolute: boolean,
  ax: number,
  ay: number,
  az: number,
  value: number,
  scratch: Float64Array,
): void {
  if (revolute) {
    if (ax === 0 && ay === 0 && az === 1) {
      const c = Math.cos(value);
      const s = Math.sin(value);
      // Columns 0 and 1 of origin·Rz(value); column 2 and the translation are unchanged.
      for (let r = 0; r < 3; r++) {
        const c0 = origin[r * 3] as number;
        const c1 = origin[r * 3 + 1] as number;
        scratch[r * 3] = c * c0 + s * c1;
        scratch[r * 3 + 1] = c * c1 - s * c0;
        scratch[r * 3 + 2] = origin[r * 3 + 2] as number;
      }
      scratch[9] = origin[9] as number;
      scratch[10] = origin[10] as number;
      scratch[11] = origin[11] as number;
    } else {
      setAxisAngle(scratch, ax, ay, az, value, 12);
      scratch[21] = 0;
      scratch[22] = 0;
      scratch[23] = 0;
      multiplyTransforms(scratch, origin, scratch, 0, 0, 12);
    }
  } else {
    for (let i = 0; i < 9; i++) scratch[i] = origin[i] as number;
    scratch[9] =
      (origin[9] as number) +
      value *
        ((origin[0] as number) * ax + (origin[1] as number) * ay + (origin[2] as number) * az);
    scratch[10] =
      (origin[10] as number) +
      value *
        ((origin[3] as number) * ax + (origin[4] as number) * ay + (origin[5] as number) * az);
    scratch[11] =
      (origin[11] as number) +
      value *
        ((origin[6] as number) * ax + (origin[7] as number) * ay + (origin[8] as number) * az);
  }
  multiplyTransforms(out, parent, scratch, o, po, 0);
}

/** Writes the rotation of `angle` (rad) about unit axis `(x, y, z)` into `out[o..o+8]`. */
export function setAxisAngle(
  out: Float64Array,
  x: number,
  y: number,
  z: number,
  angle: number,
  o = 0,
): void {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  out[o] = t * x * x + c;
  out[o + 1] = t * x * y - s * z;
  out[o + 2] = t * x * z + s * y;
  out[o + 3] = t * x * y + s * z;
  out[o + 4] = t * y * y + c;
  out[o + 5] = t * y * z - s * x;
  out[o + 6] = t * x * z - s * y;
  out[o + 7] = t * y * z + s * x;
  out[o + 8] = t * z * z + c;
}

/**
 * Rotation vector (axis × angle, rad) of `Ra · Rbᵀ`, i.e. the rotation that takes frame
 * orientation `b` to `a`, expressed in the common parent frame. Written into `out[oo..oo+2]`;
 * returns the angle in [0, π].
 */
export function rotationErrorVector(
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  ao = 0,
  bo = 0,
  oo = 0,
): number {
  // E = Ra · Rbᵀ, only the parts needed for the axis (skew part) and the trace.
  let e00 = 0;
  let e11 = 0;
  let e22 = 0;
  let e01 = 0;
  let e10 = 0;
  let e02 = 0;
  let e20 = 0;
  let e12 = 0;
  let e21 = 0;
  for (let k = 0; k < 3; k++) {
    const a0 = a[ao + k] as number;
    const a1 = a[ao + 3 + k] as number;
    const a2 = a[ao + 6 + k] as number;
    const b0 = b[bo + k] as number;
    const b1 = b[bo + 3 + k] as number;
    const b2 = b[bo + 6 + k] as number;
    e00 += a0 * b0;
    e11 += a1 * b1;
    e22 += a2 * b2;
    e01 += a0 * b1;
    e10 += a1 * b0;
    e02 += a0 * b2;
    e20 += a2 * b0;
    e12 += a1 * b2;
    e21 += a2 * b1;
  }
  // Through the quaternion, which stays accurate near 0 and near π alike.
  const scratch = quatScratch;
  const m = rotScratch;
  m[0] = e00;
  m[1] = e01;
  m[2] = e02;
  m[3] = e10;
  m[4] = e11;
  m[5] = e12;
  m[6] = e20;
  m[7] = e21;
  m[8] = e22;
  quatFromRotation(scratch, m, 0);
  const x = scratch[0] as number;
  const y = scratch[1] as number;
  const z = scratch[2] as number;
  const w = scratch[3] as number;
  const sinHalf = Math.hypot(x, y, z);
  const angle = 2 * Math.atan2(sinHalf, w);
  const k = sinHalf > 1e-12 ? angle / sinHalf : 2;
  out[oo] = x * k;
  out[oo + 1] = y * k;
  out[oo + 2] = z * k;
  return angle;
}

const rotScratch = new Float64Array(9);

/** Applies the transform at `t[o..]` to point `(x, y, z)`, writing into `out[oo..oo+2]`. */
export function transformPoint(
  out: Float64Array,
  t: Float64Array,
  x: number,
  y: number,
  z: number,
  o = 0,
  oo = 0,
): Float64Array {
  out[oo] =
    (t[o] as number) * x +
    (t[o + 1] as number) * y +
    (t[o + 2] as number) * z +
    (t[o + 9] as number);
  out[oo + 1] =
    (t[o + 3] as number) * x +
    (t[o + 4] as number) * y +
    (t[o + 5] as number) * z +
    (t[o + 10] as number);
  out[oo + 2] =
    (t[o + 6] as number) * x +
    (t[o + 7] as number) * y +
    (t[o + 8] as number) * z +
    (t[o + 11] as number);
  return out;
}

/** Hamilton product `a · b` of two quaternions (allocates the result; not for hot loops). */
export function quatMultiply(a: Quat, b: Quat): Quat {
  return {
    x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
    y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
    z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
    w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
  };
}

/** Rotation angle (rad, in [0, π]) between two unit quaternions. */
export function quatAngle(a: Quat, b: Quat): number {
  const d = Math.abs(a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w);
  return 2 * Math.acos(Math.min(1, d));
}

/** `a_T_c = a_T_b · b_T_c` on plain poses (allocates; for boundaries, not hot loops). */
export function composePoses(aTb: Pose, bTc: Pose): Pose {
  const t = transformFromPose(aTb);
  const u = transformFromPose(bTc);
  return transformToPose(multiplyTransforms(t, t, u));
}

/** Inverse of a plain pose (allocates). */
export function invertPose(p: Pose): Pose {
  const t = transformFromPose(p);
  return transformToPose(invertTransform(t, t));
}

/** Euclidean distance between two points, m. */
export function vecDistance(a: Vec3, b: Vec3): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}
