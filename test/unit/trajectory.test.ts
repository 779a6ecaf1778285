/**
 * Trajectory timing, sampling and validation (server/sim/trajectory.ts,
 * trajectory-sample.ts, trajectory-validation.ts) with the Panda's limits. timeParameterize
 * on seeded multi-waypoint paths keeps sampled velocities and accelerations within the scaled
 * limits and positions inside the joint box, starts and ends exactly at rest on the path's
 * ends, passes exactly through stopAt waypoints at rest, and with blend:false rests at every
 * waypoint; malformed input throws TrajectoryError. sampleTrajectory holds the end points
 * outside the time range; decimate and resampleTrajectory keep the end points (and resampling
 * keeps the motion). validateTrajectory, with fake ArmCollisionCheckers, reports wrong joint
 * names, non-increasing times, out-of-limit points, excess velocity and collisions, and checks
 * configurations no more than `resolution` apart.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ArmCollisionChecker, ArmLimits } from "../../server/sim/contracts.ts";
import { seededRandom } from "../../server/sim/random.ts";
import {
  type JointTrajectory,
  timeParameterize,
  type TimingOptions,
  TrajectoryError,
} from "../../server/sim/trajectory.ts";
import {
  decimate,
  findInterval,
  newSample,
  resampleTrajectory,
  sampleTrajectory,
} from "../../server/sim/trajectory-sample.ts";
import { validateTrajectory } from "../../server/sim/trajectory-validation.ts";
import { loadPanda, maxAbsDiff, randomConfig } from "./support.ts";

/** Samples `traj` every ~1 ms (and at every point) and checks the scaled limits. */
function assertWithinLimits(
  traj: JointTrajectory,
  limits: ArmLimits,
  options: TimingOptions,
  what: string,
): void {
  const dof = limits.jointNames.length;
  const vmax = Array.from(limits.maxVelocity, (v) => v * (options.velocityScale ?? 1));
  const amax = Array.from(limits.maxAcceleration, (a) => a * (options.accelerationScale ?? 1));
  const pts = traj.points;
  assert.equal(pts[0]?.timeFromStart, 0, `${what}: starts at 0`);
  assert.equal(pts[pts.length - 1]?.timeFromStart, traj.duration, `${what}: duration`);
  for (let i = 1; i < pts.length; i++) {
    assert.ok(
      (pts[i]?.timeFromStart as number) > (pts[i - 1]?.timeFromStart as number),
      `${what}: time increases at ${i}`,
    );
  }
  const times = pts.map((p) => p.timeFromStart);
  const n = Math.ceil(traj.duration / 0.001);
  for (let k = 0; k <= n; k++) times.push((traj.duration * k) / n);
  // Collect the first violation instead of asserting per sample (thousands of samples).
  const s = newSample(dof, true);
  let violation: string | null = null;
  for (const t of times) {
    sampleTrajectory(traj, t, s);
    for (let j = 0; j < dof && violation === null; j++) {
      const v = s.velocities[j] as number;
      const a = (s.accelerations as Float64Array)[j] as number;
      const q = s.positions[j] as number;
      if (!(Math.abs(v) <= (vmax[j] as number) + 1e-9)) violation = `t=${t} joint ${j} v=${v}`;
      else if (!(Math.abs(a) <= (amax[j] as number) + 1e-6)) violation = `t=${t} joint ${j} a=${a}`;
      else if (!(
        q >= (limits.lower[j] as number) - 1e-9 && q <= (limits.upper[j] as number) + 1e-9
      )) {
        violation = `t=${t} joint ${j} q=${q} outside the joint box`;
      }
    }
    if (violation !== null) break;
  }
  assert.equal(violation, null, what);
}

/** Index of a point exactly at `q` and at rest, or -1. */
function restingAt(traj: JointTrajectory, q: ArrayLike<number>): number {
  return traj.points.findIndex(
    (p) => p.positions.every((x, j) => x === q[j]) && p.velocities.every((v) => v === 0),
  );
}

/** A small 3-joint arm for hand-made cases. */
const TOY: ArmLimits = {
  jointNames: ["a", "b", "c"],
  lower: Float64Array.from([-1, -1, -1]),
  upper: Float64Array.from([1, 1, 1]),
  maxVelocity: Float64Array.from([1, 2, 0.5]),
  maxAcceleration: Float64Array.from([2, 5, 1]),
};

