/**
 * Evaluation data sets of the channel agent's two predictive tasks, kept apart from the
 * runtime code. Pure (no TensorFlow.js): every environment is built from the Panda's
 * kinematics and the project's own channel model (server/net/channel-model.ts) is the truth.
 *
 * - **What-if**: a pair (before, after) of environments around a change nobody measured yet;
 *   the controller knows the `after` geometry (the twin holds it) and one measurement of
 *   `before`. Kinds:
 *   - `arm-added`: a second or third arm placed beside the cell (the generator's own
 *     placement, {@link generateEnvironment}); before = the same cell without it.
 *   - `plan-through-los`: an approved plan moves the cell's arm from q₀ to q₁ through a pose
 *     whose links cross the gNB → headset line of sight; before = q₀, after = the crossing.
 *   - `headset-behind`: the headset walks from a clear spot to one behind an arm link.
 * - **Ahead**: a track of environments every `dtS` seconds along an approved trajectory
 *   (`arm-trajectory`, the arm moves 0.5 s after the start for 3 s) or a headset's walk
 *   (`headset-path`, 0.6–1.2 m/s); every step has a measurement (mean of a few fading draws,
 *   as a receiver's CQI report over a window) and the task is the measured capacity 0.5–2 s
 *   later, knowing the future geometry but no future measurement.
 *
 * Seeds: the sets of {@link TASK_SEEDS} are disjoint from each other and from the model's
 * training environments (they are built on other streams than environments.ts uses).
 */
import type { Vec3 } from "../../../shared/geometry.ts";
import type { ArmKinematics } from "../../sim/kinematics.ts";
import { seededRandom } from "../../sim/random.ts";
import { armGeometry } from "../../net/arm-geometry.ts";
import { DEFAULT_BANDS } from "../../net/bands.ts";
import { computeChannel, measureChannel } from "../../net/channel-model.ts";
import type { ArmGeometry, Band, RadioEnvironment } from "../../net/contracts.ts";
import {
  aboveTable,
  clearOfArms,
  generateEnvironment,
  GNB_POSITION,
  HEAD_MAX_Z,
  HEAD_MIN_Z,
  insideRoom,
  readyPose,
} from "../../net/environments.ts";

/** Seeds of the task sets: `fit` tunes the baselines' parameters, `heldOut` is reported. */
export const TASK_SEEDS = Object.freeze({ fit: 7_000_001, heldOut: 9_000_011 });

/** Kinds of what-if change. */
export type WhatIfKind = "arm-added" | "plan-through-los" | "headset-behind";
/** Kinds of ahead track. */
export type TrackKind = "arm-trajectory" | "headset-path";

/** One unmeasured change. */
export interface WhatIfCase {
  readonly kind: WhatIfKind;
  readonly before: RadioEnvironment;
  readonly after: RadioEnvironment;
}

/** Environments every `dtS` seconds along a known motion. */
export interface AheadTrack {
  readonly kind: TrackKind;
  readonly dtS: number;
  readonly envs: readonly RadioEnvironment[];
}

