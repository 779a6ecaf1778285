/**
 * Ground-truth radio channel of the cell: a geometry-based multipath OFDM model between the
 * gNB and the headset, deterministic given a seed. Pure math (no TensorFlow.js); positions in
 * `world` (z up), m; frequencies Hz; delays s; powers dB/dBm.
 *
 * Paths (specular, from geometry):
 * - **LoS** gNB → headset.
 * - **Room reflections**: first-order image paths off the 4 walls, the floor and the ceiling of
 *   an axis-aligned room (the default cell is 6 × 6 × 3 m around the arm), reflection loss
 *   `L_s(f) = L_s(3.5 GHz) + slope · (f − 3.5 GHz)` per surface, phase inverted.
 * - **Arm scattering**: one single-bounce path per link capsule of every arm (and per static
 *   fixture of the room): the scatterer sits on the capsule surface at the point nearest the
 *   midpoint of the LoS segment; scattering loss 20 dB for a 0.3 m link (about the bistatic
 *   radar cross-section of a 0.12 m thick, 0.3 m long metal cylinder relative to the unfolded
 *   free-space path), 10·log10 of the link length ratio less for longer links (clamped to
 *   15–30 dB). The body the scatterer belongs to does not shadow its own scattered path.
 *
 * The gNB panel (a ceiling-corner small cell) is aimed at `room.gnbAimAt`; every path leaving
 * it at angle θ off boresight loses `min(12·(θ/65°)², 20)` dB (the 3GPP TR 38.901 element
 * pattern), so reflections off the walls behind it are weak.
 *
 * Every path's amplitude is the Friis free-space amplitude over its unfolded length,
 * `λ / (4π L)` (path loss `PL = 20·log10(4π L / λ) = 32.45 + 20·log10(L/m) + 20·log10(f/GHz)`
 * dB, i.e. the 3GPP InH/InF LoS form with the free-space exponent — the extra multipath gain
 * that the 3GPP fits fold into a lower exponent comes out of the explicit reflections here),
 * times its interaction losses, times the **blockage** of each of its legs.
 *
 * Blockage (diffraction-like): a leg passing at distance `d` from the axis of a capsule of
 * radius `r` is shadowed with normalised intrusion `u = clamp((r + λ/2 − d)/(r + λ/2), 0, 1)`
 * (the λ/2 margin is a first-Fresnel-zone-like shoulder, wider at lower frequency) and the
 * capsule's shadow `s(u) = u·(2 − u)` (0 clear … 1 on axis). The capsules of one body (arm or
 * fixture) combine as `s_body = 1 − Π(1 − s_link)`; the attenuation is
 * `A = Σ_bodies A_max(f)·s_body`, `A_max(f) = 18 + 10·log10(f/GHz)` dB (≈ 23 dB at 3.4 GHz,
 * 26 dB at 6.1 GHz: deeper shadows at higher frequency), capped at 40 dB per leg. Grazing a
 * link (`d = r`) costs ≈ 13–16 dB, a leg through its axis the full `A_max`.
 *
 * Small-scale fading (`fading: true`, seeded): every specular path gets an unknown extra
 * length uniform in [0, 0.15 m) (the headset and the operator move by more than a
 * wavelength within a measurement; its phase `2π f ΔL / c` is uniform in every band, and the
 * frequency slope across one band changes a little) and a log-normal amplitude (σ = 1 dB) on
 * the scattered paths; plus a diffuse (dense multipath) part of 16 Rayleigh components with
 * exponential power-delay profile (mean excess delay 20 ns) whose total power is
 * `K = 10 dB` below the *unblocked* LoS. The Rician K factor of the channel therefore is high
 * with a clear LoS and collapses to NLoS (Rayleigh-like) when an arm blocks it. Without
 * fading the specular channel is returned with geometric phases only (no diffuse part).
 *
 * Frequency response of subcarrier k: `H(f_k) = Σ_p a_p e^{−j2π f_k τ_p}` with `τ_p = L_p/c`;
 * `SNR_k = unitGainSnrDb(band) + 20·log10|H(f_k)|` (see bands.ts for the link budget);
 * band capacity `C = Σ_k Δf · log2(1 + SNR_k)`, `Δf = B / K`; band `snrDb` is the mean of the
 * per-subcarrier SNRs in dB.
 */
