/**
 * Synthetic scenes with known geometry, for measuring reconstruction quality (tests and the
 * benchmark; the server does not use this at run time).
 *
 * A scene is a few analytic shapes in `world` (z up, metres): spheres, axis-aligned boxes and
 * finite horizontal planes, each with a colour and a 10 cm checker so colour fusion can be
 * checked too. {@link renderRgbd} ray-casts a registered RGB-D frame from a camera pose
 * (depth = z in the camera's optical frame, exactly what a depth sensor reports), optionally
 * with depth noise that grows with the square of the distance, as structured-light and
 * stereo sensors show. {@link sampleVisibleSurface} draws points uniformly by area on the
 * parts of the true surfaces that at least one camera saw (what a reconstruction can be
 * asked to recover), and {@link distanceToSurface} is the exact distance to the true surfaces.
 */
import type { Pose, Vec3 } from "../../../shared/geometry.ts";
import { gaussianFrom, seededRandom } from "../../sim/random.ts";
import { rotationFromQuat, type CameraIntrinsics, type RgbdFrame } from "./reconstructor.ts";

/** An analytic shape of a synthetic scene (`world`, metres; colour sRGB 0…255). */
export type Shape =
  | { readonly kind: "sphere"; readonly center: Vec3; readonly radiusM: number; readonly rgb: Rgb }
  | {
      readonly kind: "box";
      readonly center: Vec3;
      /** Half the edge lengths along x, y, z, metres. */
      readonly halfM: Vec3;
      readonly rgb: Rgb;
    }
  | {
      readonly kind: "plane";
      /** Height of the horizontal rectangle, metres. */
      readonly zM: number;
      readonly min: { readonly x: number; readonly y: number };
      readonly max: { readonly x: number; readonly y: number };
      readonly rgb: Rgb;
    };

/** sRGB colour, 0…255 per channel. */
export type Rgb = readonly [number, number, number];

/** A named set of shapes and the point the cameras look at. */
export interface SyntheticScene {
  readonly name: string;
  readonly shapes: readonly Shape[];
  /** Where orbiting cameras aim, `world`, metres. */
  readonly target: Vec3;
}

const FLOOR: Shape = {
  kind: "plane",
  zM: 0,
  min: { x: -0.8, y: -0.8 },
  max: { x: 0.8, y: 0.8 },
  rgb: [120, 120, 110],
};

/** The scenes the tests and the benchmark use; all fit the default 2 × 2 × 2 m volume. */
export const SYNTHETIC_SCENES = {
  /** A 30 cm sphere floating at 1 m. */
  sphere: {
    name: "sphere",
    shapes: [{ kind: "sphere", center: { x: 0, y: 0, z: 1 }, radiusM: 0.3, rgb: [200, 60, 40] }],
    target: { x: 0, y: 0, z: 1 },
  },
  /** A 40 × 30 × 25 cm box on a 1.6 m floor. */
  boxOnPlane: {
    name: "box-on-plane",
    shapes: [
      FLOOR,
      {
        kind: "box",
        center: { x: 0, y: 0, z: 0.125 },
        halfM: { x: 0.2, y: 0.15, z: 0.125 },
        rgb: [50, 110, 200],
      },
    ],
    target: { x: 0, y: 0, z: 0.15 },
  },
  /** A box and a sphere resting side by side on the floor. */
  twoObjects: {
    name: "two-objects",
    shapes: [
      FLOOR,
      {
        kind: "box",
        center: { x: -0.3, y: 0.1, z: 0.15 },
        halfM: { x: 0.15, y: 0.15, z: 0.15 },
        rgb: [50, 110, 200],
      },
      { kind: "sphere", center: { x: 0.3, y: -0.1, z: 0.2 }, radiusM: 0.2, rgb: [200, 60, 40] },
    ],
    target: { x: 0, y: 0, z: 0.2 },
  },
} as const satisfies Record<string, SyntheticScene>;

