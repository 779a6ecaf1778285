/**
 * The motion planner (server/sim/motion-planner.ts with planner/rrt-connect.ts,
 * shortcut.ts, segment-checker.ts) on the shipped Panda in the default cell. Every plan it
 * returns is checked independently: it starts exactly at the start and ends exactly at the
 * goal, its times strictly increase, its point velocities and its sampled accelerations stay
 * within the scaled limits, and a finer replay (validateTrajectory at 0.005 rad) finds no
 * collision. Covered goals: the named pose "left", 20 seeded random collision-free joint
 * goals, a reachable pose goal; failures: a goal in collision (link and object named), a goal
 * out of limits, a start in collision, an unreachable pose, malformed input. With a box placed
 * on the straight joint-space path (checked blocked with SegmentChecker first) the planner
 * must still find a valid, non-direct path. The SegmentChecker, RRT-Connect and shortcutting
 * are also exercised on their own against a fake checker.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Pose } from "../../shared/geometry.ts";
import type { ArmCollisionChecker, CollisionHit } from "../../server/sim/contracts.ts";
import type { ArmKinematics } from "../../server/sim/kinematics.ts";
import { rotationErrorVector, TRANSFORM_SIZE, transformFromPose } from "../../server/sim/math.ts";
import {
  MotionPlanner,
  type PlanOptions,
  type PlanResult,
} from "../../server/sim/motion-planner.ts";
import { lerpInto, pathLength, PlannerInputError } from "../../server/sim/planner/joint-space.ts";
import { rrtConnect } from "../../server/sim/planner/rrt-connect.ts";
import { SegmentChecker } from "../../server/sim/planner/segment-checker.ts";
import { shortcutPath } from "../../server/sim/planner/shortcut.ts";
import { seededRandom } from "../../server/sim/random.ts";
import type { JointTrajectory, TrajectoryPoint } from "../../server/sim/trajectory.ts";
import { newSample, sampleTrajectory } from "../../server/sim/trajectory-sample.ts";
import { validateTrajectory } from "../../server/sim/trajectory-validation.ts";
import { createTwinWorld, type TwinWorld } from "../../server/sim/world.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda, maxAbsDiff, namedPose, randomConfig } from "./support.ts";

const OPTIONS: PlanOptions = {
  timeoutMs: 5000,
  velocityScale: 0.5,
  accelerationScale: 0.4,
  seed: 7,
};

/** Asserts everything a successful plan promises, checked independently of the planner. */
function assertValidPlan(
  result: PlanResult,
  start: ArrayLike<number>,
  goal: ArrayLike<number> | null,
  kin: ArmKinematics,
  checker: ArmCollisionChecker,
  options: PlanOptions,
  what: string,
): JointTrajectory {
  assert.ok(result.ok, `${what}: ${result.ok ? "" : `${result.reason}: ${result.message}`}`);
  const traj = result.trajectory;
  assert.deepEqual(traj.jointNames, kin.jointNames, what);
  const pts = traj.points;
  assert.ok(pts.length >= 2, `${what}: points`);
  const first = pts[0];
  const last = pts[pts.length - 1];
  assert.ok(first && last);
  assert.equal(first.timeFromStart, 0, `${what}: first time`);
  assert.ok(maxAbsDiff(first.positions, start) <= 1e-9, `${what}: first point is the start`);
  assert.ok(
    maxAbsDiff(last.positions, result.goal) <= 1e-9,
    `${what}: last point is the plan's goal`,
  );
  if (goal) assert.ok(maxAbsDiff(last.positions, goal) <= 1e-9, `${what}: last point is the goal`);
  assert.equal(last.timeFromStart, traj.duration, `${what}: duration`);
  assert.ok(
    first.velocities.every((v) => v === 0) && last.velocities.every((v) => v === 0),
    `${what}: at rest`,
  );

  const vmax = Array.from(kin.maxVelocity, (v) => v * options.velocityScale);
  const amax = Array.from(kin.maxAcceleration, (a) => a * options.accelerationScale);
  // Collect the first violation instead of asserting per sample (thousands of samples).
  let violation: string | null = null;
  for (let i = 0; i < pts.length && violation === null; i++) {
    const p = pts[i] as TrajectoryPoint;
    if (i > 0 && !(p.timeFromStart > (pts[i - 1] as TrajectoryPoint).timeFromStart))
      violation = `time at ${i}`;
    if (p.positions.length !== kin.dof) violation = `point ${i}: ${p.positions.length} positions`;
    p.velocities.forEach((v, j) => {
      if (!(Math.abs(v) <= (vmax[j] as number) + 1e-9))
        violation ??= `point ${i} joint ${j} v=${v}`;
    });
  }
  // Sampled accelerations (and velocities) between the points.
  const sample = newSample(kin.dof, true);
  const accelerations = sample.accelerations as Float64Array;
  const n = Math.max(200, Math.ceil(traj.duration / 0.002));
  let hint = 0;
  for (let k = 0; k <= n && violation === null; k++) {
    const t = (traj.duration * k) / n;
    hint = sampleTrajectory(traj, t, sample, hint);
    for (let j = 0; j < kin.dof; j++) {
      const a = accelerations[j] as number;
      const v = sample.velocities[j] as number;
      if (!(Math.abs(a) <= (amax[j] as number) + 1e-6)) violation ??= `t=${t} joint ${j} a=${a}`;
      if (!(Math.abs(v) <= (vmax[j] as number) + 1e-9)) violation ??= `t=${t} joint ${j} v=${v}`;
    }
  }
  assert.equal(violation, null, what);
  const replay = validateTrajectory(traj, checker, kin, { resolution: 0.005 });
  assert.ok(replay.ok, `${what}: replay ${replay.ok ? "" : replay.message}`);
  return traj;
}

