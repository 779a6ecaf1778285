/**
 * Evaluation of the pGF channel agent (definitions in server/ml/README.md):
 * - accuracy = 1 − NMAE of per-band capacity, NMAE = Σ|ĉ − c| / Σ|c| over environments × bands;
 * - NMSE = Σ(ĉ − c)² / Σc²;
 * - spectrum-utilisation accuracy: the share of each direction's capacity that a reference
 *   load takes, U = L / Σ_b c_b (downlink 400 Mbit/s, uplink 100 Mbit/s), predicted vs true,
 *   1 − Σ|Û − U| / Σ U over environments × directions;
 * - best-band agreement: how often the band with the highest predicted capacity of a
 *   direction is the truly best one (or within 2 % of it);
 * - inference time per prediction (single calls), p50 / p95 / mean, ms;
 * - adaptation: accuracy on a shifted room before and after the agent adapted to
 *   measurements from other environments of that room.
 */
import type { BandChannel, ChannelPrediction, RadioEnvironment } from "../net/contracts.ts";
import { DEFAULT_BANDS } from "../net/bands.ts";
import { measureChannel, type RoomSpec } from "../net/channel-model.ts";

/** What evaluatePgf needs of an agent. */
export interface ChannelPredictor {
  predict(env: RadioEnvironment): Promise<ChannelPrediction>;
  /** Optional batched path (used for the accuracy figures when present). */
  predictMany?(envs: readonly RadioEnvironment[]): ChannelPrediction[];
}

/** The ground truth of environment `i`. */
export type TruthFn = (env: RadioEnvironment, index: number) => readonly BandChannel[];

/** Reference loads of the spectrum-utilisation figure, bit/s. */
export const REFERENCE_LOAD_BPS = Object.freeze({ downlink: 400e6, uplink: 100e6 });

export interface PgfAccuracy {
  readonly environments: number;
  readonly bands: number;
  /** 1 − NMAE of per-band capacity. */
  readonly accuracy: number;
  readonly nmae: number;
  readonly nmse: number;
  /** 1 − normalised error of the per-direction spectrum utilisation of the reference load. */
  readonly utilisationAccuracy: number;
  /** Share of (environment, direction) pairs whose predicted best band is truly best (±2 %). */
  readonly bestBandAgreement: number;
  /** Mean absolute error of the band-mean SNR, dB. */
  readonly snrMaeDb: number;
  readonly perBand: readonly { readonly bandId: string; readonly accuracy: number }[];
  /** Wall time of single predictions, ms (from `timedPredictions` calls). */
  readonly inferenceMs: { readonly p50: number; readonly p95: number; readonly mean: number };
}

/**
 * Truth = ergodic capacity: the mean of `snapshots` fading draws of the channel model in
 * `room` (seeds disjoint from the training draws). With 64 draws the estimate's own noise
 * costs ≈ 0.01 of accuracy (32 draws ≈ 0.015).
 */
export function ergodicTruth(
  room?: RoomSpec,
  snapshots = 64,
  bands = DEFAULT_BANDS,
  seed = 0x3c6ef372,
): TruthFn {
  return (env, i) =>
    measureChannel(env, bands, {
      seed: (seed + i * 7919) >>> 0,
      snapshots,
      ...(room && { room }),
    });
}

/**
 * Accuracy figures of `agent` on `envs` against `truthFn` (see the module comment).
 * @param options.timedPredictions single `predict` calls timed for the latency figures
 *   (first ones after one warm-up call), default 50
 */
export async function evaluatePgf(
  agent: ChannelPredictor,
  envs: readonly RadioEnvironment[],
  truthFn: TruthFn,
  options: { timedPredictions?: number; batch?: number } = {},
): Promise<PgfAccuracy> {
  const truth = envs.map((e, i) => truthFn(e, i));
  const batch = options.batch ?? 64;
  const preds: ChannelPrediction[] = [];
  if (agent.predictMany) {
    for (let s = 0; s < envs.length; s += batch)
      preds.push(...agent.predictMany(envs.slice(s, s + batch)));
  } else {
    for (const e of envs) preds.push(await agent.predict(e));
  }
  const timed = Math.min(options.timedPredictions ?? 50, envs.length);
  const times: number[] = [];
  if (timed > 0) await agent.predict(envs[0] as RadioEnvironment);
  for (let i = 0; i < timed; i++) {
    const t0 = performance.now();
    await agent.predict(envs[i] as RadioEnvironment);
    times.push(performance.now() - t0);
  }
  const acc = accuracyOf(preds, truth);
  times.sort((a, b) => a - b);
  return {
    ...acc,
    inferenceMs: {
      p50: quantile(times, 0.5),
      p95: quantile(times, 0.95),
      mean: times.length ? times.reduce((a, b) => a + b, 0) / times.length : Number.NaN,
    },
  };
}

