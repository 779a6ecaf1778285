/**
 * Trains the nGF traffic model (multi-generator GAN) on traces the project generates
 * itself, picks the best checkpoint on a validation set, writes the weights (float32,
 * float16, uint8) and evaluates them on held-out scenarios.
 *
 *   npm run train:ngf [-- --steps 6000 --out assets/models/ngf --quick]
 *   npm run train:ngf -- --from-recordings <dir> [--from assets/models/ngf]
 *                        [--out data/models/ngf-local]
 *     adapts the shipped model to the traffic recorded in <dir> (session MCAP files with a
 *     /traffic topic, or JSON lines; server/ml/datasets/import.ts, scripts/own-data.ts)
 *
 * Deterministic: every trace, initial weight, batch and noise draw comes from fixed seeds
 * (one backend gives the same weights run to run; backends agree to float rounding).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { TrafficAgent } from "../server/agents/traffic-agent.ts";
import { initTf, tf } from "../server/ml/backend.ts";
import { evaluateNgf } from "../server/ml/ngf-eval.ts";
import {
  classStats,
  type NgfConfig,
  NgfDataset,
  NgfMgan,
  type NgfSample,
  NgfTrainer,
  type NgfLosses,
} from "../server/ml/ngf-mgan.ts";
import type { NamedTensors } from "../server/ml/weights.ts";
import { FLOW_CLASSES, VIDEO_LADDER } from "../server/ml/datasets/flow-classes.ts";
import { mean, WINDOW_S } from "../server/ml/datasets/trace-windows.ts";
import {
  type FlowTrace,
  HELD_OUT_POSES,
  SEED_BASE,
  trainingTraces,
} from "../server/ml/datasets/traffic-sets.ts";
import { trainNgfOnRecordings } from "./own-data.ts";

const { values: args } = parseArgs({
  options: {
    steps: { type: "string", default: "4000" },
    out: { type: "string", default: "assets/models/ngf" },
    quick: { type: "boolean", default: false },
    generators: { type: "string", default: "4" },
    beta: { type: "string", default: "0.02" },
    hidden: { type: "string", default: "64" },
    lr: { type: "string", default: "0.001" },
    "twin-weight": { type: "string", default: "2" },
    "twin-windows": { type: "string", default: "120" },
    "eval-only": { type: "boolean", default: false },
    "from-recordings": { type: "string" },
    from: { type: "string", default: "assets/models/ngf" },
  },
});
if (args["from-recordings"]) {
  await initTf();
  await trainNgfOnRecordings({
    dir: args["from-recordings"],
    from: args.from,
    out: args.out === "assets/models/ngf" ? "data/models/ngf-local" : args.out,
  });
  process.exit(0);
}

const STEPS = Number(args.steps);
const OUT = args.out;
const QUICK = args.quick;
const EVAL_EVERY = 500;
const HELD_OUT_WINDOWS = QUICK ? 60 : 180;

const CONFIG: NgfConfig = {
  classes: FLOW_CLASSES,
  rungs: VIDEO_LADDER.map((r) => r.name),
  generators: Number(args.generators),
  noiseDim: 8,
  genHidden: Number(args.hidden),
  discHidden: Number(args.hidden),
  beta: Number(args.beta),
  windowS: WINDOW_S,
};

function log(msg: string): void {
  process.stdout.write(`[train:ngf ${((performance.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`);
}
const T0 = performance.now();

function samplesOf(traces: readonly FlowTrace[]): NgfSample[] {
  return traces.flatMap((t) =>
    t.windows.map((window) => ({ flowClass: t.flowClass, scenario: t.scenario, window })),
  );
}

/**
 * Validation score (lower is better): mean relative error of mean throughput and of p95
 * throughput per validation trace group (twin_state per scenario, control per pose rate and
 * hands share; video pooled per rung).
 */
function validationScore(model: NgfMgan, traces: readonly FlowTrace[]): number {
  const groups = new Map<string, { t: FlowTrace; real: number[] }>();
  for (const t of traces) {
    const key =
      t.flowClass === "twin_state"
        ? `${t.scenario.arms}|${t.scenario.headsets}|${t.scenario.patchRateHz}|${t.scenario.poseRateHz}|${t.scenario.handsShare}`
        : t.flowClass === "control"
          ? `control|${t.scenario.poseRateHz}|${t.scenario.handsShare}`
          : t.flowClass;
    const g = groups.get(key) ?? { t, real: [] };
    g.real.push(...t.windows.map((w) => w.throughputBps));
    groups.set(key, g);
  }
  const errs: number[] = [];
  for (const { t, real } of groups.values()) {
    const syn = model.synthesize(t.flowClass, t.scenario, 512, 99).map((w) => w.throughputBps);
    errs.push(Math.abs(mean(syn) - mean(real)) / mean(real));
    errs.push(Math.abs(q95(syn) - q95(real)) / q95(real));
  }
  return mean(errs);
}

function q95(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * (s.length - 1)))] ?? 0;
}

