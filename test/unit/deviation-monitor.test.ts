/**
 * The execution deviation monitor: an arm that follows its plan (even a little late) never
 * trips it; an arm that leaves the plan beyond the tolerance trips it after the confirming
 * checks, not on one noisy sample. Plan time is bracketed by when the goal was sent and when
 * the cell reported it active: a goal the controller started half a second late (rosbridge
 * loading action types lazily) is not stopped, nor is one whose activity report came late.
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
      assert.ok(c.deviation < 1e-4, `deviation ${c.deviation} at ${t.toFixed(3)} s`);
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

  it("times from the goal becoming active: a controller that starts 0.5 s late is not stopped", () => {
    const sentMs = 10_000;
    const startDelayS = 0.5; // the goal reached the controller this long after sending
    let activeMs: number | null = null;
    const m = new DeviationMonitor(traj, { sentMs, activeMs: () => activeMs }, 0.05, 0.3);
    const s = newSample(2);
    for (let t = 0; t <= startDelayS + traj.duration; t += 0.016) {
      // Reported active 60 ms after the controller really started.
      if (activeMs === null && t >= startDelayS + 0.06) activeMs = sentMs + t * 1000;
      sampleTrajectory(traj, Math.max(0, t - startDelayS), s);
      const c = m.check(s.positions, sentMs + t * 1000);
      assert.ok(!c.tripped, `tripped at ${t.toFixed(3)} s with ${c.deviation}`);
      assert.equal(c.waiting, activeMs === null);
    }
    // The same arm against a monitor timed from sending (the old behaviour) trips.
    const fromSending = new DeviationMonitor(traj, sentMs, 0.05, 0.3);
    let tripped = false;
    for (let t = 0; t <= startDelayS + traj.duration && !tripped; t += 0.016) {
      sampleTrajectory(traj, Math.max(0, t - startDelayS), s);
      tripped = fromSending.check(s.positions, sentMs + t * 1000).tripped;
    }
    assert.ok(tripped, "timed from sending, a 0.5 s late start looks like a deviation");
  });

  it("still trips on an arm that leaves the plan while the goal is not yet reported active", () => {
    const m = new DeviationMonitor(traj, { sentMs: 0, activeMs: () => null }, 0.05, 0.3);
    const s = newSample(2);
    let tripped = false;
    for (let t = 0; t <= 1 && !tripped; t += 0.016) {
      sampleTrajectory(traj, t, s);
      s.positions[1] = s.positions[1]! + 0.3; // joint 1 somewhere the plan never goes
      tripped = m.check(s.positions, t * 1000).tripped;
    }
    assert.ok(tripped);
  });
});