/** Intrinsics of a pinhole camera of `width × height` pixels with a horizontal field of view. */
export function pinholeIntrinsics(width: number, height: number, hfovDeg = 60): CameraIntrinsics {
  const f = width / 2 / Math.tan((hfovDeg * Math.PI) / 360);
  return { fx: f, fy: f, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}

/**
 * Camera → `world` pose of a camera at `eye` looking at `target`, image "up" towards +z of
 * `world` (optical frame: z forward, x right, y down).
 */
export function lookAt(eye: Vec3, target: Vec3): Pose {
  const f = normalize(sub(target, eye));
  let r = cross(f, { x: 0, y: 0, z: 1 });
  if (Math.hypot(r.x, r.y, r.z) < 1e-9) r = { x: 1, y: 0, z: 0 };
  r = normalize(r);
  const d = cross(f, r); // down = forward × right
  // Columns of R are the camera axes (x = right, y = down, z = forward) in `world`.
  return { position: { ...eye }, orientation: quatFromColumns(r, d, f) };
}

/**
 * `count` camera poses on a ring around `scene.target`: evenly spaced in azimuth, at
 * `distanceM` from the target, alternating between the given elevations (degrees above the
 * target's horizontal plane).
 */
export function orbitPoses(
  scene: SyntheticScene,
  count: number,
  options: { distanceM?: number; elevationsDeg?: readonly number[]; startDeg?: number } = {},
): Pose[] {
  const dist = options.distanceM ?? 1.4;
  const elevations = options.elevationsDeg ?? [35, 10];
  const t = scene.target;
  return Array.from({ length: count }, (_, n) => {
    const az = ((options.startDeg ?? 20) + (360 * n) / count) * (Math.PI / 180);
    const el = elevations[n % elevations.length]! * (Math.PI / 180);
    const eye = {
      x: t.x + dist * Math.cos(el) * Math.cos(az),
      y: t.y + dist * Math.cos(el) * Math.sin(az),
      z: t.z + dist * Math.sin(el),
    };
    return lookAt(eye, t);
  });
}

/** Options of {@link renderRgbd}. */
export interface RenderOptions {
  /** Horizontal field of view, degrees (default 60). */
  readonly hfovDeg?: number;
  /** Depth noise σ at 1 m, metres; σ grows with z² (default 0: exact depth). */
  readonly depthNoiseAt1mM?: number;
  /** Seed of the noise. */
  readonly seed?: number;
}

/** Ray-casts a registered RGB-D frame of `scene` seen from `pose` (pixels that see nothing: depth 0). */
export function renderRgbd(
  scene: SyntheticScene,
  width: number,
  height: number,
  pose: Pose,
  options: RenderOptions = {},
): RgbdFrame {
  const intrinsics = pinholeIntrinsics(width, height, options.hfovDeg);
  const { fx, fy, cx, cy } = intrinsics;
  const R = rotationFromQuat(pose.orientation);
  const o = pose.position;
  const rgb = new Uint8Array(width * height * 3);
  const depthM = new Float32Array(width * height);
  const noise = options.depthNoiseAt1mM ?? 0;
  const gauss = gaussianFrom(seededRandom(options.seed ?? 1));
  const light = normalize({ x: 0.3, y: -0.4, z: 1 });
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const xc = (u - cx) / fx;
      const yc = (v - cy) / fy;
      // Not normalised: the ray parameter of a hit is its depth (camera z).
      const dir = {
        x: R[0]! * xc + R[1]! * yc + R[2]!,
        y: R[3]! * xc + R[4]! * yc + R[5]!,
        z: R[6]! * xc + R[7]! * yc + R[8]!,
      };
      const hit = castRay(scene, o, dir);
      if (!hit) continue;
      const p = u + width * v;
      depthM[p] = noise > 0 ? hit.t + gauss() * noise * hit.t * hit.t : hit.t;
      const point = add(o, scale(dir, hit.t));
      const shade = 0.55 + 0.45 * Math.max(0, dot(hit.normal, light));
      const checker =
        (Math.floor(point.x * 10) + Math.floor(point.y * 10) + Math.floor(point.z * 10)) & 1;
      const tone = shade * (checker ? 1 : 0.8);
      rgb[p * 3] = Math.min(255, Math.round(hit.shape.rgb[0] * tone));
      rgb[p * 3 + 1] = Math.min(255, Math.round(hit.shape.rgb[1] * tone));
      rgb[p * 3 + 2] = Math.min(255, Math.round(hit.shape.rgb[2] * tone));
    }
  }
  return { width, height, rgb, depthM, intrinsics, pose };
}