import type { Vec3 } from "../../shared/geometry.ts";
import { gaussianFrom, seededRandom } from "../sim/random.ts";
import {
  INTERFERENCE_RISE_DB,
  SPEED_OF_LIGHT,
  subcarrierHz,
  subcarrierSpacingHz,
  unitGainSnrDb,
} from "./bands.ts";
import type { Band, BandChannel, RadioEnvironment } from "./contracts.ts";

/** A capsule (segment `a`–`b` with radius `r`), `world`, m. */
export interface Capsule {
  readonly a: Vec3;
  readonly b: Vec3;
  readonly r: number;
}

/** The static room around the cell: reflecting surfaces, fixtures, diffuse multipath. */
export interface RoomSpec {
  /** Lower corner of the axis-aligned room, `world`, m. */
  readonly min: Vec3;
  /** Upper corner of the axis-aligned room, `world`, m. */
  readonly max: Vec3;
  /** Reflection loss of the 4 walls at 3.5 GHz, dB. */
  readonly wallLossDb: number;
  /** Reflection loss of the floor at 3.5 GHz, dB. */
  readonly floorLossDb: number;
  /** Reflection loss of the ceiling at 3.5 GHz, dB. */
  readonly ceilingLossDb: number;
  /** Growth of every reflection loss with frequency, dB per GHz above 3.5 GHz. */
  readonly reflectionSlopeDbPerGHz: number;
  /** Static metal objects (cabinets, cable trays): each blocks and scatters like an arm. */
  readonly fixtures: readonly Capsule[];
  /** Power of the diffuse part below the unblocked LoS, dB (the clear-LoS Rician K factor). */
  readonly diffuseKDb: number;
  /** Mean excess delay of the diffuse part, s. */
  readonly diffuseDelaySpreadS: number;
  /** Interference rise over thermal noise, dB. */
  readonly interferenceDb: number;
  /** Point the gNB's antenna panel is aimed at, `world`, m. */
  readonly gnbAimAt: Vec3;
}

/** The default cell: 6 × 6 × 3 m around the arm (base at `world` (0, 0, 0.8)), no fixtures. */
export const DEFAULT_ROOM: RoomSpec = Object.freeze({
  min: { x: -3, y: -3, z: 0 },
  max: { x: 3, y: 3, z: 3 },
  wallLossDb: 10,
  floorLossDb: 8,
  ceilingLossDb: 12,
  reflectionSlopeDbPerGHz: 1,
  fixtures: [],
  diffuseKDb: 10,
  diffuseDelaySpreadS: 20e-9,
  interferenceDb: INTERFERENCE_RISE_DB,
  gnbAimAt: { x: 0, y: 0, z: 1 },
});

/** A room with no reflecting surfaces and no diffuse part (free space; for tests). */
export const FREE_SPACE_ROOM: RoomSpec = Object.freeze({
  ...DEFAULT_ROOM,
  min: { x: -1e6, y: -1e6, z: -1e6 },
  max: { x: 1e6, y: 1e6, z: 1e6 },
  wallLossDb: Infinity,
  floorLossDb: Infinity,
  ceilingLossDb: Infinity,
  diffuseKDb: Infinity,
});

export interface ChannelOptions {
  /** Seed of the small-scale fading draw (ignored without fading). */
  readonly seed: number;
  /** Draw small-scale fading (random phases, diffuse part); false: geometric phases only. */
  readonly fading: boolean;
  /** The room; {@link DEFAULT_ROOM} when absent. */
  readonly room?: RoomSpec;
}

/** Half-power beamwidth of the gNB panel, degrees. */
const GNB_BEAMWIDTH_DEG = 65;
/** Front-to-back ratio of the gNB panel, dB. */
const GNB_BACKLOBE_DB = 20;
/** Blockage: maximum attenuation of one leg, dB. */
export const MAX_BLOCKAGE_DB = 40;
/** Scattering loss of a 0.3 m link, dB. */
const SCATTER_LOSS_REF_DB = 20;
const SCATTER_REF_LENGTH_M = 0.3;
/** Extra path length of the fading draw, m (uniform in [0, this)). */
const FADING_JITTER_M = 0.15;
/** Log-normal amplitude spread of scattered paths under fading, dB. */
const SCATTER_SHADOW_DB = 1;
/** Components of the diffuse part. */
const DIFFUSE_PATHS = 16;

