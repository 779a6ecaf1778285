/**
 * The simulated arm controller (server/sim/simulated-arm.ts), stepped by hand with the
 * Panda's limits: jogging reaches the commanded joint velocity after a ramp that respects the
 * acceleration limit step to step, clamps commands to the velocity limit, decelerates to rest
 * after the dead-man deadline and then holds, and never passes a joint limit however long it
 * is jogged towards one; a trajectory from timeParameterize plays back exactly along the
 * trajectory, ends exactly at the goal and reports success once; stop() mid-trajectory zeroes
 * the velocities at once and reports the abort with its reason; a jog or a new trajectory
 * replaces a running one (reported as aborted); teleport places the arm at rest.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ArmKinematics } from "../../server/sim/kinematics.ts";
import { SimulatedArm, type TrajectoryOutcome } from "../../server/sim/simulated-arm.ts";
import { type JointTrajectory, timeParameterize } from "../../server/sim/trajectory.ts";
import { newSample, sampleTrajectory } from "../../server/sim/trajectory-sample.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda, namedPose } from "./support.ts";

const DT = 0.001;

/** Joint velocity vector with `v` on joint `j`. */
function only(j: number, v: number, dof = 7): Float64Array {
  const out = new Float64Array(dof);
  out[j] = v;
  return out;
}