/** The accuracy figures of predictions against truths (same order, bands matched by id). */
export function accuracyOf(
  preds: readonly ChannelPrediction[],
  truth: readonly (readonly BandChannel[])[],
): Omit<PgfAccuracy, "inferenceMs"> {
  let abs = 0;
  let ref = 0;
  let sq = 0;
  let ref2 = 0;
  let snrAbs = 0;
  let pairs = 0;
  let uAbs = 0;
  let uRef = 0;
  let best = 0;
  let bestN = 0;
  const perBand = new Map<string, { abs: number; ref: number }>();
  const direction = new Map(DEFAULT_BANDS.map((b) => [b.id, b.direction]));
  preds.forEach((p, i) => {
    const t = truth[i] ?? [];
    const pById = new Map(p.bands.map((b) => [b.bandId, b]));
    const sums = {
      uplink: { p: 0, t: 0, bestP: -1, bestPId: "", bestT: -1, byId: new Map<string, number>() },
      downlink: { p: 0, t: 0, bestP: -1, bestPId: "", bestT: -1, byId: new Map<string, number>() },
    };
    for (const tb of t) {
      const pb = pById.get(tb.bandId);
      if (!pb) continue;
      const e = pb.capacityBps - tb.capacityBps;
      abs += Math.abs(e);
      ref += Math.abs(tb.capacityBps);
      sq += e * e;
      ref2 += tb.capacityBps * tb.capacityBps;
      snrAbs += Math.abs(pb.snrDb - tb.snrDb);
      pairs += 1;
      const pb2 = perBand.get(tb.bandId) ?? { abs: 0, ref: 0 };
      pb2.abs += Math.abs(e);
      pb2.ref += Math.abs(tb.capacityBps);
      perBand.set(tb.bandId, pb2);
      const dir = direction.get(tb.bandId);
      if (dir) {
        const s = sums[dir];
        s.p += pb.capacityBps;
        s.t += tb.capacityBps;
        s.byId.set(tb.bandId, tb.capacityBps);
        if (pb.capacityBps > s.bestP) {
          s.bestP = pb.capacityBps;
          s.bestPId = tb.bandId;
        }
        s.bestT = Math.max(s.bestT, tb.capacityBps);
      }
    }
    for (const dir of ["uplink", "downlink"] as const) {
      const s = sums[dir];
      if (s.t <= 0 || s.p <= 0) continue;
      const load = REFERENCE_LOAD_BPS[dir];
      uAbs += Math.abs(load / s.p - load / s.t);
      uRef += load / s.t;
      bestN += 1;
      if ((s.byId.get(s.bestPId) ?? 0) >= 0.98 * s.bestT) best += 1;
    }
  });
  const nmae = ref > 0 ? abs / ref : Number.NaN;
  return {
    environments: preds.length,
    bands: perBand.size,
    accuracy: 1 - nmae,
    nmae,
    nmse: ref2 > 0 ? sq / ref2 : Number.NaN,
    utilisationAccuracy: uRef > 0 ? 1 - uAbs / uRef : Number.NaN,
    bestBandAgreement: bestN ? best / bestN : Number.NaN,
    snrMaeDb: pairs ? snrAbs / pairs : Number.NaN,
    perBand: [...perBand].map(([bandId, v]) => ({ bandId, accuracy: 1 - v.abs / v.ref })),
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** What adaptationEval needs of an agent (ChannelAgent has it). */
export interface AdaptingPredictor extends ChannelPredictor {
  observe(
    env: RadioEnvironment,
    measured: readonly BandChannel[],
  ): { drift: number; adapted: boolean };
  whenIdle(): Promise<unknown>;
  adapt(): Promise<unknown>;
}

export interface AdaptationResult {
  /** Accuracy on the shifted evaluation environments before any measurement was fed. */
  readonly before: PgfAccuracy;
  /** The same after the agent adapted to measurements of other shifted environments. */
  readonly after: PgfAccuracy;
  /** Whether drift detection triggered the fine-tune by itself (else it was forced). */
  readonly triggered: boolean;
  /** Drift (window NMAE) reported by the last observation before adaptation. */
  readonly drift: number;
  /** The agent's adaptation report. */
  readonly report: unknown;
}

/**
 * Error on a shifted room before and after adaptation: feeds the measurements of
 * `observeEnvs` (truth from `observeTruth`, e.g. window-averaged measurements of the shifted
 * room) through `observe`, waits for the fine-tune (forcing one if drift did not trigger it),
 * and evaluates on the disjoint `evalEnvs`.
 */
export async function adaptationEval(
  agent: AdaptingPredictor,
  observeEnvs: readonly RadioEnvironment[],
  observeTruth: TruthFn,
  evalEnvs: readonly RadioEnvironment[],
  evalTruth: TruthFn,
): Promise<AdaptationResult> {
  const before = await evaluatePgf(agent, evalEnvs, evalTruth, { timedPredictions: 0 });
  let triggered = false;
  let drift = 0;
  for (let i = 0; i < observeEnvs.length; i++) {
    const env = observeEnvs[i] as RadioEnvironment;
    const r = agent.observe(env, observeTruth(env, i));
    drift = r.drift;
    if (r.adapted) triggered = true;
  }
  const report = triggered ? await agent.whenIdle() : await agent.adapt();
  const after = await evaluatePgf(agent, evalEnvs, evalTruth, { timedPredictions: 0 });
  return { before, after, triggered, drift, report };
}