/** Deepest shadow of one body at frequency `hz`, dB. */
export function maxBlockageDb(hz: number): number {
  return 18 + 10 * Math.log10(hz / 1e9);
}

/**
 * Shadow of one capsule on a leg: `s(u) = u·(2 − u)`, `u = clamp((r + λ/2 − d)/(r + λ/2))`.
 * @param distanceM distance from the capsule's axis segment to the leg, m
 * @param radiusM capsule radius, m
 * @param wavelengthM m
 * @returns 0 (clear) … 1 (through the axis)
 */
export function capsuleShadow(distanceM: number, radiusM: number, wavelengthM: number): number {
  const reach = radiusM + wavelengthM / 2;
  const u = Math.min(1, Math.max(0, (reach - distanceM) / reach));
  return u * (2 - u);
}

/** Capsules of the environment flattened: 7 numbers each (a, b, r) plus the owning body. */
interface CapsuleSet {
  readonly data: Float64Array;
  readonly body: Int32Array;
  readonly bodies: number;
  /** Scattering loss of each capsule, dB. */
  readonly scatterLossDb: Float64Array;
}

function capsuleSet(env: RadioEnvironment, room: RoomSpec): CapsuleSet {
  const list: { c: Capsule; body: number }[] = [];
  env.arms.forEach((arm, i) => {
    for (const l of arm.links) list.push({ c: l, body: i });
  });
  room.fixtures.forEach((f, i) => list.push({ c: f, body: env.arms.length + i }));
  const data = new Float64Array(list.length * 7);
  const body = new Int32Array(list.length);
  const scatterLossDb = new Float64Array(list.length);
  list.forEach(({ c, body: b }, i) => {
    data.set([c.a.x, c.a.y, c.a.z, c.b.x, c.b.y, c.b.z, c.r], i * 7);
    body[i] = b;
    const len = Math.hypot(c.b.x - c.a.x, c.b.y - c.a.y, c.b.z - c.a.z);
    scatterLossDb[i] = Math.min(
      30,
      Math.max(
        15,
        SCATTER_LOSS_REF_DB - 10 * Math.log10(Math.max(len, 0.02) / SCATTER_REF_LENGTH_M),
      ),
    );
  });
  return { data, body, bodies: env.arms.length + room.fixtures.length, scatterLossDb };
}

/**
 * Squared distance between segments p1–q1 and p2–q2 (Ericson, Real-Time Collision Detection
 * §5.1.9), m².
 */
