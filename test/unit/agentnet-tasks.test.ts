/**
 * The agents earn their place against the strongest simple baseline, on held-out data, by
 * a margin (skill = 1 − err_model / err_baseline), small seeded sets so the file runs in
 * seconds (the benchmark, npm run bench:agentnet -- --only tasks, has the full figures):
 * - pGF what-if (arm added, plan through the LoS, headset walking behind): skill ≥ 0.3
 *   against the best of persistence, per-band constant, physics and physics Δ;
 * - pGF 1 s ahead along approved trajectories and headset walks: skill ≥ 0.3 against the
 *   best of persistence, EWMA, linear extrapolation, physics, physics Δ and physics × ratio;
 * - nGF: the state-patch reservation held for 5 s at equal (1 %) overflow is ≥ 10 % below
 *   the strongest baseline's (nominal + headroom, EWMA, last 5 s max, last × nominal ratio).
 * Where a model does not win (nGF on video/aggregate demand, the raw diffusion intervals)
 * nothing here pretends otherwise; README states it.
 * Also: the mean estimator draws no samples and says so.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ChannelAgent,
  PGF_MEAN_SOURCE,
  PGF_SAMPLES_SOURCE,
} from "../../server/agents/channel-agent.ts";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { initTf } from "../../server/ml/backend.ts";
import {
  type CapacityModel,
  evaluateAhead,
  evaluateWhatIf,
  type TaskTable,
} from "../../server/ml/datasets/channel-eval.ts";
import { aheadTracks, TASK_SEEDS, whatIfCases } from "../../server/ml/datasets/channel-tasks.ts";
import { evaluateReservation } from "../../server/ml/datasets/traffic-eval.ts";
import { TRAFFIC_TASK_SEEDS, trafficSessions } from "../../server/ml/datasets/traffic-tasks.ts";
import type { RadioEnvironment } from "../../server/net/contracts.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda } from "./support.ts";

const MARGIN = 0.3;

function skillVsStrongest(t: TaskTable, method: string): number {
  return t.skill[method]?.[t.strongestBaseline] ?? Number.NaN;
}

describe("AgentNet against its baselines (held-out, seeded)", () => {
  let robot: RobotDescription;
  let agent: ChannelAgent;
  let model: CapacityModel;
  before(async () => {
    await initTf();
    robot = await loadPanda();
    agent = await ChannelAgent.load("assets/models/pgf", { estimator: "mean" });
    model = {
      mean: (envs: readonly RadioEnvironment[]) =>
        agent.predictMany(envs).map((p) => Float64Array.from(p.bands, (b) => b.capacityBps)),
    };
  });
  after(() => agent.dispose());

  it("labels the mean head and draws no samples with the mean estimator", async () => {
    const env = whatIfCases(robot.kinematics, 1, TASK_SEEDS.heldOut)[0]?.after;
    assert.ok(env);
    const p = await agent.predict(env);
    assert.equal(p.source, PGF_MEAN_SOURCE);
    assert.equal(agent.source, PGF_MEAN_SOURCE);
    assert.equal(p.samples, 0);
    assert.equal(p.spread, undefined);
    const samples = agent.sampleCapacities([env], 4);
    assert.equal(samples[0]?.length, 4);
    assert.notEqual(PGF_MEAN_SOURCE, PGF_SAMPLES_SOURCE);
  });

  it("pGF what-if beats the strongest no-ML baseline by a margin", () => {
    const t = evaluateWhatIf(
      model,
      whatIfCases(robot.kinematics, 24, TASK_SEEDS.heldOut),
      whatIfCases(robot.kinematics, 12, TASK_SEEDS.fit),
      { snapshots: 8 },
    );
    const s = skillVsStrongest(t, "pGF");
    assert.ok(s >= MARGIN, `skill ${s} vs ${t.strongestBaseline} (${JSON.stringify(t.methods)})`);
    // Persistence is among the baselines and loses too.
    assert.ok((t.skill.pGF?.persistence ?? 0) >= MARGIN);
  });

  it("pGF 1 s ahead beats the strongest baseline by a margin", () => {
    const [t] = evaluateAhead(
      model,
      aheadTracks(robot.kinematics, 4, TASK_SEEDS.heldOut, { durationS: 3 }),
      aheadTracks(robot.kinematics, 2, TASK_SEEDS.fit, { durationS: 3 }),
      { horizonsS: [1], snapshots: 4 },
    );
    assert.ok(t);
    const s = skillVsStrongest(t, "pGF");
    assert.ok(s >= MARGIN, `skill ${s} vs ${t.strongestBaseline} (${JSON.stringify(t.methods)})`);
  });

  it("nGF reserves less for state patches than the strongest baseline at equal overflow", async () => {
    const traffic = await TrafficAgent.load();
    try {
      const held = trafficSessions(4, TRAFFIC_TASK_SEEDS.heldOut, 15);
      const fit = trafficSessions(2, TRAFFIC_TASK_SEEDS.fit, 15);
      const tables = evaluateReservation(traffic, held, fit, [5]);
      const t = tables.find((x) => x.target === "twin_state");
      assert.ok(t);
      const saving = t.savingVs[t.strongestBaseline] ?? Number.NaN;
      assert.ok(saving >= 0.1, `saving ${saving} vs ${t.strongestBaseline}`);
    } finally {
      traffic.dispose();
    }
  });
});