describe("timeParameterize", () => {
  let panda: ArmLimits;
  before(async () => {
    panda = (await loadPanda()).kinematics;
  });

  it("keeps seeded multi-waypoint paths within velocity and acceleration limits", () => {
    const random = seededRandom(77);
    for (let trial = 0; trial < 20; trial++) {
      const count = 2 + Math.floor(random() * 6);
      const path = Array.from({ length: count }, () => randomConfig(panda, random));
      const options: TimingOptions = {
        velocityScale: 0.1 + 0.9 * random(),
        accelerationScale: 0.1 + 0.9 * random(),
      };
      const { trajectory, waypoints } = timeParameterize(path, panda, options);
      const what = `trial ${trial}`;
      assert.deepEqual(trajectory.jointNames, panda.jointNames);
      assertWithinLimits(trajectory, panda, options, what);
      const first = trajectory.points[0];
      const last = trajectory.points[trajectory.points.length - 1];
      assert.deepEqual(
        first?.positions,
        Array.from(path[0] as Float64Array),
        `${what}: exact start`,
      );
      assert.deepEqual(
        last?.positions,
        Array.from(path[count - 1] as Float64Array),
        `${what}: exact end`,
      );
      assert.ok(first?.velocities.every((v) => v === 0) && last?.velocities.every((v) => v === 0));
      assert.ok(
        last?.accelerations.every((a) => a === 0),
        `${what}: last point has zero acceleration`,
      );
      assert.deepEqual(
        waypoints.map((w) => w.waypoint),
        path.map((_, i) => i),
      );
      assert.equal(waypoints[0]?.stops, true);
      assert.equal(waypoints[count - 1]?.stops, true);
      for (let i = 1; i < waypoints.length; i++) {
        assert.ok((waypoints[i]?.start as number) >= (waypoints[i - 1]?.end as number) - 1e-12);
      }
    }
  });

  it("keeps blends inside the joint box for paths along the limits", () => {
    const lo = Array.from(panda.lower);
    const hi = Array.from(panda.upper);
    const corner = (pick: (j: number) => boolean) =>
      Float64Array.from(lo, (l, j) => (pick(j) ? l : (hi[j] as number)));
    const path = [
      corner(() => true),
      corner((j) => j % 2 === 0),
      corner(() => false),
      corner((j) => j % 2 === 1),
    ];
    const options = { velocityScale: 1, accelerationScale: 1 };
    assertWithinLimits(
      timeParameterize(path, panda, options).trajectory,
      panda,
      options,
      "corners",
    );
  });

  it("passes exactly through stopAt waypoints, at rest", () => {
    const path = [
      [0, 0, 0],
      [0.5, 0.4, -0.2],
      [0.6, -0.3, 0.1],
      [-0.2, 0.5, 0.4],
      [0.1, 0.1, -0.5],
    ].map((q) => Float64Array.from(q));
    const blended = timeParameterize(path, TOY);
    assert.equal(
      restingAt(blended.trajectory, path[2] as Float64Array),
      -1,
      "blends through 2 by default",
    );
    const { trajectory, waypoints } = timeParameterize(path, TOY, { stopAt: [2] });
    assertWithinLimits(trajectory, TOY, {}, "stopAt");
    const at = restingAt(trajectory, path[2] as Float64Array);
    assert.ok(at > 0, "a point exactly on waypoint 2 at rest");
    const timing = waypoints.find((w) => w.waypoint === 2);
    assert.ok(timing?.stops);
    // Sampling at that time gives the waypoint exactly.
    const s = newSample(3);
    sampleTrajectory(trajectory, trajectory.points[at]?.timeFromStart as number, s);
    assert.ok(maxAbsDiff(s.positions, path[2] as Float64Array) < 1e-12);
    assert.equal(waypoints.filter((w) => w.stops).length, 3, "start, 2 and goal");
  });

  it("maps stopAt through merged duplicate waypoints", () => {
    const a = Float64Array.from([0, 0, 0]);
    const b = Float64Array.from([0.5, 0.5, 0.5]);
    const c = Float64Array.from([0.9, -0.5, 0]);
    const { trajectory, waypoints } = timeParameterize([a, b, Float64Array.from(b), c], TOY, {
      stopAt: [1],
    });
    assert.deepEqual(
      waypoints.map((w) => w.waypoint),
      [0, 1, 3],
    );
    assert.ok(restingAt(trajectory, b) > 0);
  });

  it("with blend:false stops at every waypoint and is never faster than blending", () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 5; trial++) {
      const path = Array.from({ length: 5 }, () => randomConfig(panda, random));
      const stopped = timeParameterize(path, panda, { blend: false });
      assertWithinLimits(stopped.trajectory, panda, {}, `trial ${trial}`);
      for (const [i, q] of path.entries()) {
        assert.ok(restingAt(stopped.trajectory, q) >= 0, `trial ${trial}: rests on waypoint ${i}`);
      }
      assert.ok(stopped.waypoints.every((w) => w.stops));
      const blended = timeParameterize(path, panda);
      assert.ok(blended.trajectory.duration <= stopped.trajectory.duration + 1e-12);
    }
  });

  it("times a single joint's rest-to-rest move as a trapezoid (or triangle)", () => {
    // Joint a: 1 rad at ≤ 1 rad/s and ≤ 2 rad/s²: ramp 0.5 s (0.25 rad) each end, cruise 0.5 rad.
    const trap = timeParameterize(
      [
        [0, 0, 0],
        [1, 0, 0],
      ],
      TOY,
    ).trajectory;
    assert.ok(Math.abs(trap.duration - 1.5) < 1e-9, `duration ${trap.duration}`);
    // 0.2 rad never reaches 1 rad/s: a triangle of 2·sqrt(0.2 / 2) = 0.632 s, plus at most
    // the shortest straight piece (1 ms) between the two blends.
    const tri = timeParameterize(
      [
        [0, 0, 0],
        [0.2, 0, 0],
      ],
      TOY,
    ).trajectory;
    const ideal = 2 * Math.sqrt(0.2 / 2);
    assert.ok(
      tri.duration >= ideal - 1e-9 && tri.duration <= ideal + 1e-3,
      `duration ${tri.duration}`,
    );
  });

  it("gives a one-point trajectory for a path that does not move", () => {
    const q = [0.1, 0.2, 0.3];
    const { trajectory } = timeParameterize([q, [...q]], TOY);
    assert.equal(trajectory.duration, 0);
    assert.equal(trajectory.points.length, 1);
    assert.deepEqual(trajectory.points[0]?.positions, q);
  });

  it("throws TrajectoryError for NaN, wrong lengths, an empty path and bad options", () => {
    const bad: [string, () => unknown][] = [
      ["empty path", () => timeParameterize([], TOY)],
      [
        "NaN",
        () =>
          timeParameterize(
            [
              [0, 0, 0],
              [Number.NaN, 0, 0],
            ],
            TOY,
          ),
      ],
      [
        "Infinity",
        () =>
          timeParameterize(
            [
              [0, 0, 0],
              [0, Infinity, 0],
            ],
            TOY,
          ),
      ],
      [
        "wrong length",
        () =>
          timeParameterize(
            [
              [0, 0, 0],
              [1, 1],
            ],
            TOY,
          ),
      ],
      ["zero velocity scale", () => timeParameterize([[0, 0, 0]], TOY, { velocityScale: 0 })],
      [
        "acceleration scale above 1",
        () => timeParameterize([[0, 0, 0]], TOY, { accelerationScale: 1.5 }),
      ],
      ["bad minPieceDuration", () => timeParameterize([[0, 0, 0]], TOY, { minPieceDuration: 0 })],
      [
        "bad limits",
        () => timeParameterize([[0, 0, 0]], { ...TOY, maxVelocity: Float64Array.from([1, 0, 1]) }),
      ],
    ];
    for (const [what, call] of bad) {
      assert.throws(
        call,
        (err: unknown) => err instanceof TrajectoryError && err.name === "TrajectoryError",
        what,
      );
    }
    assert.throws(
      () =>
        timeParameterize(
          [
            [0, 0, 0],
            [1, 1],
          ],
          TOY,
        ),
      /waypoint 1: expected 3 joint values, got 2/,
    );
    assert.throws(
      () =>
        timeParameterize(
          [
            [0, 0, 0],
            [Number.NaN, 0, 0],
          ],
          TOY,
        ),
      /waypoint 1 is not finite/,
    );
  });
});

