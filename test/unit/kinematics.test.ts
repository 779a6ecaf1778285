/**
 * Kinematics of the shipped Panda (server/sim/kinematics.ts, ik.ts, linalg.ts): forward
 * kinematics of the all-zero configuration and of the "ready" pose (tool pointing straight
 * down) against known values; the geometric Jacobian against central finite differences of
 * fk (position rows and orientation rows) at seeded random configurations; the IK round trip
 * ik(fk(q)) for 300 seeded random configurations (success rate, tolerances, joint limits);
 * IK of an unreachable pose; the caller's `accept` test; the damped least-squares step on a
 * square Jacobian; and linkPoses, whose fingers move apart by exactly the gripper opening.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Pose } from "../../shared/geometry.ts";
import type { ArmKinematics } from "../../server/sim/kinematics.ts";
import { dampedLeastSquares, newDlsScratch } from "../../server/sim/linalg.ts";
import {
  quatAngle,
  rotationErrorVector,
  TRANSFORM_SIZE,
  transformFromPose,
} from "../../server/sim/math.ts";
import { seededRandom } from "../../server/sim/random.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda, namedPose, randomConfig, withinLimits } from "./support.ts";

/** 180° about x: the tool's z axis points down along base_link -z. */
const DOWN = { x: 1, y: 0, z: 0, w: 0 };

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

