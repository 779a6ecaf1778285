/**
 * Accuracy part of `npm run bench:agentnet`, on environments and scenarios never used in
 * training: the channel agent (per-band capacity against the channel model's ergodic
 * truth, float16/uint8 weights, adaptation to a refitted room) and the traffic agent
 * (bandwidth demand against measured held-out traces, quantised weights, adaptation to
 * shifted traffic). Definitions: server/ml/README.md and README.md.
 *
 * The pGF table carries its no-ML baselines in the same rows: a per-band constant (the mean
 * ergodic capacity and SNR of each band over training-set environments) and the physics
 * fallback (the channel model without fading); an accuracy figure means little without them.
 */
import { ChannelAgent } from "../../server/agents/channel-agent.ts";
import { DEFAULT_BANDS } from "../../server/net/bands.ts";
import { computeChannel, measureChannel } from "../../server/net/channel-model.ts";
import type { BandChannel, ChannelPrediction } from "../../server/net/contracts.ts";
import {
  generateEnvironments,
  HELD_OUT_SEED,
  SHIFTED_ROOM,
  SHIFTED_SEED,
  TRAIN_SEED,
} from "../../server/net/environments.ts";
import {
  accuracyOf,
  adaptationEval,
  ergodicTruth,
  evaluatePgf,
  type PgfAccuracy,
} from "../../server/ml/pgf-eval.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";
import { runNgfAccuracy } from "./agentnet-ngf-accuracy.ts";

const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

/** A row of the pGF table; no-ML baselines have no inference time. */
function summary(a: Omit<PgfAccuracy, "inferenceMs"> & Partial<Pick<PgfAccuracy, "inferenceMs">>) {
  return {
    learned: a.inferenceMs !== undefined,
    accuracy: round(a.accuracy),
    nmse: Number(a.nmse.toExponential(3)),
    utilisationAccuracy: round(a.utilisationAccuracy),
    bestBandAgreement: round(a.bestBandAgreement, 3),
    snrMaeDb: round(a.snrMaeDb, 2),
    ...(a.inferenceMs && {
      inferenceMs: { p50: round(a.inferenceMs.p50, 2), p95: round(a.inferenceMs.p95, 2) },
    }),
  };
}

const prediction = (bands: readonly BandChannel[], source: string): ChannelPrediction => ({
  bands,
  inferenceMs: 0,
  source,
});

/** Each band's mean capacity and SNR over the truths of `fit` (one prediction for every environment). */
function perBandConstant(fit: readonly (readonly BandChannel[])[]): BandChannel[] {
  return DEFAULT_BANDS.map((b) => {
    const xs = fit.flatMap((t) => t.filter((c) => c.bandId === b.id));
    const n = Math.max(1, xs.length);
    return {
      bandId: b.id,
      capacityBps: xs.reduce((a, c) => a + c.capacityBps, 0) / n,
      snrDb: xs.reduce((a, c) => a + c.snrDb, 0) / n,
    };
  });
}

export async function runAccuracyBench(options: {
  quick: boolean;
}): Promise<Record<string, unknown>> {
  const robot = await loadRobotDescription({
    robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
  });
  const kin = robot.kinematics;
  const n = options.quick ? 60 : 300;
  const heldOut = generateEnvironments(kin, n, { seed: HELD_OUT_SEED });
  const truth = ergodicTruth(undefined, options.quick ? 16 : 64);
  const cache = heldOut.map((e, i) => truth(e, i));
  const cached = (_: unknown, i: number) => cache[i] ?? [];
  const pgf: Record<string, unknown> = { environments: n };
  // No-ML baselines on the same held-out environments and truth.
  const fitEnvs = generateEnvironments(kin, options.quick ? 60 : 150, { seed: TRAIN_SEED });
  const fitTruth = ergodicTruth(undefined, 16, DEFAULT_BANDS, 0x0c0575);
  const constant = perBandConstant(fitEnvs.map((e, i) => fitTruth(e, i)));
  pgf["per-band constant (training envs, no ML)"] = summary(
    accuracyOf(
      heldOut.map(() => prediction(constant, "per-band-constant")),
      cache,
    ),
  );
  pgf["physics fallback (no fading, no ML)"] = summary(
    accuracyOf(
      heldOut.map((e) =>
        prediction(computeChannel(e, DEFAULT_BANDS, { seed: 1, fading: false }), "channel-model"),
      ),
      cache,
    ),
  );
  for (const [name, dir, estimator] of [
    ["float32 (mean estimator, as deployed)", "assets/models/pgf", "mean"],
    ["float32 (mean of samples)", "assets/models/pgf", "samples"],
    ["float16", "assets/models/pgf-f16", "mean"],
    ["uint8", "assets/models/pgf-u8", "mean"],
  ] as const) {
    const agent = await ChannelAgent.load(dir, { estimator });
    pgf[name] = summary(
      await evaluatePgf(agent, heldOut, cached, { timedPredictions: options.quick ? 20 : 100 }),
    );
    agent.dispose();
  }
  const shifted = generateEnvironments(kin, options.quick ? 104 : 264, { seed: SHIFTED_SEED });
  const agent = await ChannelAgent.load("assets/models/pgf", { estimator: "mean" });
  const adaptation = await adaptationEval(
    agent,
    shifted.slice(0, 64),
    (e, i) =>
      measureChannel(e, DEFAULT_BANDS, { seed: 0xada + i * 31, snapshots: 16, room: SHIFTED_ROOM }),
    shifted.slice(64),
    ergodicTruth(SHIFTED_ROOM, options.quick ? 16 : 64),
  );
  agent.dispose();
  pgf.adaptation = {
    before: round(adaptation.before.accuracy),
    after: round(adaptation.after.accuracy),
    triggeredByDrift: adaptation.triggered,
  };
  return { pgf, ngf: await runNgfAccuracy(options) };
}
