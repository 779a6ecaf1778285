/**
 * The pGF channel agent (server/ml/pgf-diffusion.ts, server/agents/channel-agent.ts,
 * server/ml/pgf-eval.ts) with the shipped weights in assets/models: they load; predictions
 * for 50 held-out environments reach capacity accuracy ≥ 0.9 against the ergodic truth (the
 * training script and the benchmark report the exact figure); the float16 copy is within
 * 1 % of float32 and the uint8 copy still usable; exportQuantised writes weights that load
 * and predict the same; predict() leaks no tensors; a tiny training run reduces the loss
 * without leaking; drifted measurements (the shifted room) trigger adaptation through
 * observe() and the error on those environments falls; dispose() stops a running fine-tune.
 * No timing asserts.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ChannelAgent, ChannelAgentError } from "../../server/agents/channel-agent.ts";
import { initTf, tf } from "../../server/ml/backend.ts";
import {
  type PgfConfig,
  PgfDiffusion,
  PgfTrainer,
  snrDbToSe,
} from "../../server/ml/pgf-diffusion.ts";
import { accuracyOf, ergodicTruth, evaluatePgf } from "../../server/ml/pgf-eval.ts";
import { DEFAULT_BANDS } from "../../server/net/bands.ts";
import { computeChannel, measureChannel } from "../../server/net/channel-model.ts";
import type { BandChannel, RadioEnvironment } from "../../server/net/contracts.ts";
import {
  ENV_FEATURES,
  encodeEnvironment,
  generateEnvironments,
  HELD_OUT_SEED,
  SHIFTED_ROOM,
  SHIFTED_SEED,
  TRAIN_SEED,
} from "../../server/net/environments.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda } from "./support.ts";

describe("pGF channel agent", () => {
  let robot: RobotDescription;
  let agent: ChannelAgent;
  let heldOut: RadioEnvironment[];
  let truth: (readonly BandChannel[])[];
  let f32Accuracy = 0;
  before(async () => {
    await initTf();
    robot = await loadPanda();
    agent = await ChannelAgent.load();
    heldOut = generateEnvironments(robot.kinematics, 50, { seed: HELD_OUT_SEED });
    const t = ergodicTruth();
    truth = heldOut.map((e, i) => t(e, i));
  });
  after(() => agent.dispose());

  it("loads the shipped weights with the cell's band plan", () => {
    assert.deepEqual(
      agent.config.bands.map((b) => b.id),
      DEFAULT_BANDS.map((b) => b.id),
    );
    assert.equal(agent.config.condDim, ENV_FEATURES);
    assert.ok(agent.config.diffusionSteps >= 100 && agent.config.sampleSteps <= 20);
  });

  it("predicts every band of 50 held-out environments with accuracy ≥ 0.9", async () => {
    const result = await evaluatePgf(agent, heldOut, (_, i) => truth[i] ?? [], {
      timedPredictions: 5,
    });
    f32Accuracy = result.accuracy;
    assert.equal(result.environments, 50);
    assert.equal(result.bands, 10);
    assert.ok(result.accuracy >= 0.9, `accuracy ${result.accuracy.toFixed(4)}`);
    assert.ok(result.nmse < 0.02, `NMSE ${result.nmse}`);
    const p = await agent.predict(heldOut[0] as RadioEnvironment);
    assert.equal(p.source, "pgf-diffusion");
    assert.equal(p.bands.length, 10);
    assert.equal(p.spread?.length, 10);
    for (const [i, b] of p.bands.entries()) {
      assert.equal(b.bandId, DEFAULT_BANDS[i]?.id);
      assert.ok(b.capacityBps > 0 && Number.isFinite(b.snrDb));
      assert.equal(b.subcarrierSnrDb?.length, 16);
      assert.ok((p.spread?.[i]?.capacityStdBps ?? -1) >= 0);
    }
    // Deterministic per environment, and the batched path gives the same numbers.
    const again = await agent.predict(heldOut[0] as RadioEnvironment);
    assert.deepEqual(again.bands, p.bands);
    assert.deepEqual(agent.predictMany([heldOut[0] as RadioEnvironment])[0]?.bands, p.bands);
  });

  it("keeps accuracy with float16 weights (within 1 %) and uint8 weights", async () => {
    assert.ok(f32Accuracy > 0, "float32 figure first");
    for (const [dir, tolerance] of [
      ["assets/models/pgf-f16", 0.01],
      ["assets/models/pgf-u8", 0.05],
    ] as const) {
      const q = await ChannelAgent.load(dir);
      try {
        const acc = accuracyOf(q.predictMany(heldOut), truth).accuracy;
        assert.ok(
          Math.abs(acc - f32Accuracy) <= tolerance,
          `${dir}: ${acc.toFixed(4)} vs ${f32Accuracy.toFixed(4)}`,
        );
      } finally {
        q.dispose();
      }
    }
  });

  it("exports its current weights quantised and loads them back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pgf-export-"));
    try {
      const bytes = await agent.exportQuantised(dir, "float16");
      assert.ok(bytes > 0);
      const q = await ChannelAgent.load(dir);
      try {
        const env = heldOut[3] as RadioEnvironment;
        const [a, b] = [agent.predictSync(env), q.predictSync(env)];
        a.bands.forEach((band, i) => {
          const other = b.bands[i]?.capacityBps ?? 0;
          assert.ok(Math.abs(other - band.capacityBps) / band.capacityBps < 0.005, band.bandId);
        });
        assert.equal(q.metadata.quantised, "float16");
      } finally {
        q.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("leaks no tensors in predict()", async () => {
    const env = heldOut[1] as RadioEnvironment;
    await agent.predict(env);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await agent.predict(env);
    agent.predictMany(heldOut.slice(0, 4));
    assert.equal(tf.memory().numTensors, before);
  });

  it("reduces the loss in a tiny training run", () => {
    const envs = generateEnvironments(robot.kinematics, 64, { seed: TRAIN_SEED });
    const D = DEFAULT_BANDS.length * 16;
    const config: PgfConfig = {
      ...agent.config,
      hidden: [64, 64],
      meanHidden: [64],
      sampleSteps: 4,
      samples: 2,
    };
    const model = new PgfDiffusion(config, undefined, 3);
    const x0 = new Float32Array(envs.length * D);
    const cond = new Float32Array(envs.length * ENV_FEATURES);
    envs.forEach((e, i) => {
      cond.set(encodeEnvironment(e), i * ENV_FEATURES);
      const se = computeChannel(e, DEFAULT_BANDS, { seed: i, fading: true }).flatMap((b) =>
        (b.subcarrierSnrDb ?? []).map(snrDbToSe),
      );
      x0.set(se, i * D);
    });
    model.normalise(x0);
    const trainer = new PgfTrainer(model, { learningRate: 3e-3, totalSteps: 50, seed: 1 });
    const before = tf.memory().numTensors;
    const losses = Array.from({ length: 50 }, () => trainer.step(x0, cond, envs.length));
    assert.equal(tf.memory().numTensors, before, "training steps leak no tensors");
    const head = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const tail = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    assert.ok(tail < 0.8 * head, `loss ${head.toFixed(3)} → ${tail.toFixed(3)}`);
    trainer.dispose();
    model.dispose();
  });

  it("adapts when measurements drift and then predicts them better", async () => {
    const drifting = await ChannelAgent.load(undefined, {
      adaptation: { minObservations: 6, window: 8, accuracyThreshold: 0.95, steps: 120 },
    });
    try {
      const envs = generateEnvironments(robot.kinematics, 12, { seed: SHIFTED_SEED });
      const measured = envs.map((e, i) =>
        measureChannel(e, DEFAULT_BANDS, { seed: 100 + i, snapshots: 16, room: SHIFTED_ROOM }),
      );
      const errorBefore = 1 - accuracyOf(drifting.predictMany(envs), measured).accuracy;
      let triggered = false;
      let drift = 0;
      envs.forEach((e, i) => {
        const r = drifting.observe(e, measured[i] ?? []);
        drift = Math.max(drift, r.drift);
        triggered ||= r.adapted;
      });
      assert.ok(triggered, `adaptation triggered (drift ${drift.toFixed(3)})`);
      assert.ok(drifting.adapting);
      // Predictions keep working while the fine-tune runs.
      assert.equal((await drifting.predict(envs[0] as RadioEnvironment)).bands.length, 10);
      const report = await drifting.whenIdle();
      assert.ok(report && report.steps === 120);
      assert.equal(drifting.adaptations, 1);
      const errorAfter = 1 - accuracyOf(drifting.predictMany(envs), measured).accuracy;
      assert.ok(
        errorAfter < 0.8 * errorBefore,
        `error ${errorBefore.toFixed(4)} → ${errorAfter.toFixed(4)}`,
      );
    } finally {
      drifting.dispose();
    }
  });

  it("stops a running fine-tune cleanly when disposed", async () => {
    const a = await ChannelAgent.load(undefined, { adaptation: { steps: 50 } });
    const env = heldOut[2] as RadioEnvironment;
    a.observe(env, measureChannel(env, DEFAULT_BANDS, { seed: 9, snapshots: 4 }));
    const running = a.adapt();
    a.dispose();
    await assert.rejects(running, ChannelAgentError);
    assert.ok(a.lastAdaptation instanceof ChannelAgentError);
    assert.throws(() => a.predictSync(env), ChannelAgentError);
  });
});