describe("ArmKinematics of the Panda", () => {
  let robot: RobotDescription;
  let kin: ArmKinematics;
  before(async () => {
    robot = await loadPanda();
    kin = robot.kinematics;
  });

  it("exposes the 7 arm joints with limits from the URDF and robot.json", () => {
    assert.equal(kin.dof, 7);
    assert.deepEqual(
      kin.jointNames,
      [1, 2, 3, 4, 5, 6, 7].map((i) => `panda_joint${i}`),
    );
    assert.equal(kin.lower[3], -3.0718);
    assert.equal(kin.upper[5], 3.7525);
    assert.equal(kin.maxVelocity[6], 2.61);
    assert.equal(kin.maxAcceleration[1], 7.5);
    assert.deepEqual(kin.gripperRange, { min: 0, max: 0.08 });
    assert.equal(kin.linkNames[0], "panda_link0");
    assert.equal(kin.linkNames.length, 13);
  });

  describe("forward kinematics", () => {
    it("puts the TCP of the all-zero configuration at (0.088, 0, 0.8226)", () => {
      const p = kin.fk([0, 0, 0, 0, 0, 0, 0]);
      near(p.position.x, 0.088, 1e-9, "x");
      near(p.position.y, 0, 1e-9, "y");
      near(p.position.z, 0.8226, 1e-9, "z");
      // Tool z axis down, hand turned -45° about it: 180° about an axis 22.5° off x in xy.
      assert.ok(
        quatAngle(p.orientation, {
          x: Math.cos(Math.PI / 8),
          y: Math.sin(Math.PI / 8),
          z: 0,
          w: 0,
        }) < 1e-9,
        JSON.stringify(p.orientation),
      );
    });

    it("puts the TCP of the ready pose at (0.3069, 0, 0.4869), pointing down", () => {
      const p = kin.fk(namedPose(robot, "ready"));
      near(p.position.x, 0.3069, 1e-4, "x");
      near(p.position.y, 0, 1e-9, "y");
      near(p.position.z, 0.4869, 1e-4, "z");
      assert.ok(quatAngle(p.orientation, DOWN) < 1e-5, JSON.stringify(p.orientation));
      const q = p.orientation;
      near(Math.hypot(q.x, q.y, q.z, q.w), 1, 1e-12, "unit quaternion");
    });

    it("turns the tool about the base z axis with joint 1", () => {
      const ready = namedPose(robot, "ready");
      const a = kin.fk(ready).position;
      const turned = Float64Array.from(ready);
      turned[0] = Math.PI / 2;
      const b = kin.fk(turned).position;
      near(b.x, -a.y, 1e-12, "x");
      near(b.y, a.x, 1e-12, "y");
      near(b.z, a.z, 1e-12, "z");
    });

    it("fkTransform agrees with fk", () => {
      const random = seededRandom(11);
      const t = new Float64Array(TRANSFORM_SIZE);
      for (let i = 0; i < 5; i++) {
        const q = randomConfig(kin, random);
        const pose = kin.fk(q);
        kin.fkTransform(q, t);
        const expected = transformFromPose(pose);
        for (let k = 0; k < TRANSFORM_SIZE; k++)
          near(t[k] as number, expected[k] as number, 1e-12, `t[${k}]`);
      }
    });
  });

  describe("Jacobian", () => {
    it("matches central finite differences of fk at random configurations", () => {
      const random = seededRandom(2024);
      const h = 1e-6;
      const plus = new Float64Array(TRANSFORM_SIZE);
      const minus = new Float64Array(TRANSFORM_SIZE);
      const w = new Float64Array(3);
      for (let trial = 0; trial < 8; trial++) {
        const q = randomConfig(kin, random);
        const jac = kin.jacobian(q);
        assert.equal(jac.length, 6 * kin.dof);
        for (let k = 0; k < kin.dof; k++) {
          const qp = Float64Array.from(q);
          const qm = Float64Array.from(q);
          qp[k] = (qp[k] as number) + h;
          qm[k] = (qm[k] as number) - h;
          kin.fkTransform(qp, plus);
          kin.fkTransform(qm, minus);
          // Position rows: d(p)/dq_k.
          for (let r = 0; r < 3; r++) {
            const fd = ((plus[9 + r] as number) - (minus[9 + r] as number)) / (2 * h);
            near(jac[r * kin.dof + k] as number, fd, 1e-5, `trial ${trial} J[${r}][${k}]`);
          }
          // Orientation rows: angular velocity from R(q+h) · R(q-h)ᵀ.
          rotationErrorVector(w, plus, minus);
          for (let r = 0; r < 3; r++) {
            const fd = (w[r] as number) / (2 * h);
            near(
              jac[(3 + r) * kin.dof + k] as number,
              fd,
              1e-5,
              `trial ${trial} J[${3 + r}][${k}]`,
            );
          }
        }
      }
    });

    it("writes into the given buffer and leaves fk unchanged", () => {
      const q = namedPose(robot, "left");
      const before = kin.fk(q);
      const out = new Float64Array(6 * kin.dof);
      assert.equal(kin.jacobian(q, out), out);
      assert.deepEqual(kin.fk(q), before);
    });
  });

  describe("damped least squares", () => {
    it("solves a well-conditioned square system almost exactly for small damping", () => {
      // J = diag(1..6) padded to 6 × 6: dq = e / diag.
      const n = 6;
      const jac = new Float64Array(36);
      for (let i = 0; i < 6; i++) jac[i * n + i] = i + 1;
      const e = [1, 2, 3, 4, 5, 6];
      const out = dampedLeastSquares(jac, n, e, 1e-6, new Float64Array(n), newDlsScratch());
      for (let i = 0; i < 6; i++) near(out[i] as number, 1, 1e-9, `dq[${i}]`);
    });

    it("bounds the step at a singular Jacobian", () => {
      const n = 7;
      const jac = new Float64Array(6 * n); // all zero: no motion possible
      jac[0] = 1;
      const out = dampedLeastSquares(
        jac,
        n,
        [0, 1, 0, 0, 0, 0],
        0.1,
        new Float64Array(n),
        newDlsScratch(),
      );
      assert.ok(out.every(Number.isFinite));
      assert.ok(out.every((v) => v === 0));
    });
  });

  describe("inverse kinematics", () => {
    it("round-trips ik(fk(q)) for ≥ 95 % of 300 random configurations", () => {
      const random = seededRandom(0xabc123);
      const seed = namedPose(robot, "ready");
      const tool = new Float64Array(TRANSFORM_SIZE);
      const goal = new Float64Array(TRANSFORM_SIZE);
      const err = new Float64Array(3);
      const n = 300;
      let solved = 0;
      for (let i = 0; i < n; i++) {
        const q = randomConfig(kin, random);
        const target: Pose = kin.fk(q);
        const r = kin.ik(target, seed);
        assert.ok(withinLimits(r.q, kin), `case ${i}: result outside the joint limits`);
        if (!r.ok) continue;
        solved += 1;
        // Independent check of the result, not the solver's own report.
        kin.fkTransform(r.q, tool);
        transformFromPose(target, goal);
        const dp = Math.hypot(
          (tool[9] as number) - (goal[9] as number),
          (tool[10] as number) - (goal[10] as number),
          (tool[11] as number) - (goal[11] as number),
        );
        const dAngle = rotationErrorVector(err, goal, tool);
        assert.ok(dp <= 1e-4, `case ${i}: position error ${dp}`);
        assert.ok(dAngle <= 1e-3, `case ${i}: orientation error ${dAngle}`);
        assert.ok(
          r.positionError <= 1e-4 && r.orientationError <= 1e-3,
          `case ${i}: reported errors`,
        );
      }
      assert.ok(solved >= 0.95 * n, `solved ${solved} of ${n}`);
    });

    it("is deterministic for the same input", () => {
      const target = kin.fk(namedPose(robot, "left"));
      const a = kin.ik(target, namedPose(robot, "right"));
      const b = kin.ik(target, namedPose(robot, "right"));
      assert.deepEqual(a, b);
    });

    it("returns ok:false with a large position error for a pose 2 m away", () => {
      const ready = kin.fk(namedPose(robot, "ready"));
      const far: Pose = { ...ready, position: { ...ready.position, x: ready.position.x + 2 } };
      const r = kin.ik(far, namedPose(robot, "ready"), { restarts: 2 });
      assert.equal(r.ok, false);
      assert.ok(r.positionError > 0.5, `positionError ${r.positionError}`);
      assert.ok(withinLimits(r.q, kin), "best configuration inside the limits");
    });

    it("honours accept: a solution the caller rejects is no solution", () => {
      const target = kin.fk(namedPose(robot, "extended"));
      let calls = 0;
      const r = kin.ik(target, namedPose(robot, "ready"), {
        restarts: 2,
        accept: () => {
          calls += 1;
          return false;
        },
      });
      assert.equal(r.ok, false);
      assert.ok(calls >= 1, "accept was consulted");
      // The same query with an accepting test succeeds, and accept sees the solution.
      let seen: Float64Array | null = null;
      const ok = kin.ik(target, namedPose(robot, "ready"), {
        accept: (q) => {
          seen = Float64Array.from(q);
          return true;
        },
      });
      assert.equal(ok.ok, true);
      assert.deepEqual(seen, ok.q);
    });

    it("can accept only solutions on one side (e.g. joint 1 positive)", () => {
      const q0 = Float64Array.from([0.4, 0.2, 0.3, -1.8, 0.1, 1.9, 0.5]);
      const target = kin.fk(q0);
      const r = kin.ik(target, namedPose(robot, "ready"), { accept: (q) => (q[0] as number) > 0 });
      assert.equal(r.ok, true);
      assert.ok((r.q[0] as number) > 0);
    });
  });

  describe("linkPoses", () => {
    function fingerGap(q: ArrayLike<number>, opening: number): { gap: number; mid: number[] } {
      const poses = kin.linkPoses(q, opening);
      const l = kin.linkNames.indexOf("panda_leftfinger") * TRANSFORM_SIZE;
      const r = kin.linkNames.indexOf("panda_rightfinger") * TRANSFORM_SIZE;
      const d = [0, 1, 2].map((i) => (poses[l + 9 + i] as number) - (poses[r + 9 + i] as number));
      const mid = [0, 1, 2].map(
        (i) => ((poses[l + 9 + i] as number) + (poses[r + 9 + i] as number)) / 2,
      );
      return { gap: Math.hypot(d[0] as number, d[1] as number, d[2] as number), mid };
    }

    it("moves the fingers apart by exactly the gripper opening", () => {
      for (const name of ["ready", "left"]) {
        const q = namedPose(robot, name);
        const closed = fingerGap(q, 0);
        near(closed.gap, 0, 1e-12, `${name} closed`);
        for (const opening of [0.01, 0.04, 0.08]) {
          const open = fingerGap(q, opening);
          near(open.gap, opening, 1e-12, `${name} opening ${opening}`);
          // Symmetric: the midpoint between the fingers does not move.
          open.mid.forEach((v, i) => near(v, closed.mid[i] as number, 1e-12, `${name} mid[${i}]`));
        }
      }
    });

    it("places the TCP link where fk puts the tool, and the root at identity", () => {
      const random = seededRandom(5);
      for (let i = 0; i < 5; i++) {
        const q = randomConfig(kin, random);
        const poses = kin.linkPoses(q, 0.03);
        const tcp = kin.linkNames.indexOf("panda_hand_tcp") * TRANSFORM_SIZE;
        const expected = new Float64Array(TRANSFORM_SIZE);
        kin.fkTransform(q, expected);
        for (let k = 0; k < TRANSFORM_SIZE; k++)
          near(poses[tcp + k] as number, expected[k] as number, 1e-12, `t[${k}]`);
        assert.deepEqual(
          Array.from(poses.subarray(0, TRANSFORM_SIZE)),
          [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
        );
      }
    });
  });
});
