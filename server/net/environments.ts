/**
 * Radio environments of the cell for training and evaluating the channel agent, and the
 * feature encoder that conditions its model. Pure (no TensorFlow.js); `world` frame, m.
 *
 * Generator (seeded; environment `i` of a set depends only on the set's seed and `i`):
 * - gNB fixed at the ceiling corner {@link GNB_POSITION}, aimed at the cell.
 * - 1–3 arms: the cell's own Panda at its base `world` (0, 0, 0.8), plus 0–2 extra Pandas
 *   (probabilities 0.3 / 0.4 / 0.3) on the line beside it, base x ∈ [−0.2, 0.4] m,
 *   |y| ∈ [0.8, 1.6] m, z = 0.8 m, random yaw. Joint configurations: 40 % near the `ready`
 *   pose (σ = 0.35 rad), 60 % uniform within the joint limits; redrawn while a link dips
 *   below the table top or touches another arm.
 * - Headset (a standing operator's head, z ∈ [1.2, 1.9] m): 70 % anywhere 0.5–3 m
 *   (horizontally) from an arm's base, inside the room with a 0.3 m margin; 30 % "behind an
 *   arm": on the line from the gNB through a point of an arm link higher than the head, so
 *   that the LoS grazes or crosses that link (blocked channels are not rare in the data).
 *   Never closer than 0.2 m to an arm link.
 *
 * Sets: training seeds {@link TRAIN_SEED}, validation {@link VALIDATION_SEED}, held-out
 * {@link HELD_OUT_SEED} (disjoint streams). The `shifted` variant (adaptation test) uses the
 * same placement with {@link SHIFTED_ROOM}: metal-clad walls, a tall metal cabinet between the
 * gNB and the cell and 3 dB more interference — a change of the room the feature encoder
 * cannot see, as after a refit of the real cell.
 */
import type { Pose, Vec3 } from "../../shared/geometry.ts";
import type { ArmKinematics } from "../sim/kinematics.ts";
import { seededRandom } from "../sim/random.ts";
import { armGeometry } from "./arm-geometry.ts";
import {
  closestOnSegment,
  DEFAULT_ROOM,
  type RoomSpec,
  segmentSegmentDistance2,
} from "./channel-model.ts";
import type { ArmGeometry, RadioEnvironment } from "./contracts.ts";

/** The gNB antenna: ceiling corner of the 6 × 6 × 3 m cell, `world`, m. */
export const GNB_POSITION: Readonly<Vec3> = Object.freeze({ x: -2.7, y: -2.7, z: 2.75 });
/** Base of the cell's own arm, `world`, m. */
export const MAIN_ARM_BASE: Readonly<Vec3> = Object.freeze({ x: 0, y: 0, z: 0.8 });

/** Seed of the training set. */
export const TRAIN_SEED = 1;
/** Seed of the validation set (model selection during training). */
export const VALIDATION_SEED = 500_001;
/** Seed of the held-out evaluation set. */
export const HELD_OUT_SEED = 1_000_003;
/** Seed of the shifted-room set (adaptation test). */
export const SHIFTED_SEED = 2_000_029;

/** Which room the environments live in. */
export type EnvironmentVariant = "nominal" | "shifted";

/**
 * The refitted room of the adaptation test: metal-clad walls (reflection loss 3 dB instead
 * of 10), a 2 m tall metal cabinet (radius 0.3 m) at `world` (−1.4, −1.0) between the gNB
 * and the cell, and 3 dB more interference.
 */
export const SHIFTED_ROOM: RoomSpec = Object.freeze({
  ...DEFAULT_ROOM,
  wallLossDb: 3,
  fixtures: [{ a: { x: -1.4, y: -1.0, z: 0 }, b: { x: -1.4, y: -1.0, z: 2.0 }, r: 0.3 }],
  interferenceDb: DEFAULT_ROOM.interferenceDb + 3,
});

/** The room of a variant. */
export function roomFor(variant: EnvironmentVariant): RoomSpec {
  return variant === "shifted" ? SHIFTED_ROOM : DEFAULT_ROOM;
}

export interface GeneratorOptions {
  /** Seed of the set; environment `i` uses a stream derived from (seed, i). */
  readonly seed: number;
  /** Index of the first environment (to continue a set), default 0. */
  readonly start?: number;
}

/** Lowest and highest head height of a placed headset (`world` z), m. */
export const HEAD_MIN_Z = 1.2;
export const HEAD_MAX_Z = 1.9;
const ROOM_MARGIN_M = 0.3;
const HEAD_CLEARANCE_M = 0.2;

/**
 * `count` environments of a set (see the module comment).
 * @param kinematics the Panda's kinematics (every arm in the cell is a Panda)
 */
