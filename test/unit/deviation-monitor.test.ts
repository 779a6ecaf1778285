/**
 * The execution deviation monitor: an arm that follows its plan (even a little late) never
 * trips it; an arm that leaves the plan beyond the tolerance trips it after the confirming
 * checks, not on one noisy sample.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timeParameterize } from "../../server/sim/trajectory.ts";
import { newSample, sampleTrajectory } from "../../server/sim/trajectory-sample.ts";
import { DeviationMonitor } from "../../server/twin/deviation-monitor.ts";

const limits = {
  jointNames: ["a", "b"],
  lower: Float64Array.of(-3, -3),
  upper: Float64Array.of(3, 3),
  maxVelocity: Float64Array.of(1, 1),
  maxAcceleration: Float64Array.of(2, 2),
};
const traj = timeParameterize(
  [
    [0, 0],
    [1.5, -1],
  ],
  limits,
).trajectory;

describe("DeviationMonitor", () => {
  it("accepts an arm that follows the plan up to the lag window late", () => {
    const m = new DeviationMonitor(traj, 1000, 0.05, 0.3);
    const s = newSample(2);
    for (let t = 0; t <= traj.duration; t += 0.016) {
      sampleTrajectory(traj, Math.max(0, t - 0.2), s); // 200 ms behind the plan
      const c = m.check(s.positions, 1000 + t * 1000);
      assert.ok(!c.tripped, `tripped at ${t.toFixed(3)} s with ${c.deviation}`);
      assert.ok(c.deviation < 1e-9);
    }
  });

  it("trips on the third consecutive check beyond tolerance, not on one outlier", () => {
    const m = new DeviationMonitor(traj, 0, 0.05, 0.3, 3);
    const s = newSample(2);
    const at = (t: number, offset: number) => {
      sampleTrajectory(traj, t, s);
      s.positions[0] = s.positions[0]! + offset;
      return m.check(s.positions, t * 1000);
    };
    assert.equal(at(0.5, 0.2).tripped, false);
    assert.equal(at(0.52, 0).tripped, false);
    assert.equal(at(0.54, 0.2).tripped, false);
    assert.equal(at(0.56, 0.2).tripped, false);
    const third = at(0.58, 0.2);
    assert.equal(third.tripped, true);
    assert.ok(third.deviation > 0.05);
  });
});