describe("sampling, decimation and resampling", () => {
  let traj: JointTrajectory;
  before(() => {
    const path = [
      [0, 0, 0],
      [0.8, 0.5, -0.3],
      [0.2, -0.6, 0.4],
      [-0.5, 0.2, 0.6],
    ];
    traj = timeParameterize(path, TOY).trajectory;
  });

  it("holds the end points at rest outside the time range", () => {
    const s = newSample(3, true);
    const first = traj.points[0];
    const last = traj.points[traj.points.length - 1];
    assert.ok(first && last);
    sampleTrajectory(traj, -1, s);
    assert.deepEqual(Array.from(s.positions), first.positions);
    assert.ok(
      s.velocities.every((v) => v === 0) && (s.accelerations as Float64Array).every((a) => a === 0),
    );
    sampleTrajectory(traj, traj.duration + 5, s);
    assert.deepEqual(Array.from(s.positions), last.positions);
    assert.ok(s.velocities.every((v) => v === 0));
  });

  it("reproduces the points at their own times and finds intervals with or without a hint", () => {
    const s = newSample(3);
    traj.points.forEach((p, i) => {
      sampleTrajectory(traj, p.timeFromStart, s);
      assert.ok(maxAbsDiff(s.positions, p.positions) < 1e-12, `point ${i} position`);
      assert.ok(maxAbsDiff(s.velocities, p.velocities) < 1e-9, `point ${i} velocity`);
    });
    for (let k = 0; k <= 50; k++) {
      const t = (traj.duration * k) / 50;
      const i = findInterval(traj, t);
      assert.equal(findInterval(traj, t, traj.points.length - 1), i);
      const a = traj.points[i]?.timeFromStart as number;
      const b = traj.points[i + 1]?.timeFromStart as number;
      assert.ok(a <= t && t <= b, `t=${t} in [${a}, ${b}]`);
    }
  });

  it("decimate keeps the end points and the duration", () => {
    assert.ok(traj.points.length > 5);
    const small = decimate(traj, 5);
    assert.equal(small.points.length, 5);
    assert.equal(small.duration, traj.duration);
    assert.deepEqual(small.points[0], traj.points[0]);
    assert.deepEqual(small.points[4], traj.points[traj.points.length - 1]);
    assert.equal(
      decimate(traj, traj.points.length),
      traj,
      "a trajectory that fits is returned as is",
    );
    assert.throws(() => decimate(traj, 1), TrajectoryError);
    assert.throws(() => decimate(traj, 2.5), TrajectoryError);
  });

  it("resampleTrajectory keeps every point, the end points and the motion", () => {
    const period = 0.01;
    const dense = resampleTrajectory(traj, period);
    assert.equal(dense.duration, traj.duration);
    assert.deepEqual(dense.points[0], traj.points[0]);
    assert.deepEqual(dense.points[dense.points.length - 1], traj.points[traj.points.length - 1]);
    for (let i = 1; i < dense.points.length; i++) {
      const dt =
        (dense.points[i]?.timeFromStart as number) - (dense.points[i - 1]?.timeFromStart as number);
      assert.ok(dt > 0 && dt <= period + 1e-12, `interval ${i}: ${dt}`);
    }
    const denseTimes = new Set(dense.points.map((p) => p.timeFromStart));
    for (const p of traj.points)
      assert.ok(denseTimes.has(p.timeFromStart), `keeps t=${p.timeFromStart}`);
    const a = newSample(3);
    const b = newSample(3);
    for (let k = 0; k <= 333; k++) {
      const t = (traj.duration * k) / 333;
      sampleTrajectory(traj, t, a);
      sampleTrajectory(dense, t, b);
      assert.ok(maxAbsDiff(a.positions, b.positions) < 1e-9, `same motion at t=${t}`);
    }
    assert.throws(() => resampleTrajectory(traj, 0), TrajectoryError);
    assert.throws(() => resampleTrajectory(traj, 1e-4, 100), TrajectoryError);
  });
});