describe("MotionPlanner on the Panda in the work cell", () => {
  let robot: RobotDescription;
  let kin: ArmKinematics;
  let world: TwinWorld;
  let planner: MotionPlanner;
  let ready: Float64Array;

  before(async () => {
    robot = await loadPanda();
    kin = robot.kinematics;
    ready = namedPose(robot, "ready");
    world = await createTwinWorld(kin, robot.scene, { timestep: 0.001 });
    world.setArmJoints(ready, kin.gripperRange.max);
    planner = new MotionPlanner(kin, world);
  });
  after(() => {
    world.free();
  });

  it('plans ready → "left"', () => {
    const left = namedPose(robot, "left");
    const r = planner.plan({ start: ready, goal: { kind: "joints", positions: left } }, OPTIONS);
    assertValidPlan(r, ready, left, kin, world, OPTIONS, "left");
    assert.ok(r.ok && r.stats.waypoints >= 2 && r.stats.pathLength > 0);
  });

  it("plans to 20 seeded random collision-free goals", () => {
    const random = seededRandom(20240601);
    let planned = 0;
    let tries = 0;
    while (planned < 20) {
      tries += 1;
      assert.ok(tries < 500, "enough collision-free samples");
      const goal = randomConfig(kin, random, 0.05);
      if (world.checkArm(goal)) continue;
      planned += 1;
      const r = planner.plan({ start: ready, goal: { kind: "joints", positions: goal } }, OPTIONS);
      assertValidPlan(r, ready, goal, kin, world, OPTIONS, `goal ${planned}`);
    }
  });

  it("plans at full speed too, still within the limits", () => {
    const full: PlanOptions = { timeoutMs: 5000, velocityScale: 1, accelerationScale: 1 };
    const goal = namedPose(robot, "right");
    const r = planner.plan(
      { start: namedPose(robot, "left"), goal: { kind: "joints", positions: goal } },
      full,
    );
    assertValidPlan(r, namedPose(robot, "left"), goal, kin, world, full, "left → right");
  });

  it("returns the start alone when start and goal coincide", () => {
    const r = planner.plan({ start: ready, goal: { kind: "joints", positions: ready } }, OPTIONS);
    assert.ok(r.ok);
    assert.equal(r.trajectory.duration, 0);
    assert.equal(r.trajectory.points.length, 1);
    assert.deepEqual(r.trajectory.points[0]?.positions, Array.from(ready));
  });

  it("refuses a goal in collision, naming the link and the object", () => {
    const intoTable = [0, 0.5, 0, -3, 0, 3, 0];
    const hit = world.checkArm(intoTable);
    assert.ok(hit && hit.other.kind === "object");
    const r = planner.plan(
      { start: ready, goal: { kind: "joints", positions: intoTable } },
      OPTIONS,
    );
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.reason, "goal_in_collision");
    assert.match(r.message, new RegExp(hit.link));
    assert.match(r.message, /table/);
  });

  it("refuses a start in collision", () => {
    const folded = [0, 0, 0, -3, 0, 0, 0];
    const r = planner.plan({ start: folded, goal: { kind: "joints", positions: ready } }, OPTIONS);
    assert.ok(!r.ok);
    assert.equal(r.reason, "start_in_collision");
    assert.match(r.message, /panda_/);
  });

  it("refuses a goal out of limits, naming the joint", () => {
    const goal = Float64Array.from(ready);
    goal[3] = 0.5; // panda_joint4 must stay below -0.0698
    const r = planner.plan({ start: ready, goal: { kind: "joints", positions: goal } }, OPTIONS);
    assert.ok(!r.ok);
    assert.equal(r.reason, "out_of_limits");
    assert.match(r.message, /panda_joint4/);
  });

  it("refuses a pose goal 2 m away as unreachable", () => {
    const here = kin.fk(ready);
    const far: Pose = { ...here, position: { ...here.position, x: here.position.x + 2 } };
    const r = planner.plan({ start: ready, goal: { kind: "pose", pose: far } }, OPTIONS);
    assert.ok(!r.ok);
    assert.equal(r.reason, "goal_unreachable");
    assert.match(r.message, /out of reach/);
  });

  it("plans to a reachable pose goal, ending where the pose asks", () => {
    const target = kin.fk([0.4, 0.2, 0.3, -1.8, 0.1, 1.9, 0.5]);
    const r = planner.plan({ start: ready, goal: { kind: "pose", pose: target } }, OPTIONS);
    const traj = assertValidPlan(r, ready, null, kin, world, OPTIONS, "pose goal");
    const last = traj.points[traj.points.length - 1];
    assert.ok(last);
    const reached = new Float64Array(TRANSFORM_SIZE);
    kin.fkTransform(last.positions, reached);
    const wanted = transformFromPose(target);
    const dp = Math.hypot(
      (reached[9] as number) - (wanted[9] as number),
      (reached[10] as number) - (wanted[10] as number),
      (reached[11] as number) - (wanted[11] as number),
    );
    assert.ok(dp <= 1e-3, `position error ${dp}`);
    assert.ok(rotationErrorVector(new Float64Array(3), wanted, reached) <= 1e-2, "orientation");
  });

  it("returns plans that a finer replay (0.005 rad) also finds collision-free, from random starts", () => {
    const random = seededRandom(99);
    const free = (): Float64Array => {
      for (;;) {
        const q = randomConfig(kin, random);
        if (!world.checkArm(q)) return q;
      }
    };
    const grazes: string[] = [];
    for (let i = 0; i < 60; i++) {
      const start = free();
      const goal = free();
      const options: PlanOptions = {
        timeoutMs: 3000,
        velocityScale: 0.1 + 0.9 * random(),
        accelerationScale: 0.1 + 0.9 * random(),
        seed: i,
      };
      const r = planner.plan({ start, goal: { kind: "joints", positions: goal } }, options);
      if (!r.ok) continue;
      const replay = validateTrajectory(r.trajectory, world, kin, { resolution: 0.005 });
      if (!replay.ok) grazes.push(`pair ${i}: ${replay.message}`);
    }
    assert.deepEqual(grazes, []);
  });

  it("throws PlannerInputError for malformed input", () => {
    assert.throws(
      () => planner.plan({ start: ready, goal: { kind: "joints", positions: [0, 0, 0] } }, OPTIONS),
      PlannerInputError,
    );
    const nan = Float64Array.from(ready);
    nan[2] = Number.NaN;
    assert.throws(
      () => planner.plan({ start: nan, goal: { kind: "joints", positions: ready } }, OPTIONS),
      PlannerInputError,
    );
    assert.throws(
      () =>
        planner.plan(
          { start: ready, goal: { kind: "joints", positions: ready } },
          { ...OPTIONS, timeoutMs: 0 },
        ),
      PlannerInputError,
    );
  });

  describe("with an obstacle on the straight path", () => {
    const left = (): Float64Array => namedPose(robot, "left");
    before(() => {
      // A box around the hand halfway along the straight joint-space path ready → left.
      const mid = lerpInto(new Float64Array(kin.dof), ready, left(), 0.5);
      world.addObject({
        id: "wall",
        shape: { kind: "box", size: { x: 0.12, y: 0.12, z: 0.3 } },
        pose: robot.baseToWorld(kin.fk(mid)),
        dynamic: false,
        mass: 1,
        virtual: true,
        color: null,
      });
    });
    after(() => {
      world.removeObject("wall");
    });

    it("blocks the direct segment (checked with SegmentChecker)", () => {
      assert.equal(world.checkArm(ready), null);
      assert.equal(world.checkArm(left()), null);
      const segments = new SegmentChecker(world, kin.dof, 0.015);
      const hit = segments.firstHit(ready, left(), true);
      assert.ok(hit, "the straight segment is blocked");
      assert.deepEqual(hit.hit.other, { kind: "object", id: "wall" });
      assert.ok(hit.fraction > 0 && hit.fraction < 1);
    });

    it("still finds a valid path around it", () => {
      const r = planner.plan(
        { start: ready, goal: { kind: "joints", positions: left() } },
        OPTIONS,
      );
      assertValidPlan(r, ready, left(), kin, world, OPTIONS, "around the wall");
      assert.ok(r.ok);
      assert.equal(r.stats.direct, false);
      assert.ok(r.stats.waypoints >= 3, `waypoints ${r.stats.waypoints}`);
    });
  });
});

