/**
 * evaluateTrafficAdaptation (scripts/own-data.ts, behind `npm run train:ngf --
 * --from-recordings` and the bench's own-traffic part): the split by time, the baselines
 * beside the model, and that adapting to a deployment whose flows differ from the shipped
 * model's moves the model toward that deployment on traffic it did not observe.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { evaluateTrafficAdaptation } from "../../scripts/own-data.ts";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { initTf } from "../../server/ml/backend.ts";
import type { TrafficRecord } from "../../server/ml/datasets/import.ts";
import { windowOf } from "../../server/net/flow-window.ts";
import type { TrafficScenario } from "../../server/net/contracts.ts";

const scenario: TrafficScenario = { arms: 1, headsets: 4, patchRateHz: 60, videoRung: null };

/**
 * One 30 s batch of a deployment whose headsets send poses at 30 Hz (~97-byte frames:
 * 23 kbit/s of control per flow) and receive ~64 kbit/s of state patches per flow, with a
 * deterministic ±10 % ripple — well below what the shipped model learned from 72 Hz traces.
 */
function batch(k: number): TrafficRecord {
  const windows = [];
  for (let i = 0; i < 30; i++) {
    const ripple = 1 + 0.1 * Math.sin(i * 1.3 + k);
    for (let flow = 0; flow < 4; flow++) {
      windows.push(windowOf("control", 30 * 97 * ripple, 30, 1));
      windows.push(windowOf("twin_state", 60 * 133 * ripple, 60, 1));
    }
  }
  return { source: `batch-${k}`, scenario, windows };
}

let agent: TrafficAgent;
before(async () => {
  await initTf();
});

describe("traffic adaptation on a deployment's own recordings", () => {
  it("observes the earlier batches, scores the later ones, beside the no-ML baselines", async () => {
    agent = await TrafficAgent.load("assets/models/ngf", { minWindows: 10 });
    try {
      const records = [0, 1, 2, 3, 4].map(batch);
      const r = await evaluateTrafficAdaptation(agent, records);
      assert.equal(r.split, "time");
      assert.equal(r.trainRecords, 3);
      assert.equal(r.heldOutRecords, 2);
      assert.ok(r.fineTunes >= 1, "the deployment's traffic drifts from the shipped model");
      const nmae = Object.fromEntries(r.rows.map((x) => [x.method, x.nmae]));
      assert.deepEqual(Object.keys(nmae), [
        "nominal bitrates (no ML)",
        "mean of earlier windows (no ML)",
        "last training batch (no ML)",
        "nGF shipped",
        "nGF after adaptation",
      ]);
      // The baselines were fitted on the same traffic: they are near it.
      assert.ok(nmae["mean of earlier windows (no ML)"]! < 0.05);
      // Adaptation moves the model toward the deployment by a wide margin.
      assert.ok(
        nmae["nGF after adaptation"]! < nmae["nGF shipped"]! / 2,
        `adapted ${nmae["nGF after adaptation"]} vs shipped ${nmae["nGF shipped"]}`,
      );
      const strongest = Math.min(...r.rows.filter((x) => !x.learned).map((x) => x.nmae));
      assert.equal(nmae[r.strongestBaseline], strongest);
      assert.ok(Math.abs(r.skill - (1 - nmae["nGF after adaptation"]! / strongest)) < 1e-12);
      assert.ok(r.byClass.control!["held-out measured"]! > 0);
    } finally {
      agent.dispose();
    }
  });

  it("holds out the end of each batch when there are too few batches to split by time", async () => {
    agent = await TrafficAgent.load("assets/models/ngf", { minWindows: 10 });
    try {
      const r = await evaluateTrafficAdaptation(agent, [batch(0), batch(1)]);
      assert.equal(r.split, "within-batch");
      assert.equal(r.trainRecords, 2);
      assert.ok(r.rows.every((x) => Number.isFinite(x.nmae)));
    } finally {
      agent.dispose();
    }
  });
});
