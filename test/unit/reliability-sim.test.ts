/**
 * The reliability player (server/ml/datasets/reliability.ts) detects stalls: its "nobody
 * stalls" result in README is only worth something if a strategy that asks for more than
 * the link carries does stall. Fixed-rung strategies on the crowd scenario: 8k on all five
 * carriers stalls, 1080p does not; a reservation below the rung's bitrate stalls too.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  type ReliabilityScenario,
  reliabilityScenario,
  runPlayer,
  type Strategy,
} from "../../server/ml/datasets/reliability.ts";
import { loadPanda } from "./support.ts";

const ALL_DOWNLINK = [5, 6, 7, 8, 9];

function fixed(rung: string, reservedBps = 1e12): Strategy {
  return { name: rung, decide: () => ({ rung, bands: ALL_DOWNLINK, reservedBps }) };
}

describe("reliability player", () => {
  let crowd: ReliabilityScenario;
  before(async () => {
    const robot = await loadPanda();
    crowd = reliabilityScenario(robot.kinematics, "crowd-arriving", 11);
  });

  it("stalls a rung the link cannot carry and not one it can", () => {
    const big = runPlayer(crowd, fixed("8k"));
    const small = runPlayer(crowd, fixed("1080p"));
    assert.ok(big.stalls > 0 && big.stallS > 1, JSON.stringify(big));
    assert.equal(small.stalls, 0);
    assert.equal(small.stallS, 0);
    assert.ok(Math.abs(small.meanBitrateBps - 8e6) < 1);
  });

  it("a reservation below the bitrate stalls even on a good channel", () => {
    const capped = runPlayer(crowd, fixed("4k", 20e6));
    assert.ok(capped.stalls > 0, JSON.stringify(capped));
    assert.ok(capped.bandwidthUtilisation > 0.95);
  });
});