/** First hit of the ray `origin + t·dir` (t > 0) with any shape, with the outward normal. */
export function castRay(
  scene: SyntheticScene,
  origin: Vec3,
  dir: Vec3,
): { t: number; normal: Vec3; shape: Shape } | null {
  let best: { t: number; normal: Vec3; shape: Shape } | null = null;
  for (const shape of scene.shapes) {
    const hit = intersect(shape, origin, dir);
    if (hit && (best === null || hit.t < best.t)) best = { ...hit, shape };
  }
  return best;
}

function intersect(shape: Shape, o: Vec3, d: Vec3): { t: number; normal: Vec3 } | null {
  const EPS = 1e-9;
  switch (shape.kind) {
    case "sphere": {
      const oc = sub(o, shape.center);
      const a = dot(d, d);
      const b = 2 * dot(oc, d);
      const c = dot(oc, oc) - shape.radiusM * shape.radiusM;
      const disc = b * b - 4 * a * c;
      if (disc < 0) return null;
      const sq = Math.sqrt(disc);
      let t = (-b - sq) / (2 * a);
      if (t <= EPS) t = (-b + sq) / (2 * a);
      if (t <= EPS) return null;
      return { t, normal: normalize(sub(add(o, scale(d, t)), shape.center)) };
    }
    case "box": {
      const lo = sub(shape.center, shape.halfM);
      const hi = add(shape.center, shape.halfM);
      let tNear = -Infinity;
      let tFar = Infinity;
      let axisNear = 0;
      const os = [o.x, o.y, o.z];
      const ds = [d.x, d.y, d.z];
      const los = [lo.x, lo.y, lo.z];
      const his = [hi.x, hi.y, hi.z];
      for (let a = 0; a < 3; a++) {
        const oa = os[a]!;
        const da = ds[a]!;
        if (Math.abs(da) < EPS) {
          if (oa < los[a]! || oa > his[a]!) return null;
          continue;
        }
        let t1 = (los[a]! - oa) / da;
        let t2 = (his[a]! - oa) / da;
        if (t1 > t2) [t1, t2] = [t2, t1];
        if (t1 > tNear) {
          tNear = t1;
          axisNear = a;
        }
        tFar = Math.min(tFar, t2);
      }
      if (tNear > tFar || tNear <= EPS) return null; // no hit, or the camera is inside
      const n = [0, 0, 0];
      n[axisNear] = ds[axisNear]! > 0 ? -1 : 1;
      return { t: tNear, normal: { x: n[0]!, y: n[1]!, z: n[2]! } };
    }
    case "plane": {
      if (Math.abs(d.z) < EPS) return null;
      const t = (shape.zM - o.z) / d.z;
      if (t <= EPS) return null;
      const x = o.x + t * d.x;
      const y = o.y + t * d.y;
      if (x < shape.min.x || x > shape.max.x || y < shape.min.y || y > shape.max.y) return null;
      return { t, normal: { x: 0, y: 0, z: d.z < 0 ? 1 : -1 } };
    }
  }
}

/** Exact distance from `p` to the nearest true surface of the scene, metres. */
export function distanceToSurface(scene: SyntheticScene, p: Vec3): number {
  let best = Infinity;
  for (const s of scene.shapes) best = Math.min(best, shapeDistance(s, p));
  return best;
}