export function generateEnvironments(
  kinematics: ArmKinematics,
  count: number,
  options: GeneratorOptions,
): RadioEnvironment[] {
  const out: RadioEnvironment[] = [];
  const start = options.start ?? 0;
  for (let i = 0; i < count; i++)
    out.push(generateEnvironment(kinematics, options.seed, start + i));
  return out;
}

/** Environment `index` of the set with seed `seed`. */
export function generateEnvironment(
  kinematics: ArmKinematics,
  seed: number,
  index: number,
): RadioEnvironment {
  const rand = seededRandom(mix(seed, index));
  const room = DEFAULT_ROOM;
  const extra = pick(rand, [0.3, 0.4, 0.3]);
  const bases: Pose[] = [
    { position: { ...MAIN_ARM_BASE }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
  ];
  const u = (lo: number, hi: number) => lo + rand() * (hi - lo);
  const sign = () => (rand() < 0.5 ? -1 : 1);
  const ys: number[] = [];
  if (extra === 1) ys.push(sign() * u(0.8, 1.6));
  else if (extra === 2) {
    // Either one arm on each side, or two on one side at least 0.6 m apart.
    const s = sign();
    if (rand() < 0.6) ys.push(s * u(0.8, 1.6), -s * u(0.8, 1.6));
    else ys.push(s * u(0.8, 0.95), s * u(1.55, 1.6));
  }
  for (const y of ys) {
    const yaw = (rand() * 2 - 1) * Math.PI;
    bases.push({
      position: { x: u(-0.2, 0.4), y, z: MAIN_ARM_BASE.z },
      orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
    });
  }
  const arms: ArmGeometry[] = [];
  bases.forEach((base, k) => {
    let arm: ArmGeometry | undefined;
    for (let attempt = 0; attempt < 40 && !arm; attempt++) {
      const q = randomConfig(kinematics, rand);
      const candidate = armGeometry(kinematics, q, base, k === 0 ? "panda" : `arm-${k}`);
      if (aboveTable(candidate, base.position.z) && arms.every((a) => apart(a, candidate)))
        arm = candidate;
    }
    arm ??= armGeometry(kinematics, readyPose(kinematics), base, k === 0 ? "panda" : `arm-${k}`);
    arms.push(arm);
  });
  const headset = placeHeadset(rand, arms, room);
  return { gnb: { ...GNB_POSITION }, headset, arms };
}

/** A derived seed for environment `index` of set `seed`. */
function mix(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function pick(rand: () => number, weights: readonly number[]): number {
  let u = rand();
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** The arm's home named pose (ready) as joint values in group order, rad. */
export function readyPose(kin: ArmKinematics): Float64Array {
  const ready = kin.model.namedPoses[kin.model.home] ?? {};
  return Float64Array.from(kin.jointNames, (n) => ready[n] ?? 0);
}

function randomConfig(kin: ArmKinematics, rand: () => number): Float64Array {
  const ready = readyPose(kin);
  const nearReady = rand() < 0.4;
  return Float64Array.from(ready, (r, j) => {
    const lo = kin.lower[j] as number;
    const hi = kin.upper[j] as number;
    const v = nearReady ? r + gauss(rand) * 0.35 : lo + rand() * (hi - lo);
    return Math.min(hi, Math.max(lo, v));
  });
}

function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Every link point except the base column's foot stays above the table top (`world` z, m). */
export function aboveTable(arm: ArmGeometry, tableZ: number): boolean {
  return arm.links.every(
    (l, i) => (i === 0 ? true : l.a.z > tableZ + 0.03) && l.b.z > tableZ + 0.03,
  );
}

function apart(a: ArmGeometry, b: ArmGeometry): boolean {
  for (const la of a.links)
    for (const lb of b.links) if (capsuleDistance(la, lb) < la.r + lb.r + 0.02) return false;
  return true;
}

function capsuleDistance(
  c: { readonly a: Vec3; readonly b: Vec3 },
  d: { readonly a: Vec3; readonly b: Vec3 },
): number {
  return Math.sqrt(segDist2(c.a, c.b, d.a, d.b));
}

function segDist2(p: Vec3, q: Vec3, a: Vec3, b: Vec3): number {
  return segmentSegmentDistance2(p.x, p.y, p.z, q.x, q.y, q.z, a.x, a.y, a.z, b.x, b.y, b.z);
}

/** `p` lies inside `room`'s floor plan with the placement margin (0.3 m) to every wall. */
export function insideRoom(p: Vec3, room: RoomSpec = DEFAULT_ROOM): boolean {
  return (
    p.x > room.min.x + ROOM_MARGIN_M &&
    p.x < room.max.x - ROOM_MARGIN_M &&
    p.y > room.min.y + ROOM_MARGIN_M &&
    p.y < room.max.y - ROOM_MARGIN_M
  );
}

/** `p` is more than the head clearance (0.2 m) outside every link capsule of `arms`. */
export function clearOfArms(p: Vec3, arms: readonly ArmGeometry[]): boolean {
  return arms.every((arm) =>
    arm.links.every((l) => capsuleDistance(l, { a: p, b: p }) > l.r + HEAD_CLEARANCE_M),
  );
}

function horizontalDistance(a: Vec3, b: Vec3): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

function placeHeadset(rand: () => number, arms: readonly ArmGeometry[], room: RoomSpec): Vec3 {
  const g = GNB_POSITION;
  const nearSomeArm = (p: Vec3) =>
    arms.some((a) => {
      const d = horizontalDistance(p, a.base.position);
      return d >= 0.5 && d <= 3;
    });
  const ok = (p: Vec3) => insideRoom(p, room) && clearOfArms(p, arms) && nearSomeArm(p);
  if (rand() < 0.3) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const arm = arms[Math.floor(rand() * arms.length)] as ArmGeometry;
      const link = arm.links[1 + Math.floor(rand() * (arm.links.length - 1))] ?? arm.links[0];
      if (!link) break;
      const t = rand();
      const p = {
        x: link.a.x + (link.b.x - link.a.x) * t + (rand() - 0.5) * 0.2,
        y: link.a.y + (link.b.y - link.a.y) * t + (rand() - 0.5) * 0.2,
        z: link.a.z + (link.b.z - link.a.z) * t + (rand() - 0.5) * 0.1,
      };
      if (p.z <= HEAD_MIN_Z + 0.02) continue;
      const z = HEAD_MIN_Z + rand() * (Math.min(HEAD_MAX_Z, p.z - 0.02) - HEAD_MIN_Z);
      // Continue the line gNB → p down to the head height z.
      const s = (g.z - z) / (g.z - p.z);
      const h = { x: g.x + (p.x - g.x) * s, y: g.y + (p.y - g.y) * s, z };
      if (ok(h)) return h;
    }
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const anchor = (rand() < 0.6 ? arms[0] : arms[Math.floor(rand() * arms.length)]) as ArmGeometry;
    const rho = 0.5 + rand() * 2.5;
    const phi = rand() * 2 * Math.PI;
    const h = {
      x: anchor.base.position.x + rho * Math.cos(phi),
      y: anchor.base.position.y + rho * Math.sin(phi),
      z: HEAD_MIN_Z + rand() * (HEAD_MAX_Z - HEAD_MIN_Z),
    };
    if (ok(h)) return h;
  }
  return { x: 1.5, y: 1.5, z: 1.6 };
}

// ---------------------------------------------------------------------------------------
// Feature encoder

const ARM_SLOTS = 3;
const PER_ARM = 8;
const GLOBAL = 22;
/** Length of {@link encodeEnvironment}'s vector. */
export const ENV_FEATURES = GLOBAL + ARM_SLOTS * PER_ARM;

/** Names of the features, in order (for docs and debugging). */
export const ENV_FEATURE_NAMES: readonly string[] = [
  "dx/5",
  "dy/5",
  "dz/5",
  "headset.x/3",
  "headset.y/3",
  "headset.z/3",
  "distance/6",
  "ln(distance)",
  "depression sin",
  "arms/3",
  ...["x-", "x+", "y-", "y+", "floor", "ceiling"].map((s) => `reflection ${s}: ln(L/d)`),
  ...["x-", "x+", "y-", "y+", "floor", "ceiling"].map((s) => `reflection ${s}: clearance/0.1`),
  ...Array.from({ length: ARM_SLOTS }, (_, k) =>
    [
      "present",
      "LoS clearance 1/0.1",
      "LoS clearance 2/0.1",
      "LoS clearance 3/0.1",
      "scatter power dB/10",
      "base–headset/3",
      "base–gNB/5",
      "surface–headset",
    ].map((n) => `arm ${k}: ${n}`),
  ).flat(),
];

/** Clearance (m) of a leg past a capsule: distance from its axis minus its radius. */
function clearance(
  p: Vec3,
  q: Vec3,
  l: { readonly a: Vec3; readonly b: Vec3; readonly r: number },
): number {
  return Math.sqrt(segDist2(p, q, l.a, l.b)) - l.r;
}

function clip(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * The conditioning vector of the channel agent: a fixed-length summary of the geometry
 * ({@link ENV_FEATURES} numbers, each O(1); names in {@link ENV_FEATURE_NAMES}).
 * Global: headset relative to the gNB (m/5), headset position (`world`, m/3), distance,
 * its log, the depression angle's sine, arm count; per room surface of the nominal room the
 * image path's log length ratio to the LoS and the smallest clearance of any arm link to
 * either leg of that path (m/0.1, clipped to [−0.6, 3]). Per arm (3 slots, the arm whose
 * links come closest to the LoS first; empty slots are zero): presence, the three smallest
 * LoS clearances of its links (m/0.1, clipped), the summed free-space power of its scattered
 * paths relative to the LoS (Σ (d/(d₁+d₂))², dB/10), base–headset and base–gNB horizontal
 * distances, and the distance from the headset to the arm's nearest link surface (m, ≤ 3).
 * What the room is made of (reflection losses, fixtures) is not encoded: the model learns
 * it from data, and re-learns it when the room changes (life-long adaptation).
 */
export function encodeEnvironment(env: RadioEnvironment): Float32Array {
  const out = new Float32Array(ENV_FEATURES);
  const g = env.gnb;
  const h = env.headset;
  const d = Math.max(1e-3, Math.hypot(h.x - g.x, h.y - g.y, h.z - g.z));
  out.set([
    (h.x - g.x) / 5,
    (h.y - g.y) / 5,
    (h.z - g.z) / 5,
    h.x / 3,
    h.y / 3,
    h.z / 3,
    d / 6,
    Math.log(d),
    (g.z - h.z) / d,
    env.arms.length / 3,
  ]);
  const room = DEFAULT_ROOM;
  const surfaces: { axis: "x" | "y" | "z"; at: number }[] = [
    { axis: "x", at: room.min.x },
    { axis: "x", at: room.max.x },
    { axis: "y", at: room.min.y },
    { axis: "y", at: room.max.y },
    { axis: "z", at: room.min.z },
    { axis: "z", at: room.max.z },
  ];
  const links = env.arms.flatMap((a) => a.links);
  surfaces.forEach((s, i) => {
    const image = { ...g, [s.axis]: 2 * s.at - g[s.axis] };
    const length = Math.hypot(h.x - image.x, h.y - image.y, h.z - image.z);
    out[10 + i] = Math.log(length / d);
    const denom = h[s.axis] - image[s.axis];
    const t = Math.abs(denom) > 1e-9 ? clip((s.at - image[s.axis]) / denom, 0, 1) : 0;
    const point = {
      x: image.x + (h.x - image.x) * t,
      y: image.y + (h.y - image.y) * t,
      z: image.z + (h.z - image.z) * t,
    };
    let c = Infinity;
    for (const l of links) c = Math.min(c, clearance(g, point, l), clearance(point, h, l));
    out[16 + i] = clip(c / 0.1, -0.6, 3);
  });
  const mid = { x: (g.x + h.x) / 2, y: (g.y + h.y) / 2, z: (g.z + h.z) / 2 };
  const summaries = env.arms.map((arm) => {
    const cl = arm.links.map((l) => clearance(g, h, l)).sort((a, b) => a - b);
    let scatter = 0;
    let surface = Infinity;
    for (const l of arm.links) {
      const axis = closestOnSegment(l.a, l.b, mid);
      const dx = mid.x - axis.x;
      const dy = mid.y - axis.y;
      const dz = mid.z - axis.z;
      const n = Math.hypot(dx, dy, dz) || 1;
      const s = {
        x: axis.x + (dx / n) * l.r,
        y: axis.y + (dy / n) * l.r,
        z: axis.z + (dz / n) * l.r,
      };
      const path =
        Math.hypot(s.x - g.x, s.y - g.y, s.z - g.z) + Math.hypot(h.x - s.x, h.y - s.y, h.z - s.z);
      scatter += (d / path) ** 2;
      surface = Math.min(surface, capsuleDistance(l, { a: h, b: h }) - l.r);
    }
    return { arm, cl, scatter, surface };
  });
  summaries.sort((a, b) => (a.cl[0] ?? Infinity) - (b.cl[0] ?? Infinity));
  summaries.slice(0, ARM_SLOTS).forEach((s, k) => {
    const o = GLOBAL + k * PER_ARM;
    const c = (j: number) => clip((s.cl[j] ?? 0.3) / 0.1, -0.6, 3);
    out.set(
      [
        1,
        c(0),
        c(1),
        c(2),
        (10 * Math.log10(Math.max(s.scatter, 1e-6))) / 10,
        horizontalDistance(s.arm.base.position, h) / 3,
        horizontalDistance(s.arm.base.position, g) / 5,
        clip(s.surface, 0, 3),
      ],
      o,
    );
  });
  return out;
}
