/**
 * The nGF traffic agent: shipped weights, demand accuracy on held-out scenarios, what-if
 * answers, quantised weights, training, life-long adaptation and tensor hygiene.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NGF_MODEL_DIR, TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { initTf, tf } from "../../server/ml/backend.ts";
import {
  demandAccuracy,
  evaluateDemand,
  ksStatistic,
  measureAll,
  wasserstein1,
} from "../../server/ml/ngf-eval.ts";
import {
  classStats,
  NGF_FEATURES,
  NgfDataset,
  type NgfLosses,
  NgfMgan,
  type NgfSample,
  NgfTrainer,
} from "../../server/ml/ngf-mgan.ts";
import type { FlowWindow, TrafficScenario } from "../../server/net/contracts.ts";
import { FLOW_CLASSES, VIDEO_LADDER } from "../../server/ml/datasets/flow-classes.ts";
import {
  heldOutScenarios,
  measureScenario,
  SEED_BASE,
  trainingTraces,
} from "../../server/ml/datasets/traffic-sets.ts";

let agent: TrafficAgent;

before(async () => {
  await initTf();
  agent = await TrafficAgent.load();
});

after(() => agent.dispose());

describe("TrafficAgent: shipped model", () => {
  it("loads the shipped weights with every flow class", () => {
    assert.deepEqual(agent.model.config.classes, FLOW_CLASSES);
    assert.equal(agent.info.layer, "network");
    assert.deepEqual(agent.info.capabilities, ["traffic_prediction"]);
    assert.ok(agent.model.config.generators >= 2);
  });

  it("predicts held-out demand with accuracy ≥ 0.9 (1 − NMAE)", async (t) => {
    const scenarios = heldOutScenarios().filter((_, i) => i % 2 === 1);
    const measured = measureAll(scenarios, { windows: 90, seedBase: SEED_BASE.heldOut });
    const acc = await evaluateDemand(agent, measured);
    t.diagnostic(
      `held-out (${acc.scenarios} scenarios): accuracy(mean) ${acc.accuracyMean.toFixed(4)}, ` +
        `accuracy(p95) ${acc.accuracyP95.toFixed(4)}, NMSE(mean) ${acc.nmseMean.toExponential(2)}, ` +
        `MAPE(mean) ${(acc.mapeMean * 100).toFixed(2)} %`,
    );
    assert.ok(acc.accuracyMean >= 0.9, `accuracy(mean) ${acc.accuracyMean}`);
    assert.ok(acc.accuracyP95 >= 0.9, `accuracy(p95) ${acc.accuracyP95}`);
  });

  it("answers what-ifs: a higher rung and more arms need more bandwidth", async () => {
    const base: TrafficScenario = { arms: 1, headsets: 3, patchRateHz: 60, videoRung: "4k" };
    const at4k = await agent.predictDemand(base);
    const at8k = await agent.predictDemand({ ...base, videoRung: "8k" });
    assert.ok(at8k.meanBps > at4k.meanBps * 1.5, `${at4k.meanBps} → ${at8k.meanBps}`);
    assert.ok(at8k.p95Bps > at4k.p95Bps);
    const twin = async (arms: number): Promise<number> =>
      (await agent.predictDemand({ ...base, arms, videoRung: null })).perClass.find(
        (c) => c.flowClass === "twin_state",
      )?.meanBps ?? Number.NaN;
    assert.ok((await twin(4)) > (await twin(1)), "four arms send more state than one");
    const none = await agent.predictDemand({ ...base, headsets: 0, videoRung: null });
    assert.equal(none.meanBps, 0);
    await assert.rejects(agent.predictDemand({ ...base, videoRung: "16k" }), /16k/);
  });

  it("conditions state and control on the pose rate and hands; rejects bad values", async () => {
    const base: TrafficScenario = { arms: 1, headsets: 4, patchRateHz: 60, videoRung: null };
    const perClass = async (s: TrafficScenario) => {
      const p = await agent.predictDemand(s);
      const of = (c: string) => p.perClass.find((x) => x.flowClass === c)?.meanBps ?? Number.NaN;
      return { state: of("twin_state"), control: of("control") };
    };
    const unity = await perClass(base);
    // Absent features are the Unity bridge's defaults (72 Hz, head and both hands).
    assert.deepEqual(await perClass({ ...base, poseRateHz: 72, handsShare: 1 }), unity);
    const sdk = await perClass({ ...base, poseRateHz: 30, handsShare: 0 });
    // A 30 Hz head-only client sends far less than a 72 Hz headset with controllers.
    assert.ok(sdk.control < unity.control / 3, `control ${sdk.control} vs ${unity.control}`);
    assert.ok(sdk.state < unity.state / 2, `twin_state ${sdk.state} vs ${unity.state}`);
    const hands = await perClass({ ...base, poseRateHz: 30, handsShare: 1 });
    assert.ok(hands.control > sdk.control * 1.5, `hands ${hands.control} vs ${sdk.control}`);
    await assert.rejects(agent.predictDemand({ ...base, poseRateHz: 0 }), /poseRateHz 0/);
    await assert.rejects(agent.predictDemand({ ...base, poseRateHz: 500 }), /poseRateHz 500/);
    await assert.rejects(agent.predictDemand({ ...base, handsShare: 1.5 }), /handsShare 1.5/);
    await assert.rejects(agent.predictDemand({ ...base, handsShare: Number.NaN }), /handsShare/);
  });

  it("refuses weights of an older condition width with a clear error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ngf-old-"));
    try {
      await cp(NGF_MODEL_DIR, dir, { recursive: true });
      const file = join(dir, "model.json");
      const manifest = JSON.parse(await readFile(file, "utf8")) as {
        config: { model: { classes: string[] } };
      };
      // One class fewer in the config than the weights were built for: the width differs.
      manifest.config.model.classes.pop();
      (manifest.config as unknown as { stats: unknown[] }).stats.pop();
      await writeFile(file, JSON.stringify(manifest));
      await assert.rejects(NgfMgan.load(dir), /older condition; retrain with npm run train:ngf/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("per-class means add up to the aggregate; one link carries one headset's flows", async () => {
    const s: TrafficScenario = { arms: 2, headsets: 4, patchRateHz: 60, videoRung: "1440p" };
    const p = await agent.predictDemand(s);
    const sum = p.perClass.reduce((a, c) => a + c.meanBps, 0);
    assert.ok(Math.abs(sum - p.meanBps) < 1e-6 * p.meanBps);
    const link = await agent.predictLinkDemand(s);
    assert.ok(link.meanBps < p.meanBps / 3 && link.meanBps > p.meanBps / 5);
  });

  it("float16 weights predict within 1 % of float32", async () => {
    const f16 = await TrafficAgent.load(`${NGF_MODEL_DIR}-f16`);
    const u8 = await TrafficAgent.load(`${NGF_MODEL_DIR}-u8`);
    try {
      for (const s of heldOutScenarios().slice(0, 6)) {
        const [a, b, c] = await Promise.all([
          agent.predictDemand(s),
          f16.predictDemand(s),
          u8.predictDemand(s),
        ]);
        assert.ok(Math.abs(b.meanBps / a.meanBps - 1) < 0.01, `f16 mean ${JSON.stringify(s)}`);
        assert.ok(Math.abs(b.p95Bps / a.p95Bps - 1) < 0.01, `f16 p95 ${JSON.stringify(s)}`);
        // uint8 is coarser; it still has to stay close.
        assert.ok(Math.abs(c.meanBps / a.meanBps - 1) < 0.05, `u8 mean ${JSON.stringify(s)}`);
      }
    } finally {
      f16.dispose();
      u8.dispose();
    }
  });

  it("keeps the tensor count flat across predictions", async () => {
    const s: TrafficScenario = { arms: 3, headsets: 5, patchRateHz: 72, videoRung: "6k" };
    await agent.predictDemand(s);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      await agent.predictDemand({ ...s, headsets: 1 + i });
      agent.synthesize("control", s, 64);
    }
    assert.equal(tf.memory().numTensors, n0);
  });
});

describe("TrafficAgent: life-long adaptation", () => {
  it("does not fine-tune when measured traffic matches the model", async () => {
    const s: TrafficScenario = { arms: 2, headsets: 2, patchRateHz: 60, videoRung: "1080p" };
    const m = measureScenario(s, { windows: 60, seed: 31 });
    const report = await agent.observe(windowsOf(m.flows), s);
    assert.equal(report.adapted, false);
    assert.equal(report.steps, 0);
    // Every class was judged; a short, bursty measurement is not mistaken for drift.
    assert.deepEqual(report.before.map((d) => d.flowClass).sort(), [
      "control",
      "twin_state",
      "video_1080p",
    ]);
    assert.ok(report.before.every((d) => d.relError < 0.15 || d.z < 3));
  });

  it("fine-tunes on a 30 % hungrier codec and predicts it better afterwards", async (t) => {
    const local = await TrafficAgent.load(NGF_MODEL_DIR, { fineTuneSteps: 250 });
    try {
      const s: TrafficScenario = { arms: 1, headsets: 2, patchRateHz: 60, videoRung: "4k" };
      const other: TrafficScenario = { ...s, videoRung: "1440p" };
      const shift = { videoBitrateScale: 1.3 };
      const check = [measureScenario(s, { windows: 120, seed: 4002, shift })];
      const accBefore = demandAccuracy([await local.predictDemand(s)], check).accuracyMean;
      const otherBefore = await local.predictDemand(other);
      const shown = measureScenario(s, { windows: 60, seed: 4001, shift });
      const report = await local.observe(windowsOf(shown.flows), s);
      const video = (r: readonly { flowClass: string; relError: number }[]): number =>
        r.find((d) => d.flowClass === "video_4k")?.relError ?? Number.NaN;
      assert.equal(report.adapted, true);
      assert.ok(video(report.before) > 0.15, `drift ${video(report.before)}`);
      assert.ok(video(report.after) < video(report.before) / 2, `after ${video(report.after)}`);
      const accAfter = demandAccuracy([await local.predictDemand(s)], check).accuracyMean;
      t.diagnostic(`shifted 4k: accuracy ${accBefore.toFixed(4)} → ${accAfter.toFixed(4)}`);
      assert.ok(accAfter > accBefore + 0.1 && accAfter > 0.9);
      // Replay keeps what was not shown in place.
      const otherAfter = await local.predictDemand(other);
      assert.ok(Math.abs(otherAfter.meanBps / otherBefore.meanBps - 1) < 0.08);
    } finally {
      local.dispose();
    }
  });
});

describe("NgfMgan training", () => {
  it("a short run brings synthetic windows closer to the data and separates the generators", () => {
    const traces = trainingTraces({
      twinWindows: 20,
      controlTraces: 4,
      controlWindows: 20,
      videoTraces: 3,
      videoWindows: 20,
      seedBase: 77,
      grid: { arms: [1, 2], headsets: [1, 4], patchRateHz: [30, 60] },
    });
    const samples: NgfSample[] = traces.flatMap((tr) =>
      tr.windows.map((window) => ({ flowClass: tr.flowClass, scenario: tr.scenario, window })),
    );
    const model = NgfMgan.create(
      {
        classes: FLOW_CLASSES,
        rungs: VIDEO_LADDER.map((r) => r.name),
        generators: 3,
        noiseDim: 4,
        genHidden: 32,
        discHidden: 32,
        beta: 0.1,
        windowS: 1,
      },
      classStats(FLOW_CLASSES, samples),
      3,
    );
    const data = new NgfDataset(model, samples);
    const trainer = new NgfTrainer(model, { batchSize: 128, seed: 5, emaDecay: 0.9 });
    try {
      const distance = (): number => {
        let s = 17;
        const rand = (): number => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
        const batch = data.batch(1024, rand);
        const fake = model.generate(batch.c, batch.n, 9);
        let d = 0;
        for (let f = 0; f < NGF_FEATURES; f++) {
          const col = (v: Float32Array): number[] =>
            Array.from({ length: batch.n }, (_, i) => v[i * NGF_FEATURES + f] as number);
          d += wasserstein1(col(fake), col(batch.x));
        }
        return d / NGF_FEATURES;
      };
      const losses: NgfLosses[] = [];
      const d0 = distance();
      trainer.run(data, 240, { readEvery: 20, onLosses: (_i, l) => losses.push(l) });
      const d1 = distance();
      assert.ok(d1 < d0 * 0.7, `W1 ${d0.toFixed(3)} → ${d1.toFixed(3)}`);
      const first = losses[0] as NgfLosses;
      const last = losses[losses.length - 1] as NgfLosses;
      assert.ok(last.c < first.c, `classifier CE ${first.c} → ${last.c}`);
      assert.ok(Number.isFinite(last.d) && Number.isFinite(last.g));
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });
});

describe("ngf-eval statistics", () => {
  it("W1 and KS of shifted samples", () => {
    const a = [1, 2, 3, 4];
    assert.equal(wasserstein1(a, a), 0);
    assert.ok(Math.abs(wasserstein1(a, [2, 3, 4, 5]) - 1) < 1e-12);
    assert.equal(ksStatistic(a, [10, 11, 12, 13]), 1);
    assert.equal(ksStatistic(a, a), 0);
  });
});

function windowsOf(flows: ReadonlyMap<string, readonly (readonly FlowWindow[])[]>): FlowWindow[] {
  return [...flows.values()].flatMap((fs) => fs.flat());
}