function shapeDistance(shape: Shape, p: Vec3): number {
  switch (shape.kind) {
    case "sphere":
      return Math.abs(
        Math.hypot(p.x - shape.center.x, p.y - shape.center.y, p.z - shape.center.z) -
          shape.radiusM,
      );
    case "box": {
      const q = {
        x: Math.abs(p.x - shape.center.x) - shape.halfM.x,
        y: Math.abs(p.y - shape.center.y) - shape.halfM.y,
        z: Math.abs(p.z - shape.center.z) - shape.halfM.z,
      };
      const outside = Math.hypot(Math.max(q.x, 0), Math.max(q.y, 0), Math.max(q.z, 0));
      const inside = Math.min(Math.max(q.x, q.y, q.z), 0);
      return Math.abs(outside + inside);
    }
    case "plane": {
      const dx = Math.max(shape.min.x - p.x, 0, p.x - shape.max.x);
      const dy = Math.max(shape.min.y - p.y, 0, p.y - shape.max.y);
      return Math.hypot(dx, dy, p.z - shape.zM);
    }
  }
}

/** Surface area of a shape, m². */
function shapeArea(s: Shape): number {
  switch (s.kind) {
    case "sphere":
      return 4 * Math.PI * s.radiusM * s.radiusM;
    case "box": {
      const { x, y, z } = s.halfM;
      return 8 * (x * y + y * z + x * z);
    }
    case "plane":
      return (s.max.x - s.min.x) * (s.max.y - s.min.y);
  }
}

/** A uniformly random point (by area) on a shape's surface. */
function samplePoint(s: Shape, rnd: () => number): Vec3 {
  switch (s.kind) {
    case "sphere": {
      const z = 2 * rnd() - 1;
      const phi = 2 * Math.PI * rnd();
      const r = Math.sqrt(1 - z * z);
      return add(s.center, scale({ x: r * Math.cos(phi), y: r * Math.sin(phi), z }, s.radiusM));
    }
    case "box": {
      const { x: hx, y: hy, z: hz } = s.halfM;
      const areas = [hy * hz, hx * hz, hx * hy];
      let pick = rnd() * (areas[0]! + areas[1]! + areas[2]!);
      let axis = 0;
      while (axis < 2 && pick >= areas[axis]!) pick -= areas[axis++]!;
      const sign = rnd() < 0.5 ? -1 : 1;
      const u = 2 * rnd() - 1;
      const v = 2 * rnd() - 1;
      const local =
        axis === 0
          ? { x: sign * hx, y: u * hy, z: v * hz }
          : axis === 1
            ? { x: u * hx, y: sign * hy, z: v * hz }
            : { x: u * hx, y: v * hy, z: sign * hz };
      return add(s.center, local);
    }
    case "plane":
      return {
        x: s.min.x + rnd() * (s.max.x - s.min.x),
        y: s.min.y + rnd() * (s.max.y - s.min.y),
        z: s.zM,
      };
  }
}

/** Outward unit normal of a shape at a point on its surface. */
function shapeNormal(s: Shape, p: Vec3): Vec3 {
  switch (s.kind) {
    case "sphere":
      return normalize(sub(p, s.center));
    case "box": {
      const q = sub(p, s.center);
      const r = [q.x / s.halfM.x, q.y / s.halfM.y, q.z / s.halfM.z];
      const a = [0, 1, 2].reduce((best, i) => (Math.abs(r[i]!) > Math.abs(r[best]!) ? i : best), 0);
      const n = [0, 0, 0];
      n[a] = Math.sign(r[a]!) || 1;
      return { x: n[0]!, y: n[1]!, z: n[2]! };
    }
    case "plane":
      return { x: 0, y: 0, z: 1 };
  }
}

/** A camera of {@link sampleVisibleSurface}: pose, intrinsics and image size. */
export interface SurfaceCamera {
  readonly pose: Pose;
  readonly intrinsics: CameraIntrinsics;
  readonly width: number;
  readonly height: number;
}

/**
 * About `count` points drawn uniformly by area on the true surfaces, keeping those that at
 * least one of `cameras` sees: inside its image, the first surface along the ray from the
 * camera, and at an angle of incidence (between the surface normal and the direction to the
 * camera) of at most `maxIncidenceDeg` (default 75°; depth sensors return little or nothing
 * at grazing angles, so such points are not asked of the reconstruction). Returns x, y, z per
 * point in `world`, metres (fewer than `count` where much is hidden).
 */
