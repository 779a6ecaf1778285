/**
 * Trains the pGF channel agent's diffusion model on data from the channel model and ships
 * it: `npm run train:pgf` (deterministic seeds; minutes on 2 CPU cores with the wasm backend).
 *
 * 1. Training data: `--envs` environments of the training set (TRAIN_SEED), `--snapshots`
 *    fading draws each (fading on: the model learns the distribution of the channel).
 * 2. Training: DDPM ε-prediction, Adam (cosine decay, warm-up), weight EMA; loss curve and
 *    validation accuracy (ergodic truth) printed as it goes.
 * 3. Output: `assets/models/pgf` (float32), `assets/models/pgf-f16`, `assets/models/pgf-u8`,
 *    each with the config (hyper-parameters, bands, normalisation) and metadata (training
 *    and evaluation figures) in model.json, and 512 training conditions (`replay/cond`) for
 *    the agent's self-replay during adaptation.
 * 4. Evaluation: held-out accuracy / NMSE / utilisation accuracy / inference time, accuracy
 *    of the quantised copies, and the adaptation test on the shifted room.
 *
 * Options: --steps 5000 --batch 256 --envs 20000 --snapshots 3 --out assets/models
 *          --held-out 500 --no-eval
 *
 * A deployment's own measurements (formats in server/ml/datasets/import.ts and README):
 *   --data <file.jsonl|file.csv> [--scenes <scenes.json>] [--finetune-steps 400]
 *   [--from assets/models/pgf] [--out data/models/pgf-local]
 * fine-tunes the shipped model on them instead (scripts/own-data.ts).
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ChannelAgent } from "../server/agents/channel-agent.ts";
import { REPO_ROOT } from "../server/config.ts";
import { initTf, tf } from "../server/ml/backend.ts";
import { type PgfConfig, PgfDiffusion, PgfTrainer, snrDbToSe } from "../server/ml/pgf-diffusion.ts";
import {
  adaptationEval,
  ergodicTruth,
  evaluatePgf,
  type PgfAccuracy,
} from "../server/ml/pgf-eval.ts";
import { DEFAULT_BANDS } from "../server/net/bands.ts";
import { computeChannel, measureChannel } from "../server/net/channel-model.ts";
import {
  ENV_FEATURES,
  encodeEnvironment,
  generateEnvironments,
  HELD_OUT_SEED,
  SHIFTED_ROOM,
  SHIFTED_SEED,
  TRAIN_SEED,
  VALIDATION_SEED,
} from "../server/net/environments.ts";
import { seededRandom } from "../server/sim/random.ts";
import { loadRobotDescription } from "../server/sim/robot-description.ts";
import { trainPgfOnOwnData } from "./own-data.ts";

const { values: opts } = parseArgs({
  options: {
    steps: { type: "string", default: "5000" },
    batch: { type: "string", default: "256" },
    envs: { type: "string", default: "20000" },
    snapshots: { type: "string", default: "3" },
    out: { type: "string", default: "assets/models" },
    "held-out": { type: "string", default: "500" },
    "no-eval": { type: "boolean", default: false },
    data: { type: "string" },
    scenes: { type: "string" },
    from: { type: "string", default: "assets/models/pgf" },
    "finetune-steps": { type: "string", default: "400" },
  },
});
if (opts.data) {
  await initTf();
  await trainPgfOnOwnData({
    data: opts.data,
    ...(opts.scenes && { scenes: opts.scenes }),
    from: opts.from,
    out: opts.out === "assets/models" ? "data/models/pgf-local" : opts.out,
    steps: Number(opts["finetune-steps"]),
  });
  process.exit(0);
}
const STEPS = Number(opts.steps);
const BATCH = Number(opts.batch);
const ENVS = Number(opts.envs);
const SNAPSHOTS = Number(opts.snapshots);
const HELD_OUT = Number(opts["held-out"]);
const OUT = resolve(REPO_ROOT, opts.out);
const MODEL_SEED = 20240611;
const VALIDATION_ENVS = 200;

const bands = DEFAULT_BANDS;
const t0 = performance.now();
const since = () => ((performance.now() - t0) / 1000).toFixed(1);
const backend = await initTf();
console.log(
  `backend ${backend.name}; ${ENVS} envs × ${SNAPSHOTS} snapshots, ${STEPS} steps × ${BATCH}`,
);

const robot = await loadRobotDescription({
  robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
});
const kin = robot.kinematics;

// 1. Data ------------------------------------------------------------------------------
const D = bands.reduce((a, b) => a + b.subcarriers, 0);
const C = ENV_FEATURES;
const envs = generateEnvironments(kin, ENVS, { seed: TRAIN_SEED });
const cond = new Float32Array(ENVS * C);
// Per-subcarrier spectral efficiency log2(1 + SNR), bit/s/Hz, one row per fading draw.
const target = new Float32Array(ENVS * SNAPSHOTS * D);
envs.forEach((env, i) => {
  cond.set(encodeEnvironment(env), i * C);
  for (let s = 0; s < SNAPSHOTS; s++) {
    const ch = computeChannel(env, bands, {
      seed: (i * 7 + s * 1_000_003 + 11) >>> 0,
      fading: true,
    });
    let o = (i * SNAPSHOTS + s) * D;
    ch.forEach((b, bi) => {
      (b.subcarrierSnrDb ?? []).forEach((v, k) => (target[o + k] = snrDbToSe(v)));
      o += (bands[bi] as (typeof bands)[number]).subcarriers;
    });
  }
});
// Per-band normalisation of the target, bit/s/Hz.
const mean: number[] = [];
const std: number[] = [];
{
  let o = 0;
  for (const b of bands) {
    let s1 = 0;
    let s2 = 0;
    let n = 0;
    for (let r = 0; r < ENVS * SNAPSHOTS; r++) {
      for (let k = 0; k < b.subcarriers; k++) {
        const v = target[r * D + o + k] as number;
        s1 += v;
        s2 += v * v;
        n += 1;
      }
    }
    const m = s1 / n;
    mean.push(round(m, 4));
    std.push(round(Math.sqrt(Math.max(1e-6, s2 / n - m * m)), 4));
    o += b.subcarriers;
  }
}
// Residual scale κ per band: the within-environment (fading) spread of the normalised target.
const residualScale: number[] = [];
{
  let o = 0;
  bands.forEach((b, bi) => {
    const m = mean[bi] as number;
    const sd = std[bi] as number;
    let ss = 0;
    let dof = 0;
    for (let e = 0; e < ENVS && SNAPSHOTS > 1; e++) {
      for (let k = 0; k < b.subcarriers; k++) {
        let s1 = 0;
        let s2 = 0;
        for (let s = 0; s < SNAPSHOTS; s++) {
          const z = ((target[(e * SNAPSHOTS + s) * D + o + k] as number) - m) / sd;
          s1 += z;
          s2 += z * z;
        }
        ss += s2 - (s1 * s1) / SNAPSHOTS;
        dof += SNAPSHOTS - 1;
      }
    }
    residualScale.push(round(dof > 0 ? Math.sqrt(ss / dof) : 0.5, 4));
    o += b.subcarriers;
  });
}
const validation = generateEnvironments(kin, VALIDATION_ENVS, { seed: VALIDATION_SEED });
const validationTruth = validation.map((e, i) => ergodicTruth()(e, i));
console.log(
  `data ready in ${since()} s; spectral efficiency mean ${mean.map((v) => v.toFixed(2)).join(" ")} ` +
    `b/s/Hz; fading spread ${residualScale.map((v, i) => (v * (std[i] as number)).toFixed(2)).join(" ")}`,
);

// 2. Training --------------------------------------------------------------------------
const config: PgfConfig = {
  bands,
  condDim: C,
  hidden: [256, 256, 256],
  meanHidden: [256, 256],
  residualScale,
  timeEmbedDim: 32,
  diffusionSteps: 200,
  scheduleEnd: 0.95,
  sampleSteps: 12,
  samples: 16,
  clipX0: 5,
  norm: { mean, std },
  sampleSeed: 4242,
};
const model = new PgfDiffusion(config, undefined, MODEL_SEED);
model.normalise(target);
// The conditional mean's target: each environment's average over its fading draws.
const envMean = new Float32Array(ENVS * D);
for (let e = 0; e < ENVS; e++)
  for (let s = 0; s < SNAPSHOTS; s++)
    for (let j = 0; j < D; j++)
      envMean[e * D + j] =
        (envMean[e * D + j] as number) +
        (target[(e * SNAPSHOTS + s) * D + j] as number) / SNAPSHOTS;
const trainer = new PgfTrainer(model, {
  learningRate: 1e-3,
  totalSteps: STEPS,
  warmupSteps: Math.min(200, Math.floor(STEPS / 10)),
  minLearningRate: 2e-5,
  emaDecay: 0.999,
  seed: MODEL_SEED,
});
const rand = seededRandom(MODEL_SEED);
const xb = new Float32Array(BATCH * D);
const mb = new Float32Array(BATCH * D);
const cb = new Float32Array(BATCH * C);
const curve: { step: number; loss: number }[] = [];
const validationCurve: { step: number; accuracy: number }[] = [];
let window = 0;
const trainStart = performance.now();
for (let step = 1; step <= STEPS; step++) {
  for (let i = 0; i < BATCH; i++) {
    const r = Math.floor(rand() * ENVS * SNAPSHOTS);
    xb.set(target.subarray(r * D, (r + 1) * D), i * D);
    const e = Math.floor(r / SNAPSHOTS);
    mb.set(envMean.subarray(e * D, (e + 1) * D), i * D);
    cb.set(cond.subarray(e * C, (e + 1) * C), i * C);
  }
  window += trainer.step(xb, cb, BATCH, mb);
  const every = Math.max(1, Math.floor(STEPS / 20));
  if (step % every === 0 || step === STEPS) {
    const n = step % every === 0 ? every : step % every;
    curve.push({ step, loss: round(window / n, 5) });
    window = 0;
  }
  if (step % 1000 === 0 || step === STEPS) {
    const ema = trainer.emaModel();
    const acc = validationAccuracy(ema);
    ema.dispose();
    validationCurve.push({ step, accuracy: round(acc, 5) });
    const last = curve[curve.length - 1];
    const parts = trainer.lastLoss;
    console.log(
      `step ${step}: loss ${last?.loss.toFixed(4)} (last batch: mean ${parts.mean.toFixed(4)}, ` +
        `ε ${parts.eps.toFixed(4)}), lr ${trainer.learningRate().toExponential(2)}, ` +
        `validation accuracy ${acc.toFixed(4)}, ${since()} s`,
    );
  }
}
const trainSeconds = (performance.now() - trainStart) / 1000;
const final = trainer.emaModel();
trainer.dispose();
model.dispose();

const first = curve[0]?.loss ?? Number.NaN;
const last = curve[curve.length - 1]?.loss ?? Number.NaN;
console.log(
  `loss curve (mean per ${Math.max(1, Math.floor(STEPS / 20))} steps): ` +
    curve.map((c) => c.loss.toFixed(3)).join(" ") +
    ` — ${first.toFixed(3)} → ${last.toFixed(3)}; training ${trainSeconds.toFixed(0)} s`,
);

// 3. Save ------------------------------------------------------------------------------
const replayRows = 512;
const replay = tf.tensor2d(cond.subarray(0, replayRows * C), [replayRows, C]);
const training = {
  backend: backend.name,
  environments: ENVS,
  snapshotsPerEnvironment: SNAPSHOTS,
  steps: STEPS,
  batch: BATCH,
  seeds: {
    train: TRAIN_SEED,
    validation: VALIDATION_SEED,
    heldOut: HELD_OUT_SEED,
    model: MODEL_SEED,
  },
  trainSeconds: round(trainSeconds, 1),
  lossCurve: curve,
  validationCurve,
};
const dirs = {
  float32: join(OUT, "pgf"),
  float16: join(OUT, "pgf-f16"),
  uint8: join(OUT, "pgf-u8"),
} as const;
const save = async (metadata: Record<string, unknown>) => {
  for (const [encoding, dir] of Object.entries(dirs) as [keyof typeof dirs, string][])
    await final.save(dir, { encoding, metadata, extras: { "replay/cond": replay } });
};
await save({ training });
console.log(`saved ${Object.values(dirs).join(", ")} at ${since()} s`);

// 4. Evaluation ------------------------------------------------------------------------
if (!opts["no-eval"]) {
  const heldOut = generateEnvironments(kin, HELD_OUT, { seed: HELD_OUT_SEED });
  const truth = ergodicTruth();
  const truthCache = heldOut.map((e, i) => truth(e, i));
  const cached = (_: unknown, i: number) => truthCache[i] ?? [];
  const snapshotTruth = (e: (typeof heldOut)[number], i: number) =>
    computeChannel(e, bands, { seed: (0x7ead + i) >>> 0, fading: true });
  const results: Record<string, PgfAccuracy> = {};
  for (const [encoding, dir] of Object.entries(dirs)) {
    const agent = await ChannelAgent.load(dir);
    results[encoding] = await evaluatePgf(agent, heldOut, cached, { timedPredictions: 100 });
    if (encoding === "float32")
      results.snapshotTruth = await evaluatePgf(agent, heldOut, snapshotTruth, {
        timedPredictions: 0,
      });
    agent.dispose();
  }
  {
    const agent = await ChannelAgent.load(dirs.float32, { estimator: "mean" });
    results.meanEstimator = await evaluatePgf(agent, heldOut, cached, { timedPredictions: 0 });
    agent.dispose();
  }
  const f32 = results.float32 as PgfAccuracy;
  console.log(
    `held-out (${HELD_OUT} envs, ergodic truth): accuracy ${f32.accuracy.toFixed(4)}, NMSE ` +
      `${f32.nmse.toExponential(3)}, utilisation accuracy ${f32.utilisationAccuracy.toFixed(4)}, ` +
      `best band ${f32.bestBandAgreement.toFixed(3)}, SNR MAE ${f32.snrMaeDb.toFixed(2)} dB, ` +
      `inference p50 ${f32.inferenceMs.p50.toFixed(2)} ms p95 ${f32.inferenceMs.p95.toFixed(2)} ms`,
  );
  console.log(
    `  per band: ${f32.perBand.map((b) => `${b.bandId} ${b.accuracy.toFixed(3)}`).join(", ")}`,
  );
  console.log(
    `  against single fading snapshots: accuracy ${results.snapshotTruth?.accuracy.toFixed(4)}; ` +
      `conditional-mean estimator: accuracy ${results.meanEstimator?.accuracy.toFixed(4)}`,
  );
  console.log(
    `  float16 accuracy ${results.float16?.accuracy.toFixed(4)}, uint8 accuracy ${results.uint8?.accuracy.toFixed(4)}`,
  );

  // Adaptation: the room is refitted (SHIFTED_ROOM); measurements (16-snapshot windows) of
  // 64 environments come in; accuracy on 200 other environments of the new room.
  const shifted = generateEnvironments(kin, 264, { seed: SHIFTED_SEED });
  const observeEnvs = shifted.slice(0, 64);
  const evalEnvs = shifted.slice(64);
  const agent = await ChannelAgent.load(dirs.float32);
  const adaptation = await adaptationEval(
    agent,
    observeEnvs,
    (e, i) => measureChannel(e, bands, { seed: 0xada + i * 31, snapshots: 16, room: SHIFTED_ROOM }),
    evalEnvs,
    ergodicTruth(SHIFTED_ROOM),
  );
  agent.dispose();
  console.log(
    `shifted room: accuracy ${adaptation.before.accuracy.toFixed(4)} → ${adaptation.after.accuracy.toFixed(4)} ` +
      `after adaptation (${adaptation.triggered ? "triggered by drift" : "forced"}, drift ${adaptation.drift.toFixed(3)})`,
  );
  const summary = (a: PgfAccuracy) => ({
    accuracy: round(a.accuracy, 5),
    nmse: round(a.nmse, 7),
    utilisationAccuracy: round(a.utilisationAccuracy, 5),
    bestBandAgreement: round(a.bestBandAgreement, 4),
    snrMaeDb: round(a.snrMaeDb, 3),
  });
  await save({
    training,
    evaluation: {
      heldOutEnvironments: HELD_OUT,
      truth: "ergodic capacity: mean of 64 fading snapshots of the channel model",
      float32: {
        ...summary(f32),
        inferenceMsP50: round(f32.inferenceMs.p50, 2),
        inferenceMsP95: round(f32.inferenceMs.p95, 2),
      },
      float16: summary(results.float16 as PgfAccuracy),
      uint8: summary(results.uint8 as PgfAccuracy),
      singleSnapshotTruth: summary(results.snapshotTruth as PgfAccuracy),
      conditionalMeanEstimator: summary(results.meanEstimator as PgfAccuracy),
      adaptation: {
        room: "SHIFTED_ROOM",
        before: summary(adaptation.before),
        after: summary(adaptation.after),
        triggered: adaptation.triggered,
      },
    },
  });
}
replay.dispose();
final.dispose();
console.log(`done in ${since()} s`);

function validationAccuracy(m: PgfDiffusion): number {
  const K = m.config.samples;
  const c = new Float32Array(validation.length * C);
  validation.forEach((e, i) => c.set(encodeEnvironment(e), i * C));
  let abs = 0;
  let ref = 0;
  for (let s = 0; s < validation.length; s += 50) {
    const n = Math.min(50, validation.length - s);
    const samples = m.sample(c.subarray(s * C, (s + n) * C), n, K);
    for (let i = 0; i < n; i++) {
      const sum = m.summarise(samples, K, i * K * D);
      (validationTruth[s + i] ?? []).forEach((b, bi) => {
        abs += Math.abs((sum.capacityBps[bi] as number) - b.capacityBps);
        ref += b.capacityBps;
      });
    }
  }
  return 1 - abs / ref;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
