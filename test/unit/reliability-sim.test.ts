/**
 * The reliability player (server/ml/datasets/reliability.ts) detects stalls: its "nobody
 * stalls" result in README is only worth something if a strategy that asks for more than
 * the link carries does stall. Fixed-rung strategies on the crowd scenario: 8k on all five
 * carriers stalls, 1080p does not; a reservation below the rung's bitrate stalls too.
 * Stall time is kept in continuous time (a stall shorter than a player tick is not lost).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  BUFFER_PRESETS,
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

  it("keeps stall time to the ms: segments arriving every 1.25 s stall 0.25 s each", () => {
    // Constant 8 Mbit segments over a link capped at 6.4 Mbit/s: each takes 1.25 s and
    // gives 1 s of play, so after the first the player stalls 0.25 s per segment.
    const steady: ReliabilityScenario = {
      ...crowd,
      capacity: crowd.capacity.map(() => new Float64Array(10).fill(1e9)),
      segmentBits: { "1080p": new Array<number>(70).fill(8e6) },
    };
    for (const bufferMaxS of Object.values(BUFFER_PRESETS)) {
      const r = runPlayer(steady, fixed("1080p", 6.4e6), { bufferMaxS });
      // 48 segments land by 60 s (every 1.25 s); the 47 gaps after the first are stalls.
      assert.equal(r.stalls, 47, JSON.stringify(r));
      assert.ok(Math.abs(r.stallS / r.stalls - 0.25) < 0.005, `${r.stallS / r.stalls} s per stall`);
    }
  });

  it("refuses a buffer that cannot hold one segment beside the resume level", () => {
    assert.throws(() => runPlayer(crowd, fixed("1080p"), { bufferMaxS: 1.5 }), RangeError);
    assert.throws(() => runPlayer(crowd, fixed("1080p"), { bufferMaxS: Number.NaN }), RangeError);
  });
});