export function sampleVisibleSurface(
  scene: SyntheticScene,
  count: number,
  cameras: readonly SurfaceCamera[],
  options: { readonly seed?: number; readonly maxIncidenceDeg?: number } = {},
): Float32Array {
  const rnd = seededRandom(options.seed ?? 3);
  const cosMax = Math.cos(((options.maxIncidenceDeg ?? 75) * Math.PI) / 180);
  const areas = scene.shapes.map(shapeArea);
  const total = areas.reduce((a, b) => a + b, 0);
  const rotations = cameras.map((c) => rotationFromQuat(c.pose.orientation));
  const out = new Float32Array(count * 3);
  let kept = 0;
  for (let n = 0; n < count; n++) {
    let pick = rnd() * total;
    let si = 0;
    while (si < areas.length - 1 && pick >= areas[si]!) pick -= areas[si++]!;
    const shape = scene.shapes[si]!;
    const p = samplePoint(shape, rnd);
    const normal = shapeNormal(shape, p);
    const seen = cameras.some((cam, ci) => {
      const R = rotations[ci]!;
      const o = cam.pose.position;
      const w = sub(p, o);
      if (-dot(normal, w) < cosMax * Math.hypot(w.x, w.y, w.z)) return false;
      const xc = R[0]! * w.x + R[3]! * w.y + R[6]! * w.z;
      const yc = R[1]! * w.x + R[4]! * w.y + R[7]! * w.z;
      const zc = R[2]! * w.x + R[5]! * w.y + R[8]! * w.z;
      if (zc <= 0) return false;
      const u = (cam.intrinsics.fx * xc) / zc + cam.intrinsics.cx;
      const v = (cam.intrinsics.fy * yc) / zc + cam.intrinsics.cy;
      if (u < -0.5 || u >= cam.width - 0.5 || v < -0.5 || v >= cam.height - 0.5) return false;
      const hit = castRay(scene, o, scale(w, 1 / zc));
      return hit !== null && hit.t > zc - 1e-4;
    });
    if (!seen) continue;
    out[kept * 3] = p.x;
    out[kept * 3 + 1] = p.y;
    out[kept * 3 + 2] = p.z;
    kept++;
  }
  return out.slice(0, kept * 3);
}

// --- small vector helpers -----------------------------------------------------------------

function add(a: Vec3, b: Vec3): Vec3 {
  return { x: a.x + b.x, y: a.y + b.y, z: a.z + b.z };
}
function sub(a: Vec3, b: Vec3): Vec3 {
  return { x: a.x - b.x, y: a.y - b.y, z: a.z - b.z };
}
function scale(a: Vec3, s: number): Vec3 {
  return { x: a.x * s, y: a.y * s, z: a.z * s };
}
function dot(a: Vec3, b: Vec3): number {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
function cross(a: Vec3, b: Vec3): Vec3 {
  return { x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x };
}
function normalize(a: Vec3): Vec3 {
  const l = Math.hypot(a.x, a.y, a.z);
  return scale(a, 1 / l);
}

/** Quaternion (x, y, z, w) of the rotation whose matrix has columns c0, c1, c2. */
function quatFromColumns(
  c0: Vec3,
  c1: Vec3,
  c2: Vec3,
): { x: number; y: number; z: number; w: number } {
  const m00 = c0.x;
  const m10 = c0.y;
  const m20 = c0.z;
  const m01 = c1.x;
  const m11 = c1.y;
  const m21 = c1.z;
  const m02 = c2.x;
  const m12 = c2.y;
  const m22 = c2.z;
  const tr = m00 + m11 + m22;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    return { w: s / 4, x: (m21 - m12) / s, y: (m02 - m20) / s, z: (m10 - m01) / s };
  }
  if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    return { w: (m21 - m12) / s, x: s / 4, y: (m01 + m10) / s, z: (m02 + m20) / s };
  }
  if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    return { w: (m02 - m20) / s, x: (m01 + m10) / s, y: s / 4, z: (m12 + m21) / s };
  }
  const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
  return { w: (m10 - m01) / s, x: (m02 + m20) / s, y: (m12 + m21) / s, z: s / 4 };
}