export function segmentSegmentDistance2(
  p1x: number,
  p1y: number,
  p1z: number,
  q1x: number,
  q1y: number,
  q1z: number,
  p2x: number,
  p2y: number,
  p2z: number,
  q2x: number,
  q2y: number,
  q2z: number,
): number {
  const d1x = q1x - p1x;
  const d1y = q1y - p1y;
  const d1z = q1z - p1z;
  const d2x = q2x - p2x;
  const d2y = q2y - p2y;
  const d2z = q2z - p2z;
  const rx = p1x - p2x;
  const ry = p1y - p2y;
  const rz = p1z - p2z;
  const a = d1x * d1x + d1y * d1y + d1z * d1z;
  const e = d2x * d2x + d2y * d2y + d2z * d2z;
  const f = d2x * rx + d2y * ry + d2z * rz;
  const eps = 1e-12;
  let s: number;
  let t: number;
  if (a <= eps && e <= eps) return rx * rx + ry * ry + rz * rz;
  if (a <= eps) {
    s = 0;
    t = clamp01(f / e);
  } else {
    const c = d1x * rx + d1y * ry + d1z * rz;
    if (e <= eps) {
      t = 0;
      s = clamp01(-c / a);
    } else {
      const b = d1x * d2x + d1y * d2y + d1z * d2z;
      const denom = a * e - b * b;
      s = denom > eps * a * e ? clamp01((b * f - c * e) / denom) : 0;
      t = (b * s + f) / e;
      if (t < 0) {
        t = 0;
        s = clamp01(-c / a);
      } else if (t > 1) {
        t = 1;
        s = clamp01((b - c) / a);
      }
    }
  }
  const dx = p1x + d1x * s - (p2x + d2x * t);
  const dy = p1y + d1y * s - (p2y + d2y * t);
  const dz = p1z + d1z * s - (p2z + d2z * t);
  return dx * dx + dy * dy + dz * dz;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Distance from the segment p–q to capsule `i`'s axis, m. */
function legCapsuleDistance(set: CapsuleSet, i: number, p: Vec3, q: Vec3): number {
  const d = set.data;
  const o = i * 7;
  return Math.sqrt(
    segmentSegmentDistance2(
      p.x,
      p.y,
      p.z,
      q.x,
      q.y,
      q.z,
      d[o] as number,
      d[o + 1] as number,
      d[o + 2] as number,
      d[o + 3] as number,
      d[o + 4] as number,
      d[o + 5] as number,
    ),
  );
}

/**
 * Blockage of the leg p–q in each band, dB, added into `out` (capped at
 * {@link MAX_BLOCKAGE_DB} per leg). `skipBody` is the body whose capsule scatters the path.
 */
function addLegBlockage(
  set: CapsuleSet,
  p: Vec3,
  q: Vec3,
  wavelengths: Float64Array,
  maxDb: Float64Array,
  skipBody: number,
  out: Float64Array,
  clear: Float64Array,
): void {
  const n = set.body.length;
  if (n === 0) return;
  const nb = wavelengths.length;
  // clear[body * nb + band] = Π (1 − s_link) over the body's capsules.
  clear.fill(1, 0, set.bodies * nb);
  let touched = false;
  const maxLambda = Math.max(...wavelengths);
  for (let i = 0; i < n; i++) {
    if (set.body[i] === skipBody) continue;
    const r = set.data[i * 7 + 6] as number;
    const d = legCapsuleDistance(set, i, p, q);
    if (d >= r + maxLambda / 2) continue;
    touched = true;
    const b = set.body[i] as number;
    for (let k = 0; k < nb; k++) {
      const s = capsuleShadow(d, r, wavelengths[k] as number);
      clear[b * nb + k] = (clear[b * nb + k] as number) * (1 - s);
    }
  }
  if (!touched) return;
  for (let k = 0; k < nb; k++) {
    let shadow = 0;
    for (let b = 0; b < set.bodies; b++) shadow += 1 - (clear[b * nb + k] as number);
    out[k] = (out[k] as number) + Math.min(MAX_BLOCKAGE_DB, (maxDb[k] as number) * shadow);
  }
}

/** One specular path: unfolded length and per-band interaction + blockage loss. */
interface SpecularPath {
  lengthM: number;
  /** Loss beyond free space per band, dB. */
  lossDb: Float64Array;
  /** +1, or −1 for a reflection (phase inversion). */
  sign: number;
  /** Scattered path (gets log-normal amplitude under fading). */
  scattered: boolean;
}

/**
 * The specular paths of an environment (LoS, room reflections, arm and fixture scattering)
 * with their per-band losses. Exposed for the feature encoder and tests.
 */
export function specularPaths(
  env: RadioEnvironment,
  bands: readonly Band[],
  room: RoomSpec = DEFAULT_ROOM,
): SpecularPath[] {
  const set = capsuleSet(env, room);
  const nb = bands.length;
  const wavelengths = Float64Array.from(bands, (b) => SPEED_OF_LIGHT / b.centerHz);
  const maxDb = Float64Array.from(bands, (b) => maxBlockageDb(b.centerHz));
  const clear = new Float64Array(Math.max(1, set.bodies) * nb);
  const g = env.gnb;
  const h = env.headset;
  const paths: SpecularPath[] = [];

  const aim = sub(room.gnbAimAt, g);
  const aimNorm = Math.hypot(aim.x, aim.y, aim.z) || 1;
  /** gNB element pattern loss towards `p`, dB (3GPP TR 38.901 form, 65° beamwidth). */
  const patternDb = (p: Vec3): number => {
    const d = sub(p, g);
    const n = Math.hypot(d.x, d.y, d.z) * aimNorm;
    if (n < 1e-12) return 0;
    const cos = (d.x * aim.x + d.y * aim.y + d.z * aim.z) / n;
    const theta = (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
    return Math.min(12 * (theta / GNB_BEAMWIDTH_DEG) ** 2, GNB_BACKLOBE_DB);
  };

  const los = new Float64Array(nb).fill(patternDb(h));
  addLegBlockage(set, g, h, wavelengths, maxDb, -1, los, clear);
  paths.push({ lengthM: dist(g, h), lossDb: los, sign: 1, scattered: false });

  // Image method: mirror the gNB in each surface plane; the reflection point lies on the
  // segment image → headset and, both ends being inside the box, within the surface.
  const surfaces: { axis: "x" | "y" | "z"; at: number; lossDb: number }[] = [
    { axis: "x", at: room.min.x, lossDb: room.wallLossDb },
    { axis: "x", at: room.max.x, lossDb: room.wallLossDb },
    { axis: "y", at: room.min.y, lossDb: room.wallLossDb },
    { axis: "y", at: room.max.y, lossDb: room.wallLossDb },
    { axis: "z", at: room.min.z, lossDb: room.floorLossDb },
    { axis: "z", at: room.max.z, lossDb: room.ceilingLossDb },
  ];
  for (const s of surfaces) {
    if (!Number.isFinite(s.lossDb)) continue;
    const image = { ...g, [s.axis]: 2 * s.at - g[s.axis] };
    const denom = h[s.axis] - image[s.axis];
    if (Math.abs(denom) < 1e-9) continue;
    const t = (s.at - image[s.axis]) / denom;
    if (t <= 0 || t >= 1) continue;
    const point = lerp(image, h, t);
    const pattern = patternDb(point);
    const loss = Float64Array.from(
      bands,
      (b) => pattern + s.lossDb + room.reflectionSlopeDbPerGHz * (b.centerHz / 1e9 - 3.5),
    );
    addLegBlockage(set, g, point, wavelengths, maxDb, -1, loss, clear);
    addLegBlockage(set, point, h, wavelengths, maxDb, -1, loss, clear);
    paths.push({ lengthM: dist(image, h), lossDb: loss, sign: -1, scattered: false });
  }

  // Single-bounce scattering off every capsule, at its surface point nearest the LoS midpoint.
  const mid = lerp(g, h, 0.5);
  for (let i = 0; i < set.body.length; i++) {
    const o = i * 7;
    const d = set.data;
    const a = { x: d[o] as number, y: d[o + 1] as number, z: d[o + 2] as number };
    const b = { x: d[o + 3] as number, y: d[o + 4] as number, z: d[o + 5] as number };
    const r = d[o + 6] as number;
    const axisPoint = closestOnSegment(a, b, mid);
    const toMid = sub(mid, axisPoint);
    const n = Math.hypot(toMid.x, toMid.y, toMid.z);
    const scatterer =
      n > 1e-9
        ? {
            x: axisPoint.x + (toMid.x / n) * r,
            y: axisPoint.y + (toMid.y / n) * r,
            z: axisPoint.z + (toMid.z / n) * r,
          }
        : axisPoint;
    const loss = new Float64Array(nb).fill((set.scatterLossDb[i] as number) + patternDb(scatterer));
    const own = set.body[i] as number;
    addLegBlockage(set, g, scatterer, wavelengths, maxDb, own, loss, clear);
    addLegBlockage(set, scatterer, h, wavelengths, maxDb, own, loss, clear);
    paths.push({
      lengthM: dist(g, scatterer) + dist(scatterer, h),
      lossDb: loss,
      sign: 1,
      scattered: true,
    });
  }
  return paths;
}

/** Closest a headset may be to the gNB antenna for the far-field model to hold, m. */
export const MIN_GNB_DISTANCE_M = 0.1;

/**
 * What makes `env` unusable for the channel model or a channel estimator, one line each
 * (empty when usable): a non-finite coordinate, or the headset within
 * {@link MIN_GNB_DISTANCE_M} of the gNB (no far field; path loss undefined at 0 m).
 */
export function radioEnvironmentProblems(env: RadioEnvironment): string[] {
  const bad: string[] = [];
  const finite = (v: Vec3) => Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z);
  if (!finite(env.gnb)) bad.push("gnb position is not finite");
  if (!finite(env.headset)) bad.push("headset position is not finite");
  for (const arm of env.arms) {
    const p = arm.base.position;
    if (!finite(p) || arm.links.some((l) => !finite(l.a) || !finite(l.b) || !(l.r >= 0))) {
      bad.push(`arm ${arm.id} geometry is not finite`);
    }
  }
  if (bad.length === 0) {
    const d = Math.hypot(
      env.headset.x - env.gnb.x,
      env.headset.y - env.gnb.y,
      env.headset.z - env.gnb.z,
    );
    if (d < MIN_GNB_DISTANCE_M) {
      bad.push(`headset ${d.toFixed(3)} m from the gnb (at least ${MIN_GNB_DISTANCE_M} m)`);
    }
  }
  return bad;
}

/** @throws RangeError naming every {@link radioEnvironmentProblems} of `env` */
export function checkRadioEnvironment(env: RadioEnvironment): void {
  const bad = radioEnvironmentProblems(env);
  if (bad.length > 0) throw new RangeError(`invalid radio environment: ${bad.join("; ")}`);
}

/**
 * The channel of every band between the gNB and the headset (see the module comment).
 * Pure and deterministic: the same environment, bands and options give the same result.
 * @returns one {@link BandChannel} per band, in band order, with `subcarrierSnrDb`
 */
export function computeChannel(
  env: RadioEnvironment,
  bands: readonly Band[],
  options: ChannelOptions,
): BandChannel[] {
  checkRadioEnvironment(env);
  const room = options.room ?? DEFAULT_ROOM;
  const paths = specularPaths(env, bands, room);
  const rand = seededRandom(options.seed);
  const gauss = gaussianFrom(rand);
  const fading = options.fading;
  // Fading draw (identical for every band so bands of one snapshot stay consistent).
  const jitter = paths.map(() => (fading ? rand() * FADING_JITTER_M : 0));
  const shadow = paths.map((p) =>
    fading && p.scattered ? 10 ** ((gauss() * SCATTER_SHADOW_DB) / 20) : 1,
  );
  const los0 = paths[0]?.lengthM ?? 1;
  const diffuse: { delayS: number; re: number; im: number }[] = [];
  if (fading && Number.isFinite(room.diffuseKDb)) {
    let total = 0;
    const raw: { delayS: number; p: number }[] = [];
    for (let i = 0; i < DIFFUSE_PATHS; i++) {
      const excess = -room.diffuseDelaySpreadS * Math.log(1 - rand());
      const p = Math.exp(-excess / room.diffuseDelaySpreadS);
      raw.push({ delayS: los0 / SPEED_OF_LIGHT + excess, p });
      total += p;
    }
    const k = 10 ** (-room.diffuseKDb / 10);
    for (const r of raw) {
      // Complex Gaussian with variance k·p/total relative to the unblocked LoS power.
      const sigma = Math.sqrt((k * r.p) / total / 2);
      diffuse.push({ delayS: r.delayS, re: gauss() * sigma, im: gauss() * sigma });
    }
  }

  return bands.map((band, bi) => {
    const lambda = SPEED_OF_LIGHT / band.centerHz;
    const base = unitGainSnrDb(band, room.interferenceDb);
    const amp = paths.map(
      (p, pi) =>
        (lambda / (4 * Math.PI * p.lengthM)) *
        10 ** (-(p.lossDb[bi] as number) / 20) *
        p.sign *
        (shadow[pi] as number),
    );
    const delay = paths.map((p, pi) => (p.lengthM + (jitter[pi] as number)) / SPEED_OF_LIGHT);
    const losAmp = lambda / (4 * Math.PI * los0);
    const snr: number[] = [];
    for (let k = 0; k < band.subcarriers; k++) {
      const f = subcarrierHz(band, k);
      let re = 0;
      let im = 0;
      for (let p = 0; p < amp.length; p++) {
        const ph = -2 * Math.PI * f * (delay[p] as number);
        re += (amp[p] as number) * Math.cos(ph);
        im += (amp[p] as number) * Math.sin(ph);
      }
      for (const d of diffuse) {
        const ph = -2 * Math.PI * f * d.delayS;
        const c = Math.cos(ph);
        const s = Math.sin(ph);
        re += losAmp * (d.re * c - d.im * s);
        im += losAmp * (d.re * s + d.im * c);
      }
      const gain = Math.max(re * re + im * im, 1e-30);
      snr.push(base + 10 * Math.log10(gain));
    }
    return bandChannel(band, snr);
  });
}

/**
 * A measurement as a receiver would report it over a window: the mean of `snapshots`
 * independent fading draws (seeds `seed`, `seed + 1`, …) — capacity and per-subcarrier SNR
 * (dB) averaged over the snapshots. This is the "measured" truth of the evaluation.
 */
export function measureChannel(
  env: RadioEnvironment,
  bands: readonly Band[],
  options: { readonly seed: number; readonly snapshots: number; readonly room?: RoomSpec },
): BandChannel[] {
  const n = Math.max(1, Math.floor(options.snapshots));
  const sums = bands.map((b) => ({ cap: 0, sc: new Float64Array(b.subcarriers) }));
  for (let i = 0; i < n; i++) {
    const snap = computeChannel(env, bands, {
      seed: options.seed + i * 0x9e37,
      fading: true,
      ...(options.room && { room: options.room }),
    });
    snap.forEach((c, bi) => {
      const s = sums[bi] as { cap: number; sc: Float64Array };
      s.cap += c.capacityBps;
      c.subcarrierSnrDb?.forEach((v, k) => (s.sc[k] = (s.sc[k] as number) + v));
    });
  }
  return bands.map((band, bi) => {
    const s = sums[bi] as { cap: number; sc: Float64Array };
    const sc = Array.from(s.sc, (v) => v / n);
    return {
      bandId: band.id,
      snrDb: mean(sc),
      capacityBps: s.cap / n,
      subcarrierSnrDb: sc,
    };
  });
}

/**
 * Shannon capacity of a band from its per-subcarrier SNRs: `Σ_k Δf · log2(1 + SNR_k)`, bit/s.
 * @param snrDb per-subcarrier SNR, dB (its length is the number of modelled subcarriers)
 * @param bandwidthHz the band's occupied bandwidth, Hz (Δf = bandwidth / subcarriers)
 */
export function capacityFromSnr(snrDb: ArrayLike<number>, bandwidthHz: number): number {
  const df = bandwidthHz / snrDb.length;
  let c = 0;
  for (let k = 0; k < snrDb.length; k++) c += df * Math.log2(1 + 10 ** ((snrDb[k] as number) / 10));
  return c;
}

/** A {@link BandChannel} from per-subcarrier SNRs, dB. */
export function bandChannel(band: Band, snrDb: readonly number[]): BandChannel {
  return {
    bandId: band.id,
    snrDb: mean(snrDb),
    capacityBps: capacityFromSnr(snrDb, band.bandwidthHz),
    subcarrierSnrDb: snrDb,
  };
}

/** Δf of a band, Hz (re-exported for callers that build channels by hand). */
export { subcarrierSpacingHz };

function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] as number;
  return v.length ? s / v.length : 0;
}

function dist(a: Vec3, b: Vec3): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}

function sub(a: Vec3, b: Vec3): Vec3 {
  return { x: a.x - b.x, y: a.y - b.y, z: a.z - b.z };
}

function lerp(a: Vec3, b: Vec3, t: number): Vec3 {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, z: a.z + (b.z - a.z) * t };
}

/** Closest point to `p` on the segment a–b. */
export function closestOnSegment(a: Vec3, b: Vec3, p: Vec3): Vec3 {
  const d = sub(b, a);
  const len2 = d.x * d.x + d.y * d.y + d.z * d.z;
  const t =
    len2 > 1e-12 ? clamp01(((p.x - a.x) * d.x + (p.y - a.y) * d.y + (p.z - a.z) * d.z) / len2) : 0;
  return lerp(a, b, t);
}
