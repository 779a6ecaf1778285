/**
 * Training on a deployment's own measurements (formats: server/ml/datasets/import.ts and
 * README). Both start from the shipped weights and fine-tune them (the agents' own life-long
 * adaptation, with self-replay so the rest of the cell is not forgotten), and report the
 * error on a held-out part of the user's data before and after, next to baselines fitted on
 * the user's training part — so a user sees whether the model earns its place on their cell.
 *
 *   npm run train:pgf -- --data measurements.jsonl [--scenes scenes.json] [--finetune-steps 400]
 *                        [--out data/models/pgf-local]
 *   npm run train:ngf -- --from-recordings <dir> [--out data/models/ngf-local]
 *
 * Held-out part: every 5th channel measurement; for traffic, the later 40 % of the recorded
 * batches (by time, as live adaptation meets them), or with fewer than 3 batches the last 20 %
 * of each.
 */
import { isAbsolute, resolve } from "node:path";
import { ChannelAgent } from "../server/agents/channel-agent.ts";
import { TrafficAgent } from "../server/agents/traffic-agent.ts";
import { REPO_ROOT } from "../server/config.ts";
import { physicsCapacity } from "../server/ml/datasets/channel-tasks.ts";
import {
  type ChannelMeasurement,
  readChannelMeasurements,
  readTrafficRecordings,
  type TrafficRecord,
} from "../server/ml/datasets/import.ts";
import { nominalDemand } from "../server/net/allocation.ts";
import { DEFAULT_BANDS } from "../server/net/bands.ts";
import type { FlowClass, FlowWindow, TrafficScenario } from "../server/net/contracts.ts";
import { loadRobotDescription } from "../server/sim/robot-description.ts";

const abs = (p: string) => (isAbsolute(p) ? p : resolve(REPO_ROOT, p));

function nmae(pred: readonly Float64Array[], truth: readonly ChannelMeasurement[]): number {
  let a = 0;
  let r = 0;
  truth.forEach((m, i) => {
    for (const b of m.bands) {
      const k = DEFAULT_BANDS.findIndex((x) => x.id === b.bandId);
      if (k < 0) continue;
      a += Math.abs((pred[i]?.[k] ?? 0) - b.capacityBps);
      r += Math.abs(b.capacityBps);
    }
  });
  return r > 0 ? a / r : Number.NaN;
}

/** Fine-tunes pGF on a measurement file and writes float16 weights to `out`. */
export async function trainPgfOnOwnData(o: {
  data: string;
  scenes?: string;
  from: string;
  out: string;
  steps: number;
}): Promise<void> {
  const robot = await loadRobotDescription({
    robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
  });
  const all = await readChannelMeasurements(
    abs(o.data),
    robot.kinematics,
    o.scenes && abs(o.scenes),
  );
  const train = all.filter((_, i) => i % 5 !== 4);
  const held = all.filter((_, i) => i % 5 === 4);
  if (train.length < 4 || held.length < 1)
    throw new Error(`${all.length} measurements: need at least 5 (every 5th is held out)`);
  const agent = await ChannelAgent.load(o.from, {
    estimator: "mean",
    adaptation: {
      bufferSize: train.length,
      minObservations: train.length + 1, // fine-tune once, below, not on the way
      steps: o.steps,
      stepsPerChunk: 25,
    },
  });
  const predict = () =>
    agent
      .predictMany(held.map((m) => m.env))
      .map((p) => Float64Array.from(p.bands, (b) => b.capacityBps));
  const constant = new Float64Array(DEFAULT_BANDS.length);
  const counts = new Float64Array(DEFAULT_BANDS.length);
  for (const m of train)
    for (const b of m.bands) {
      const k = DEFAULT_BANDS.findIndex((x) => x.id === b.bandId);
      if (k < 0) continue;
      constant[k] = (constant[k] as number) + b.capacityBps;
      counts[k] = (counts[k] as number) + 1;
    }
  constant.forEach((v, k) => (constant[k] = v / Math.max(1, counts[k] as number)));
  const before = nmae(predict(), held);
  for (const m of train) agent.observe(m.env, m.bands);
  const report = await agent.adapt();
  const after = nmae(predict(), held);
  console.log(`${all.length} measurements: ${train.length} to train on, ${held.length} held out`);
  console.table({
    "pGF shipped": { "held-out NMAE": round(before) },
    "pGF fine-tuned": { "held-out NMAE": round(after) },
    "physics (no ML)": {
      "held-out NMAE": round(
        nmae(
          held.map((m) => physicsCapacity(m.env)),
          held,
        ),
      ),
    },
    "per-band constant of your data (no ML)": {
      "held-out NMAE": round(
        nmae(
          held.map(() => constant),
          held,
        ),
      ),
    },
  });
  console.log(
    `fine-tune: ${report.steps} steps in ${(report.ms / 1000).toFixed(1)} s, loss ${report.lossStart.toFixed(3)} → ${report.lossEnd.toFixed(3)}`,
  );
  const bytes = await agent.exportQuantised(abs(o.out), "float16");
  agent.dispose();
  console.log(`written ${o.out} (${bytes} bytes); run the server with PGF_MODEL_DIR=${o.out}`);
}