/** A fake checker: a joint-space ball of radius `r` around `centre` is "in collision". */
class BallObstacle implements ArmCollisionChecker {
  calls = 0;
  constructor(
    readonly centre: readonly number[],
    readonly r: number,
  ) {}
  checkArm(q: ArrayLike<number>): CollisionHit | null {
    this.calls += 1;
    let s = 0;
    for (let j = 0; j < this.centre.length; j++)
      s += ((q[j] as number) - (this.centre[j] as number)) ** 2;
    return Math.sqrt(s) < this.r ? { link: "tool", other: { kind: "object", id: "ball" } } : null;
  }
}

describe("planner parts on a 2-joint toy problem", () => {
  const limits = {
    jointNames: ["a", "b"],
    lower: Float64Array.from([-2, -2]),
    upper: Float64Array.from([2, 2]),
  };
  const start = [-1.5, 0];
  const goal = [1.5, 0];

  it("SegmentChecker splits segments so no joint moves more than the resolution", () => {
    const visited: number[][] = [];
    const recorder: ArmCollisionChecker = {
      checkArm(q) {
        visited.push(Array.from(q));
        return null;
      },
    };
    const seg = new SegmentChecker(recorder, 2, 0.1);
    assert.equal(seg.steps([0, 0], [1, 0.3]), 10);
    assert.equal(seg.steps([0, 0], [0, 0]), 1);
    assert.equal(seg.segmentFree([0, 0], [1, 0.3]), true);
    assert.equal(visited.length, 10, "every step end, not the start");
    assert.deepEqual(visited[0], [1, 0.3], "the end first");
    const sorted = [...visited].sort((x, y) => (x[0] as number) - (y[0] as number));
    for (let i = 0; i < sorted.length; i++) {
      assert.ok(Math.abs((sorted[i]?.[0] as number) - (i + 1) / 10) < 1e-12);
    }
    assert.equal(seg.checks, 10);
    assert.throws(() => new SegmentChecker(recorder, 2, 0), PlannerInputError);
  });

  it("SegmentChecker.firstHit in order returns the hit nearest the start", () => {
    const seg = new SegmentChecker(new BallObstacle([0, 0], 0.5), 2, 0.1);
    const hit = seg.firstHit(start, goal, true);
    assert.ok(hit);
    // The ball starts at -0.5 on the line; step ends are at -1.5 + 0.1 k.
    assert.ok(Math.abs(-1.5 + 3 * hit.fraction - -0.4) < 1e-9, `fraction ${hit.fraction}`);
    assert.equal(seg.firstHit([-1.5, 1], [1.5, 1], true), null);
  });

  it("RRT-Connect goes around the obstacle with collision-free edges, deterministically", () => {
    const ball = new BallObstacle([0, 0], 0.8);
    const run = () =>
      rrtConnect(start, goal, ball, limits, { seed: 3, resolution: 0.02, maxIterations: 5000 });
    const r = run();
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.stats.direct, false);
    assert.deepEqual(Array.from(r.waypoints[0] ?? []), start);
    assert.deepEqual(Array.from(r.waypoints[r.waypoints.length - 1] ?? []), goal);
    const check = new SegmentChecker(ball, 2, 0.02);
    for (let i = 1; i < r.waypoints.length; i++) {
      assert.ok(
        check.segmentFree(r.waypoints[i - 1] as Float64Array, r.waypoints[i] as Float64Array),
        `edge ${i}`,
      );
    }
    const again = run();
    assert.ok(again.ok);
    assert.deepEqual(again.waypoints, r.waypoints);
  });

  it("RRT-Connect reports direct paths and the failure reasons", () => {
    const free = new BallObstacle([5, 5], 0.1);
    const d = rrtConnect(start, goal, free, limits);
    assert.ok(d.ok && d.stats.direct && d.waypoints.length === 2);
    const ball = new BallObstacle([0, 0], 0.8);
    const inside = rrtConnect(start, [0.1, 0], ball, limits);
    assert.ok(!inside.ok && inside.reason === "goal_in_collision");
    const outside = rrtConnect([3, 0], goal, ball, limits);
    assert.ok(
      !outside.ok && outside.reason === "start_out_of_limits" && outside.breach.jointName === "a",
    );
    // A wall across the whole box: no path exists.
    const wall: ArmCollisionChecker = {
      checkArm: (q) =>
        Math.abs(q[0] as number) < 0.1 ? { link: "x", other: { kind: "link", name: "y" } } : null,
    };
    const none = rrtConnect(start, goal, wall, limits, { maxIterations: 200 });
    assert.ok(!none.ok && none.reason === "iterations_exhausted" && none.limit === "iterations");
  });

  it("shortcutting keeps the ends, never lengthens, and keeps every segment free", () => {
    const ball = new BallObstacle([0, 0], 0.8);
    const seg = new SegmentChecker(ball, 2, 0.02);
    // A zig-zag around the ball.
    const zigzag = [
      [-1.5, 0],
      [-1.2, 1.1],
      [-0.6, 1.0],
      [-0.3, 1.4],
      [0.4, 1.0],
      [0.9, 1.3],
      [1.5, 0],
    ].map((q) => Float64Array.from(q));
    for (let i = 1; i < zigzag.length; i++) {
      assert.ok(
        seg.segmentFree(zigzag[i - 1] as Float64Array, zigzag[i] as Float64Array),
        `input edge ${i}`,
      );
    }
    const r = shortcutPath(zigzag, seg, { iterations: 200, timeoutMs: 10_000, seed: 9 });
    assert.deepEqual(r.path[0], zigzag[0]);
    assert.deepEqual(r.path[r.path.length - 1], zigzag[zigzag.length - 1]);
    assert.ok(r.lengthAfter <= r.lengthBefore + 1e-12);
    assert.ok(
      r.lengthAfter < pathLength(zigzag) - 0.1,
      `shortened ${r.lengthBefore} → ${r.lengthAfter}`,
    );
    for (let i = 1; i < r.path.length; i++) {
      assert.ok(
        seg.segmentFree(r.path[i - 1] as Float64Array, r.path[i] as Float64Array),
        `output edge ${i}`,
      );
    }
    assert.throws(() => shortcutPath([], seg), PlannerInputError);
  });
});