describe("validateTrajectory", () => {
  const free: ArmCollisionChecker = { checkArm: () => null };
  let traj: JointTrajectory;
  before(() => {
    traj = timeParameterize(
      [
        [-0.8, 0, 0],
        [0.8, 0.3, -0.2],
      ],
      TOY,
    ).trajectory;
  });

  it("accepts a valid trajectory against a free checker", () => {
    const r = validateTrajectory(traj, free, TOY);
    assert.ok(r.ok);
    assert.ok(r.checks > 2);
  });

  it("checks configurations no more than `resolution` apart, from start to end", () => {
    const seen: number[][] = [];
    const recorder: ArmCollisionChecker = {
      checkArm(q) {
        seen.push(Array.from(q));
        return null;
      },
    };
    const r = validateTrajectory(traj, recorder, TOY, { resolution: 0.005 });
    assert.ok(r.ok);
    assert.equal(r.checks, seen.length);
    assert.deepEqual(seen[0], traj.points[0]?.positions);
    assert.ok(
      maxAbsDiff(
        seen[seen.length - 1] as number[],
        traj.points[traj.points.length - 1]?.positions ?? [],
      ) < 1e-12,
    );
    for (let i = 1; i < seen.length; i++) {
      assert.ok(
        maxAbsDiff(seen[i] as number[], seen[i - 1] as number[]) <= 0.005 + 1e-12,
        `step ${i}`,
      );
    }
  });

  it("reports wrong joint names", () => {
    const r = validateTrajectory({ ...traj, jointNames: ["a", "c", "b"] }, free, TOY);
    assert.ok(!r.ok);
    assert.match(r.message, /joint names do not match/);
    assert.ok(Number.isNaN(r.time));
    const short = validateTrajectory({ ...traj, jointNames: ["a", "b"] }, free, TOY);
    assert.ok(!short.ok);
  });

  it("reports an empty trajectory and times that do not increase", () => {
    const empty = validateTrajectory(
      { jointNames: TOY.jointNames, points: [], duration: 0 },
      free,
      TOY,
    );
    assert.ok(!empty.ok && /no points/.test(empty.message));
    const p0 = traj.points[0];
    const p1 = traj.points[1];
    assert.ok(p0 && p1);
    const stuck = validateTrajectory(
      { ...traj, points: [p0, { ...p1, timeFromStart: 0 }, ...traj.points.slice(2)] },
      free,
      TOY,
    );
    assert.ok(!stuck.ok && /time does not increase/.test(stuck.message));
  });

  it("reports a point outside the joint limits, naming the joint", () => {
    const points = traj.points.map((p) => ({ ...p, positions: [...p.positions] }));
    const k = Math.floor(points.length / 2);
    const p = points[k];
    assert.ok(p);
    p.positions[2] = 1.3;
    const r = validateTrajectory({ ...traj, points }, free, TOY);
    assert.ok(!r.ok);
    assert.match(r.message, /^c = 1\.3000 rad outside \[-1, 1\]/);
    assert.equal(r.time, p.timeFromStart);
  });

  it("reports a point faster than the velocity limit", () => {
    const points = traj.points.map((p) => ({ ...p, velocities: [...p.velocities] }));
    const p = points[1];
    assert.ok(p);
    p.velocities[1] = 2.5; // limit of b is 2 rad/s
    const r = validateTrajectory({ ...traj, points }, free, TOY);
    assert.ok(!r.ok);
    assert.match(r.message, /^b faster than its limit/);
  });

  it("reports a collision with its time and the hit", () => {
    // "Collides" wherever joint a passes 0.2 rad.
    const wall: ArmCollisionChecker = {
      checkArm: (q) =>
        (q[0] as number) > 0.2 ? { link: "tool", other: { kind: "object", id: "wall" } } : null,
    };
    const r = validateTrajectory(traj, wall, TOY, { resolution: 0.01 });
    assert.ok(!r.ok);
    assert.deepEqual(r.hit, { link: "tool", other: { kind: "object", id: "wall" } });
    assert.match(r.message, /collision at .* s: tool touches object wall/);
    assert.ok(r.time > 0 && r.time < traj.duration);
    // The reported time is the first checked configuration past the wall, within a step.
    const s = newSample(3);
    sampleTrajectory(traj, r.time, s);
    assert.ok((s.positions[0] as number) > 0.2 && (s.positions[0] as number) <= 0.2 + 0.01 + 1e-12);
    // A start in collision is reported at t = 0.
    const everywhere: ArmCollisionChecker = {
      checkArm: () => ({ link: "x", other: { kind: "link", name: "y" } }),
    };
    const atStart = validateTrajectory(traj, everywhere, TOY);
    assert.ok(!atStart.ok && atStart.time === 0 && atStart.checks === 1);
  });
});