/** One method's held-out error in {@link evaluateTrafficAdaptation}. */
export interface AdaptationRow {
  readonly method: string;
  readonly learned: boolean;
  /** Normalised mean absolute error of per-(batch, class) mean throughput per flow. */
  readonly nmae: number;
}

export interface TrafficAdaptationResult {
  readonly records: number;
  /**
   * "time": the earlier batches train, the later ones are held out (as live adaptation
   * meets them); "within-batch" (fewer than 3 batches): the last 20 % of each batch.
   */
  readonly split: "time" | "within-batch";
  readonly trainRecords: number;
  readonly heldOutRecords: number;
  /** Fine-tunes the agent's drift check triggered while observing the training part. */
  readonly fineTunes: number;
  readonly rows: readonly AdaptationRow[];
  readonly strongestBaseline: string;
  /** 1 − NMAE(nGF adapted) / NMAE(strongest no-ML baseline). */
  readonly skill: number;
  /**
   * Per flow class: the held-out mean throughput per flow and each method's prediction of
   * it (averaged over the held-out batches), bit/s.
   */
  readonly byClass: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Share of batches (by time) that train when there are enough of them. */
const TRAIN_SHARE = 0.6;

/**
 * Adapts `agent` to recorded traffic as the live server does — each training batch handed
 * to `observe()` in recording order — and scores it on held-out traffic before and after,
 * beside no-ML baselines fitted on the same training part: the nominal bitrates, the mean
 * of the earlier windows, and the last training batch (persistence). Mutates `agent`.
 */
export async function evaluateTrafficAdaptation(
  agent: TrafficAgent,
  records: readonly TrafficRecord[],
): Promise<TrafficAdaptationResult> {
  const byTime = records.length >= 3;
  const cut = Math.ceil(records.length * TRAIN_SHARE);
  const batches = byTime
    ? [
        ...records.slice(0, cut).map((r) => ({ r, train: r.windows, held: [] as FlowWindow[] })),
        ...records.slice(cut).map((r) => ({ r, train: [] as FlowWindow[], held: r.windows })),
      ]
    : records.map((r) => splitWithin(r));
  const trainWindows = batches.flatMap((b) => b.train);
  const lastTrain = byTime ? records[cut - 1]!.windows : batches.at(-1)!.train;
  /** What is scored: the mean throughput per flow of each held-out (batch, class). */
  const targets = batches.flatMap((b) =>
    [...new Set(b.held.map((w) => w.flowClass))].map((cls) => ({
      cls,
      scenario: b.r.scenario,
      measured: meanThroughput(b.held.filter((w) => w.flowClass === cls)),
    })),
  );
  const byClass: Record<string, Record<string, number>> = {};
  /** Records `values` (one per target) as per-class means under `key` in {@link byClass}. */
  const note = (key: string, values: readonly number[]): void => {
    for (const cls of new Set(targets.map((t) => t.cls))) {
      const mine = values.filter((_, i) => targets[i]!.cls === cls);
      (byClass[cls] ??= {})[key] = mine.reduce((a, v) => a + v, 0) / mine.length;
    }
  };
  note(
    "held-out measured",
    targets.map((t) => t.measured),
  );
  /** NMAE of `f` over the targets; its predictions are noted under `key`. */
  const score = (key: string, f: (cls: FlowClass, s: TrafficScenario) => number): number => {
    const predicted = targets.map((t) => f(t.cls, t.scenario));
    note(key, predicted);
    const ref = targets.reduce((a, t) => a + t.measured, 0);
    const err = targets.reduce((a, t, i) => a + Math.abs(predicted[i]! - t.measured), 0);
    return ref > 0 ? err / ref : Number.NaN;
  };
  const model = (c: FlowClass, s: TrafficScenario) =>
    agent.model.has(c) ? meanThroughput(agent.synthesize(c, s, 256)) : 0;
  const shipped = score("nGF shipped", model);
  let fineTunes = 0;
  for (const b of batches) {
    if (b.train.length && (await agent.observe(b.train, b.r.scenario)).adapted) fineTunes++;
  }
  const classMean = (ws: readonly FlowWindow[]) => (c: FlowClass) =>
    meanThroughput(ws.filter((w) => w.flowClass === c));
  const nominal = (c: FlowClass, s: TrafficScenario) => {
    const one = nominalDemand({ ...s, headsets: 1 });
    if (c === "twin_state") return one.twin_state;
    if (c === "control") return one.control;
    return one.video;
  };
  const baselines: AdaptationRow[] = [
    { method: "nominal bitrates (no ML)", learned: false, nmae: score("nominal", nominal) },
    {
      method: "mean of earlier windows (no ML)",
      learned: false,
      nmae: score("mean", classMean(trainWindows)),
    },
    {
      method: "last training batch (no ML)",
      learned: false,
      nmae: score("last", classMean(lastTrain)),
    },
  ];
  const adapted = score("nGF adapted", model);
  const strongest = baselines.reduce((x, y) => (y.nmae < x.nmae ? y : x));
  return {
    records: records.length,
    split: byTime ? "time" : "within-batch",
    trainRecords: byTime ? cut : records.length,
    heldOutRecords: byTime ? records.length - cut : records.length,
    fineTunes,
    rows: [
      ...baselines,
      { method: "nGF shipped", learned: true, nmae: shipped },
      { method: "nGF after adaptation", learned: true, nmae: adapted },
    ],
    strongestBaseline: strongest.method,
    skill: 1 - adapted / strongest.nmae,
    byClass,
  };
}

/** The last 20 % of each class's windows of one batch held out. */
function splitWithin(r: TrafficRecord): {
  r: TrafficRecord;
  train: FlowWindow[];
  held: FlowWindow[];
} {
  const byClass = new Map<FlowClass, FlowWindow[]>();
  for (const w of r.windows) {
    const ws = byClass.get(w.flowClass);
    if (ws) ws.push(w);
    else byClass.set(w.flowClass, [w]);
  }
  const train: FlowWindow[] = [];
  const held: FlowWindow[] = [];
  for (const ws of byClass.values()) {
    const cut = Math.floor(ws.length * 0.8);
    train.push(...ws.slice(0, cut));
    held.push(...ws.slice(cut));
  }
  return { r, train, held };
}

function meanThroughput(ws: readonly FlowWindow[]): number {
  return ws.length ? ws.reduce((x, w) => x + w.throughputBps, 0) / ws.length : 0;
}

/** Fine-tunes nGF on recorded traffic and writes float32 weights to `out`. */
export async function trainNgfOnRecordings(o: {
  dir: string;
  from: string;
  out: string;
}): Promise<void> {
  const records = await readTrafficRecordings(abs(o.dir));
  if (!records.length) throw new Error(`${o.dir}: no /traffic messages in .mcap or .jsonl files`);
  const agent = await TrafficAgent.load(o.from, { minWindows: 10 });
  const result = await evaluateTrafficAdaptation(agent, records);
  console.log(
    `${result.records} recorded batches (${result.split} split: ${result.trainRecords} train, ` +
      `${result.heldOutRecords} held out), ${result.fineTunes} fine-tunes triggered by drift`,
  );
  console.table(
    Object.fromEntries(result.rows.map((r) => [r.method, { "held-out NMAE": round(r.nmae) }])),
  );
  console.log(
    `skill of the adapted nGF over the strongest baseline (${result.strongestBaseline}): ${round(result.skill)}`,
  );
  console.log("per flow class, bit/s per flow (held-out measured and each method's prediction):");
  console.table(result.byClass);
  await agent.exportQuantised(abs(o.out), "float32");
  agent.dispose();
  console.log(`written ${o.out}; run the server with NGF_MODEL_DIR=${o.out}`);
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