async function main(): Promise<void> {
  const backend = await initTf();
  log(`backend ${backend.name}; ${STEPS} steps; out ${OUT}${QUICK ? " (quick)" : ""}`);
  if (!args["eval-only"]) {
    let bestScore = Number.NaN;
    let bestStep = 0;
    const train = trainingTraces({
      twinWindows: QUICK ? 30 : Number(args["twin-windows"]),
      // Four traces per (pose rate, hands share) pair of TRAIN_POSES (two when quick).
      controlTraces: QUICK ? 36 : 72,
      controlWindows: 60,
      videoTraces: QUICK ? 10 : 30,
      videoWindows: 60,
      seedBase: SEED_BASE.train,
    });
    const validation = trainingTraces({
      twinWindows: 60,
      controlTraces: 12,
      controlWindows: 60,
      videoTraces: 8,
      videoWindows: 60,
      seedBase: SEED_BASE.validation,
      grid: { arms: [1, 3], headsets: [3, 7], patchRateHz: [45, 72] },
      poses: HELD_OUT_POSES,
    });
    const samples = samplesOf(train);
    log(
      `traces: ${train.length} training (${samples.length} windows), ${validation.length} validation`,
    );
    const model = NgfMgan.create(CONFIG, classStats(CONFIG.classes, samples), 1);
    const data = new NgfDataset(model, samples, { twin_state: Number(args["twin-weight"]) });
    const trainer = new NgfTrainer(model, {
      lrD: Number(args.lr),
      lrG: Number(args.lr),
      batchSize: 256,
      instanceNoise: 0.1,
      emaDecay: 0.995,
      seed: 7,
    });
    log(`model: K=${CONFIG.generators}, ${model.parameterCount()} parameters`);
    let best: NamedTensors | undefined;
    const t1 = performance.now();
    let last: NgfLosses = { d: Number.NaN, g: Number.NaN, c: Number.NaN };
    for (let s = 0; s < STEPS; s += EVAL_EVERY) {
      const n = Math.min(EVAL_EVERY, STEPS - s);
      trainer.run(data, n, { horizon: STEPS, readEvery: 50, onLosses: (_i, l) => (last = l) });
      const score = validationScore(model, validation);
      const better = !(score >= bestScore);
      if (better) {
        for (const t of Object.values(best ?? {})) t.dispose();
        best = model.snapshot();
        bestScore = score;
        bestStep = s + n;
      }
      log(
        `step ${s + n}/${STEPS}  D ${last.d.toFixed(3)}  G ${last.g.toFixed(3)}  C ${last.c.toFixed(3)}  ` +
          `validation error ${(score * 100).toFixed(2)} %${better ? " *" : ""}  ` +
          `${((performance.now() - t1) / (s + n)).toFixed(1)} ms/step  tensors ${tf.memory().numTensors}`,
      );
    }
    const trainSeconds = (performance.now() - t1) / 1000;
    if (best) {
      model.restore(best);
      for (const t of Object.values(best)) t.dispose();
    }
    log(
      `training took ${trainSeconds.toFixed(0)} s; best validation ${(bestScore * 100).toFixed(2)} % at step ${bestStep}`,
    );
    const meta = {
      trainedSteps: STEPS,
      bestStep,
      validationError: bestScore,
      trainSeconds: Math.round(trainSeconds),
      backend: backend.name,
      trainingWindows: samples.length,
      seeds: SEED_BASE,
    };
    for (const [suffix, enc] of [
      ["", "float32"],
      ["-f16", "float16"],
      ["-u8", "uint8"],
    ] as const) {
      const bytes = await model.save(`${OUT}${suffix}`, enc, meta);
      log(`wrote ${OUT}${suffix} (${enc}, ${bytes} bytes)`);
    }
    trainer.dispose();
    model.dispose();
  }

  // Held-out evaluation: f32/f16/u8 accuracy, per-class accuracy, fidelity, adaptation.
  const evaluation = await evaluateNgf({
    dir: OUT,
    load: (dir) => TrafficAgent.load(dir),
    heldOutWindows: HELD_OUT_WINDOWS,
    adaptWindows: QUICK ? 60 : 120,
    log,
  });

  // The figures go into each manifest's metadata and into results/.
  for (const [suffix, name] of [
    ["", "f32"],
    ["-f16", "f16"],
    ["-u8", "u8"],
  ] as const) {
    const file = join(`${OUT}${suffix}`, "model.json");
    const manifest = JSON.parse(await readFile(file, "utf8")) as {
      metadata?: Record<string, unknown>;
    };
    manifest.metadata = {
      ...manifest.metadata,
      heldOut: evaluation.accuracy[name],
      ...(suffix === "" && { evaluation }),
    };
    await writeFile(file, `${JSON.stringify(manifest, null, 1)}\n`);
  }
  await mkdir("results", { recursive: true });
  await writeFile("results/ngf-eval.json", `${JSON.stringify(evaluation, null, 2)}\n`);
  log(`total ${((performance.now() - T0) / 1000).toFixed(0)} s; figures in results/ngf-eval.json`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `train:ngf failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