describe("SimulatedArm", () => {
  let robot: RobotDescription;
  let kin: ArmKinematics;
  let ready: Float64Array;
  before(async () => {
    robot = await loadPanda();
    kin = robot.kinematics;
    ready = namedPose(robot, "ready");
  });

  it("starts holding the given configuration at rest", () => {
    const arm = new SimulatedArm(kin, ready, 0.08);
    assert.equal(arm.mode, "hold");
    assert.deepEqual(Array.from(arm.positions), Array.from(ready));
    assert.ok(arm.velocities.every((v) => v === 0));
    assert.equal(arm.gripper, 0.08);
    arm.step(0.5);
    assert.deepEqual(Array.from(arm.positions), Array.from(ready));
    assert.equal(arm.time, 0.5);
  });

  describe("jogging", () => {
    it("ramps to the commanded velocity within the acceleration limit, then holds it", () => {
      const arm = new SimulatedArm(kin, ready);
      const j = 0;
      const v = 0.5;
      const a = kin.maxAcceleration[j] as number; // 15 rad/s²
      arm.jog(only(j, v), 1.0);
      assert.equal(arm.mode, "jog");
      let prev = 0;
      const ramp = v / a;
      for (let k = 1; k <= 500; k++) {
        arm.step(DT);
        const now = arm.velocities[j] as number;
        assert.ok(Math.abs(now - prev) <= a * DT + 1e-12, `step ${k}: Δv ${now - prev}`);
        if (arm.time > ramp + DT) assert.ok(Math.abs(now - v) < 1e-12, `step ${k}: v ${now}`);
        for (let i = 1; i < kin.dof; i++) assert.equal(arm.velocities[i], 0, `joint ${i} still`);
        prev = now;
      }
      assert.ok(arm.jogging);
      // Moved at v for 0.5 s less half the ramp (to within one step of motion).
      const moved = (arm.positions[j] as number) - (ready[j] as number);
      assert.ok(Math.abs(moved - v * (0.5 - ramp / 2)) < v * DT * 2, `moved ${moved}`);
    });

    it("clamps a command above the velocity limit to the limit", () => {
      const arm = new SimulatedArm(kin, ready);
      arm.jog(only(2, 50), 0.5);
      for (let k = 0; k < 400; k++) arm.step(DT);
      assert.ok(Math.abs((arm.velocities[2] as number) - (kin.maxVelocity[2] as number)) < 1e-12);
    });

    it("decelerates to rest after the dead-man deadline, then holds", () => {
      const arm = new SimulatedArm(kin, ready);
      const j = 1;
      const v = -0.6;
      const a = kin.maxAcceleration[j] as number; // 7.5 rad/s²
      arm.jog(only(j, v), 0.3);
      for (let k = 0; k < 290; k++) arm.step(DT);
      assert.ok(arm.jogging);
      assert.ok(Math.abs((arm.velocities[j] as number) - v) < 1e-12, `v ${arm.velocities[j]}`);
      while (arm.jogging) arm.step(DT);
      const qAtDeadline = arm.positions[j] as number;
      let prev = arm.velocities[j] as number;
      let steps = 0;
      while (arm.mode === "jog") {
        arm.step(DT);
        steps += 1;
        assert.equal(arm.jogging, false);
        const now = arm.velocities[j] as number;
        assert.ok(Math.abs(now - prev) <= a * DT + 1e-12, `Δv ${now - prev}`);
        assert.ok(Math.abs(now) <= Math.abs(prev) + 1e-12, "only slows down");
        prev = now;
        assert.ok(steps < 1000, "comes to rest");
      }
      assert.equal(arm.mode, "hold");
      assert.ok(arm.velocities.every((x) => x === 0));
      // Stopping takes |v|/a and covers v²/(2a), to within a step.
      assert.ok(Math.abs(steps * DT - Math.abs(v) / a) <= 2 * DT, `stopping time ${steps * DT}`);
      const braking = Math.abs((arm.positions[j] as number) - qAtDeadline);
      assert.ok(Math.abs(braking - (v * v) / (2 * a)) < Math.abs(v) * DT * 2, `braking ${braking}`);
      const rest = Float64Array.from(arm.positions);
      arm.step(1);
      assert.deepEqual(arm.positions, rest);
    });

    it("never passes a joint limit, however long it is jogged towards one", () => {
      for (const [j, dir] of [
        [0, 1],
        [3, -1],
        [3, 1],
        [5, 1],
        [6, -1],
      ] as const) {
        const arm = new SimulatedArm(kin, ready);
        arm.jog(only(j, dir * (kin.maxVelocity[j] as number)), 5);
        const lower = kin.lower[j] as number;
        const upper = kin.upper[j] as number;
        for (let k = 0; k < 5000; k++) {
          arm.step(DT);
          const q = arm.positions[j] as number;
          assert.ok(q >= lower && q <= upper, `joint ${j} at ${q} outside [${lower}, ${upper}]`);
        }
        assert.equal(arm.positions[j], dir > 0 ? upper : lower, `joint ${j} rests on its limit`);
        assert.equal(arm.velocities[j], 0);
        // Jogging further into the limit does not move it.
        arm.jog(only(j, dir), 6);
        arm.step(DT);
        assert.equal(arm.positions[j], dir > 0 ? upper : lower);
        // Jogging away from the limit does.
        arm.jog(only(j, -dir * 0.2), 7);
        arm.step(0.01);
        assert.ok(
          dir > 0 ? (arm.positions[j] as number) < upper : (arm.positions[j] as number) > lower,
        );
      }
    });

    it("respects the acceleration limit when braking for a joint limit", () => {
      const arm = new SimulatedArm(kin, ready);
      const a = kin.maxAcceleration[0] as number;
      arm.jog(only(0, kin.maxVelocity[0] as number), 5);
      let prev = 0;
      for (let k = 0; k < 3000; k++) {
        arm.step(DT);
        const now = arm.velocities[0] as number;
        assert.ok(
          Math.abs(now - prev) <= a * DT + 1e-9,
          `t=${arm.time.toFixed(3)}: Δv ${now - prev}`,
        );
        prev = now;
      }
    });

    it("is halted by stop(): velocities zero at once", () => {
      const arm = new SimulatedArm(kin, ready);
      arm.jog(only(4, 1), 2);
      for (let k = 0; k < 200; k++) arm.step(DT);
      arm.stop("operator");
      assert.equal(arm.mode, "hold");
      assert.ok(arm.velocities.every((v) => v === 0));
      const q = Float64Array.from(arm.positions);
      arm.step(0.1);
      assert.deepEqual(arm.positions, q);
    });
  });

  describe("trajectories", () => {
    let traj: JointTrajectory;
    let goal: Float64Array;
    before(() => {
      goal = namedPose(robot, "left");
      const mid = Float64Array.from([0.6, -0.4, 0.2, -2.2, 0.1, 1.6, 0.5]);
      traj = timeParameterize([ready, mid, goal], kin, {
        velocityScale: 0.5,
        accelerationScale: 0.5,
      }).trajectory;
    });

    it("plays a trajectory along its samples and ends exactly at the goal", () => {
      const arm = new SimulatedArm(kin, ready);
      const outcomes: TrajectoryOutcome[] = [];
      arm.play(traj, (o) => outcomes.push(o));
      assert.equal(arm.mode, "trajectory");
      const expected = newSample(kin.dof);
      let lastProgress = 0;
      let steps = 0;
      while (arm.mode === "trajectory") {
        arm.step(0.004);
        steps += 1;
        assert.ok(steps < 100_000);
        if (arm.mode !== "trajectory") break;
        sampleTrajectory(traj, arm.time, expected);
        for (let j = 0; j < kin.dof; j++) {
          assert.ok(
            Math.abs((arm.positions[j] as number) - (expected.positions[j] as number)) < 1e-12,
          );
          assert.ok(
            Math.abs((arm.velocities[j] as number) - (expected.velocities[j] as number)) < 1e-12,
          );
        }
        assert.ok(arm.progress >= lastProgress && arm.progress <= 1);
        lastProgress = arm.progress;
        assert.equal(outcomes.length, 0, "no outcome before the end");
      }
      assert.deepEqual(outcomes, [{ status: "succeeded" }]);
      assert.equal(arm.mode, "hold");
      assert.deepEqual(Array.from(arm.positions), Array.from(goal));
      assert.ok(arm.velocities.every((v) => v === 0));
      arm.step(1);
      assert.deepEqual(outcomes.length, 1, "reported once");
      assert.deepEqual(Array.from(arm.positions), Array.from(goal));
    });

    it("ends exactly at the goal when a step lands exactly on the duration", () => {
      const arm = new SimulatedArm(kin, ready);
      const outcomes: TrajectoryOutcome[] = [];
      arm.play(traj, (o) => outcomes.push(o));
      arm.step(traj.duration);
      assert.deepEqual(outcomes, [{ status: "succeeded" }]);
      assert.deepEqual(Array.from(arm.positions), Array.from(goal));
    });

    it("plays from the arm's current time, not from zero", () => {
      const arm = new SimulatedArm(kin, ready);
      arm.step(12.345);
      arm.play(traj, () => undefined);
      arm.step(0.001);
      const expected = newSample(kin.dof);
      sampleTrajectory(traj, 0.001, expected);
      for (let j = 0; j < kin.dof; j++) {
        assert.ok(
          Math.abs((arm.positions[j] as number) - (expected.positions[j] as number)) < 1e-9,
        );
      }
    });

    it("stops mid-trajectory at once and reports the abort with the reason", () => {
      const arm = new SimulatedArm(kin, ready);
      const outcomes: TrajectoryOutcome[] = [];
      arm.play(traj, (o) => outcomes.push(o));
      while (arm.time < traj.duration / 2) arm.step(0.004);
      assert.ok(
        arm.velocities.some((v) => Math.abs(v) > 0.01),
        "moving mid-way",
      );
      assert.ok(arm.progress > 0.4 && arm.progress < 0.6, `progress ${arm.progress}`);
      arm.stop("collision ahead");
      assert.ok(arm.velocities.every((v) => v === 0));
      assert.equal(arm.mode, "hold");
      assert.deepEqual(outcomes, [{ status: "aborted", reason: "collision ahead" }]);
      const q = Float64Array.from(arm.positions);
      arm.step(1);
      assert.deepEqual(arm.positions, q, "holds where it stopped");
      arm.stop("again");
      assert.equal(outcomes.length, 1, "no second report");
    });

    it("reports a trajectory replaced by a jog or by another trajectory as aborted", () => {
      const arm = new SimulatedArm(kin, ready);
      const first: TrajectoryOutcome[] = [];
      const second: TrajectoryOutcome[] = [];
      arm.play(traj, (o) => first.push(o));
      arm.step(0.1);
      arm.play(traj, (o) => second.push(o));
      assert.deepEqual(first, [{ status: "aborted", reason: "replaced by another trajectory" }]);
      arm.step(0.1);
      arm.jog(only(0, 0.1), arm.time + 0.1);
      assert.deepEqual(second, [{ status: "aborted", reason: "replaced by a jog" }]);
      assert.equal(arm.mode, "jog");
    });

    it("teleports to a configuration at rest, aborting a running trajectory", () => {
      const arm = new SimulatedArm(kin, ready);
      const outcomes: TrajectoryOutcome[] = [];
      arm.play(traj, (o) => outcomes.push(o));
      arm.step(0.2);
      arm.teleport(goal);
      assert.deepEqual(outcomes, [{ status: "aborted", reason: "teleported" }]);
      assert.deepEqual(Array.from(arm.positions), Array.from(goal));
      assert.ok(arm.velocities.every((v) => v === 0));
      assert.equal(arm.mode, "hold");
    });
  });
});