function mix(seed: number, index: number, salt: number): number {
  let h = (seed ^ Math.imul(salt + 1, 0x27d4eb2d)) >>> 0;
  h = Math.imul(h ^ (index + 0x165667b1), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Joint values (group order, rad) within ±60 % of each joint's half-range around ready. */
function randomQ(kin: ArmKinematics, rand: () => number): Float64Array {
  const r = readyPose(kin);
  return Float64Array.from(r, (v, j) => {
    const lo = kin.lower[j] as number;
    const hi = kin.upper[j] as number;
    // Plans stay in the useful part of the workspace: ±60 % of the range around ready.
    const x = v + (rand() * 2 - 1) * 0.6 * (hi - lo) * 0.5;
    return Math.min(hi, Math.max(lo, x));
  });
}

/** A head position (`world`, m) whose LoS to the gNB crosses `arm`'s links (behind it), or undefined. */
function behind(arm: ArmGeometry, rand: () => number): Vec3 | undefined {
  const g = GNB_POSITION;
  for (let attempt = 0; attempt < 40; attempt++) {
    const link = arm.links[1 + Math.floor(rand() * (arm.links.length - 1))];
    if (!link) return undefined;
    const t = 0.15 + 0.7 * rand();
    const p = {
      x: link.a.x + (link.b.x - link.a.x) * t,
      y: link.a.y + (link.b.y - link.a.y) * t,
      z: link.a.z + (link.b.z - link.a.z) * t,
    };
    if (p.z <= HEAD_MIN_Z + 0.05) continue;
    const z = HEAD_MIN_Z + rand() * (Math.min(HEAD_MAX_Z, p.z - 0.03) - HEAD_MIN_Z);
    const s = (g.z - z) / (g.z - p.z);
    const h = { x: g.x + (p.x - g.x) * s, y: g.y + (p.y - g.y) * s, z };
    const d = Math.hypot(h.x - arm.base.position.x, h.y - arm.base.position.y);
    if (insideRoom(h) && d > 0.5 && d < 3) return h;
  }
  return undefined;
}

/** Smooth 0 → 1 ramp over t ∈ [0, 1] (clamped outside). */
export function smoothstep(t: number): number {
  const x = Math.min(1, Math.max(0, t));
  return x * x * (3 - 2 * x);
}

/**
 * One try at a plan of `main` from a random q₀ to a random q₁ (both from `rand`) that stays
 * above its table, with a head position behind the arm's pose at `uHead` (0: q₀, 1: q₁)
 * that every pose of the motion leaves clear (also of `others`); `undefined` if this try
 * fails. `at(u)` is the arm's geometry at u ∈ [0, 1] along the straight joint-space path.
 */
export function tryPlanThroughLos(
  kin: ArmKinematics,
  main: ArmGeometry,
  others: readonly ArmGeometry[],
  rand: () => number,
  uHead: number,
): { at: (u: number) => ArmGeometry; head: Vec3 } | undefined {
  const q0 = randomQ(kin, rand);
  const q1 = randomQ(kin, rand);
  const at = (u: number) =>
    armGeometry(
      kin,
      Float64Array.from(q0, (a, j) => a + ((q1[j] as number) - a) * u),
      main.base,
      main.id,
    );
  const poses = Array.from({ length: 11 }, (_, k) => at(k / 10));
  if (!poses.every((p) => aboveTable(p, main.base.position.z))) return undefined;
  const head = behind(at(uHead), rand);
  if (!head || !poses.every((p) => clearOfArms(head, [p, ...others]))) return undefined;
  return { at, head };
}

/** The cell's arm moving q₀ → q₁ through a pose blocking the LoS; `undefined` if not found. */
function armPlan(
  kin: ArmKinematics,
  seed: number,
  index: number,
  dtS: number,
  durationS: number,
): { envs: RadioEnvironment[]; crossing: number } | undefined {
  const base = generateEnvironment(kin, seed, index);
  const rand = seededRandom(mix(seed, index, 1));
  const main = base.arms[0] as ArmGeometry;
  const others = base.arms.slice(1);
  for (let attempt = 0; attempt < 30; attempt++) {
    const plan = tryPlanThroughLos(kin, main, others, rand, 0.5);
    if (!plan) continue;
    const { at, head } = plan;
    const steps = Math.round(durationS / dtS) + 1;
    const envs: RadioEnvironment[] = [];
    for (let i = 0; i < steps; i++) {
      const u = smoothstep((i * dtS - 0.5) / (durationS - 1));
      envs.push({ gnb: { ...GNB_POSITION }, headset: head, arms: [at(u), ...others] });
    }
    // The step nearest the middle of the motion (u = 0.5).
    const crossing = Math.round((0.5 + (durationS - 1) / 2) / dtS);
    return { envs, crossing };
  }
  return undefined;
}

/** A headset walking through a spot behind an arm link; `undefined` if not found. */
function headsetWalk(
  kin: ArmKinematics,
  seed: number,
  index: number,
  dtS: number,
  durationS: number,
): { envs: RadioEnvironment[]; crossing: number } | undefined {
  const base = generateEnvironment(kin, seed, index);
  const rand = seededRandom(mix(seed, index, 2));
  for (let attempt = 0; attempt < 30; attempt++) {
    const arm = base.arms[Math.floor(rand() * base.arms.length)] as ArmGeometry;
    const target = behind(arm, rand);
    if (!target) continue;
    const speed = 0.6 + 0.6 * rand();
    const phi = rand() * 2 * Math.PI;
    const dir = { x: Math.cos(phi), y: Math.sin(phi) };
    // The target is passed 55–75 % of the way through the walk.
    const tCross = durationS * (0.55 + 0.2 * rand());
    const steps = Math.round(durationS / dtS) + 1;
    const heads: Vec3[] = [];
    for (let i = 0; i < steps; i++) {
      const s = (i * dtS - tCross) * speed;
      heads.push({ x: target.x + dir.x * s, y: target.y + dir.y * s, z: target.z });
    }
    if (!heads.every((h) => insideRoom(h) && clearOfArms(h, base.arms))) continue;
    return {
      envs: heads.map((h) => ({ gnb: base.gnb, headset: h, arms: base.arms })),
      crossing: Math.round(tCross / dtS),
    };
  }
  return undefined;
}

/** `count` what-if cases, the three kinds in turn (see the module comment). */
export function whatIfCases(kin: ArmKinematics, count: number, seed: number): WhatIfCase[] {
  const out: WhatIfCase[] = [];
  const kinds: WhatIfKind[] = ["arm-added", "plan-through-los", "headset-behind"];
  for (let i = 0; out.length < count && i < count * 20; i++) {
    const kind = kinds[out.length % 3] as WhatIfKind;
    if (kind === "arm-added") {
      const env = generateEnvironment(kin, mix(seed, i, 3), i);
      if (env.arms.length < 2) continue;
      out.push({ kind, before: { ...env, arms: env.arms.slice(0, -1) }, after: env });
    } else {
      const track =
        kind === "plan-through-los"
          ? armPlan(kin, mix(seed, i, 4), i, 0.1, 4)
          : headsetWalk(kin, mix(seed, i, 5), i, 0.1, 4);
      if (!track) continue;
      out.push({
        kind,
        before: track.envs[0] as RadioEnvironment,
        after: track.envs[track.crossing] as RadioEnvironment,
      });
    }
  }
  return out;
}

/** `count` ahead tracks of `durationS` s every `dtS` s, the two kinds in turn. */
export function aheadTracks(
  kin: ArmKinematics,
  count: number,
  seed: number,
  options: { dtS?: number; durationS?: number } = {},
): AheadTrack[] {
  const dtS = options.dtS ?? 0.1;
  const durationS = options.durationS ?? 4;
  const out: AheadTrack[] = [];
  for (let i = 0; out.length < count && i < count * 20; i++) {
    const kind: TrackKind = out.length % 2 === 0 ? "arm-trajectory" : "headset-path";
    const t =
      kind === "arm-trajectory"
        ? armPlan(kin, mix(seed, i, 6), i, dtS, durationS)
        : headsetWalk(kin, mix(seed, i, 7), i, dtS, durationS);
    if (t) out.push({ kind, dtS, envs: t.envs });
  }
  return out;
}

/** Per-band capacity, bit/s, in band order. */
export type Capacities = Float64Array;

/**
 * What a receiver reports for `env`: the mean capacity of `snapshots` fading draws (a CQI
 * report averaged over a short window), per band, bit/s.
 */
export function measuredCapacity(
  env: RadioEnvironment,
  seed: number,
  snapshots = 8,
  bands: readonly Band[] = DEFAULT_BANDS,
): Capacities {
  return Float64Array.from(
    measureChannel(env, bands, { seed: seed >>> 0, snapshots }),
    (c) => c.capacityBps,
  );
}

/** One fading realisation's capacity per band (what one scheduling slot gets), bit/s. */
export function snapshotCapacity(
  env: RadioEnvironment,
  seed: number,
  bands: readonly Band[] = DEFAULT_BANDS,
): Capacities {
  return Float64Array.from(
    computeChannel(env, bands, { seed: seed >>> 0, fading: true }),
    (c) => c.capacityBps,
  );
}

/** The physics fallback: the channel model without fading (geometry only), bit/s per band. */
export function physicsCapacity(
  env: RadioEnvironment,
  bands: readonly Band[] = DEFAULT_BANDS,
): Capacities {
  return Float64Array.from(
    computeChannel(env, bands, { seed: 1, fading: false }),
    (c) => c.capacityBps,
  );
}
