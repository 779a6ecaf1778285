/**
 * Coordination with the models keeps a live (2 s buffer) 360° stream from stalling where
 * the uncoordinated stacks stall, without buying it with a lower bitrate: on the crowd
 * arriving and a band degrading (4 seeds each, server/ml/datasets/reliability.ts), the
 * controller's rule with the pGF mean head and nGF q99 (ratio forecast) stalls for at most
 * half the time of the stronger uncoordinated stack (dash.js-style or hls.js ABR, the one
 * that stalls less), less than the same rule without ML (physics + nominal), and plays at
 * least 0.9 × that stack's bitrate. npm run bench:agentnet -- --only reliability has every
 * scenario, both buffers and the other figures; where the models lose, README says so.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChannelAgent } from "../../server/agents/channel-agent.ts";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { initTf } from "../../server/ml/backend.ts";
import {
  BUFFER_PRESETS,
  coordinatedStrategy,
  hlsjsStrategy,
  type ReliabilityKind,
  reliabilityScenario,
  type RunResult,
  runPlayer,
  type Strategy,
  uncoordinatedStrategy,
} from "../../server/ml/datasets/reliability.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { reliabilityModels } from "../support/reliability-models.ts";
import { loadPanda } from "./support.ts";

const SEEDS = [11, 12, 13, 14];

interface Totals {
  readonly stallS: number;
  readonly bitrateBps: number;
}

describe("AgentNet keeps a live stream from stalling (reliability scenarios)", () => {
  let robot: RobotDescription;
  let channel: ChannelAgent;
  let traffic: TrafficAgent;
  before(async () => {
    await initTf();
    robot = await loadPanda();
    channel = await ChannelAgent.load("assets/models/pgf", { estimator: "mean" });
    traffic = await TrafficAgent.load();
  });
  after(() => {
    channel.dispose();
    traffic.dispose();
  });

  function play(kind: ReliabilityKind, make: () => Strategy): Totals {
    const runs: RunResult[] = SEEDS.map((seed) =>
      runPlayer(reliabilityScenario(robot.kinematics, kind, seed), make(), {
        bufferMaxS: BUFFER_PRESETS.live,
      }),
    );
    return {
      stallS: runs.reduce((a, r) => a + r.stallS, 0),
      bitrateBps: runs.reduce((a, r) => a + r.meanBitrateBps, 0) / runs.length,
    };
  }

  for (const kind of ["crowd-arriving", "band-degrading"] as const) {
    it(`${kind}: fewer stalls than the stronger uncoordinated stack and than no ML`, () => {
      const { ml, noMl } = reliabilityModels(channel, traffic);
      const stacks = [play(kind, uncoordinatedStrategy), play(kind, hlsjsStrategy)];
      const strongest = stacks.sort(
        (a, b) => a.stallS - b.stallS || b.bitrateBps - a.bitrateBps,
      )[0] as Totals;
      const withMl = play(kind, () => coordinatedStrategy(ml, "ratio"));
      const withoutMl = play(kind, () => coordinatedStrategy(noMl, "ratio"));
      const seen = JSON.stringify({ strongest, withMl, withoutMl });
      // The scenario must be one where reliability is at stake.
      assert.ok(strongest.stallS > 0, `the uncoordinated stacks do not stall: ${seen}`);
      assert.ok(withMl.stallS <= 0.5 * strongest.stallS, seen);
      assert.ok(withMl.stallS < withoutMl.stallS, seen);
      assert.ok(withMl.bitrateBps >= 0.9 * strongest.bitrateBps, seen);
    });
  }
});
