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
 * Held-out part: every 5th channel measurement; the last 20 % of each recorded traffic batch.
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
} from "../server/ml/datasets/import.ts";
import { DEFAULT_BANDS } from "../server/net/bands.ts";
import type { FlowClass, FlowWindow } from "../server/net/contracts.ts";
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

/** Fine-tunes nGF on recorded traffic and writes float32 weights to `out`. */
export async function trainNgfOnRecordings(o: {
  dir: string;
  from: string;
  out: string;
}): Promise<void> {
  const records = await readTrafficRecordings(abs(o.dir));
  if (!records.length) throw new Error(`${o.dir}: no /traffic messages in .mcap or .jsonl files`);
  const agent = await TrafficAgent.load(o.from, { minWindows: 10 });
  const split = records.map((r) => {
    const byClass = new Map<FlowClass, FlowWindow[]>();
    for (const w of r.windows) byClass.set(w.flowClass, [...(byClass.get(w.flowClass) ?? []), w]);
    const train: FlowWindow[] = [];
    const held: FlowWindow[] = [];
    for (const ws of byClass.values()) {
      const cut = Math.floor(ws.length * 0.8);
      train.push(...ws.slice(0, cut));
      held.push(...ws.slice(cut));
    }
    return { r, train, held };
  });
  /** NMAE of per-(record, class) mean throughput per flow on the held-out windows. */
  const score = (f: (cls: FlowClass, s: (typeof split)[number]) => number): number => {
    let a = 0;
    let ref = 0;
    for (const s of split) {
      const classes = new Set(s.held.map((w) => w.flowClass));
      for (const c of classes) {
        const ws = s.held.filter((w) => w.flowClass === c);
        const m = ws.reduce((x, w) => x + w.throughputBps, 0) / ws.length;
        a += Math.abs(f(c, s) - m);
        ref += m;
      }
    }
    return ref > 0 ? a / ref : Number.NaN;
  };
  const model = (c: FlowClass, s: (typeof split)[number]) => {
    const ws = agent.synthesize(c, s.r.scenario, 256);
    return ws.reduce((x, w) => x + w.throughputBps, 0) / ws.length;
  };
  const trainMean = (c: FlowClass, s: (typeof split)[number]) => {
    const ws = s.train.filter((w) => w.flowClass === c);
    return ws.length ? ws.reduce((x, w) => x + w.throughputBps, 0) / ws.length : 0;
  };
  const before = score(model);
  let adapted = 0;
  for (const s of split) if ((await agent.observe(s.train, s.r.scenario)).adapted) adapted++;
  const after = score(model);
  console.log(`${records.length} recorded batches, ${adapted} fine-tunes triggered by drift`);
  console.table({
    "nGF shipped": { "held-out NMAE": round(before) },
    "nGF after adaptation": { "held-out NMAE": round(after) },
    "mean of your earlier windows (no ML)": { "held-out NMAE": round(score(trainMean)) },
  });
  await agent.exportQuantised(abs(o.out), "float32");
  agent.dispose();
  console.log(`written ${o.out}; run the server with NGF_MODEL_DIR=${o.out}`);
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
