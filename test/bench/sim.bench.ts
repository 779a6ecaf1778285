/**
 * Simulation-core benchmark (one thread, no sockets): per-call wall times of
 *  - the simulated arm controller step (1 kHz loop) and the Rapier twin-world step with the
 *    arm moving through it;
 *  - one collision query of an arm configuration (self + scene);
 *  - forward kinematics, and IK to random reachable tool poses (seeded from the home pose);
 *  - the whole planner (search, smoothing, timing, twin replay) from home to random
 *    collision-free joint goals, and to random reachable pose goals.
 * Figures: median and p95 (ms or µs as the key says); success rates.
 */
import { MotionPlanner } from "../../server/sim/motion-planner.ts";
import { seededRandom } from "../../server/sim/random.ts";
import { SimulatedArm } from "../../server/sim/simulated-arm.ts";
import { timeParameterize } from "../../server/sim/trajectory.ts";
import { createTwinWorld } from "../../server/sim/world.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";
import { summarize, timeCalls } from "./stats.ts";

export interface SimBenchOptions {
  /** Random goals for IK and for each kind of plan. */
  goals: number;
  seed: number;
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

export async function runSimBench(
  options: SimBenchOptions = { goals: 200, seed: 7 },
): Promise<Record<string, unknown>> {
  const robot = await loadRobotDescription({
    robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
  });
  const kin = robot.kinematics;
  const world = await createTwinWorld(kin, robot.scene, { timestep: 0.001 });
  const rnd = seededRandom(options.seed);
  const randomQ = () =>
    Float64Array.from(
      { length: kin.dof },
      (_, j) => kin.lower[j]! + (kin.upper[j]! - kin.lower[j]!) * rnd(),
    );
  const freeQ = () => {
    for (;;) {
      const q = randomQ();
      if (world.checkArm(q) === null) return q;
    }
  };

  // A motion to play through the controller and the world: home → "left" and back.
  const left = robot.namedPoses.get("left")!;
  const traj = timeParameterize([robot.home, left, robot.home], kin, {
    velocityScale: 0.5,
  }).trajectory;
  const arm = new SimulatedArm(kin, robot.home, 0.08);
  const replay = () => arm.play(traj, () => replay());
  replay();
  const armStepUs = timeCalls(() => arm.step(0.001), 200_000).map((ms) => ms * 1000);

  const worldStepUs = timeCalls(() => {
    arm.step(0.001);
    world.setArmJoints(arm.positions, arm.gripper);
    world.step(1);
  }, 20_000).map((ms) => ms * 1000);

  const configs = Array.from({ length: 2000 }, randomQ);
  const checkUs = timeCalls((i) => world.checkArm(configs[i % configs.length]!), 50_000).map(
    (ms) => ms * 1000,
  );
  const fkUs = timeCalls((i) => kin.fk(configs[i % configs.length]!), 100_000).map(
    (ms) => ms * 1000,
  );

  // IK to poses of random collision-free configurations, seeded from home.
  const targets = Array.from({ length: options.goals }, () => kin.fk(freeQ()));
  let ikOk = 0;
  const ikMs = timeCalls((i) => {
    if (kin.ik(targets[i]!, robot.home).ok) ikOk += 1;
  }, targets.length);

  const planner = new MotionPlanner(kin, world);
  const planOptions = { timeoutMs: 2000, velocityScale: 0.5, accelerationScale: 0.5 };
  const jointGoals = Array.from({ length: options.goals }, freeQ);
  let jointOk = 0;
  let direct = 0;
  const failures: Record<string, number> = {};
  const planJointMs = timeCalls((i) => {
    const r = planner.plan(
      { start: robot.home, goal: { kind: "joints", positions: jointGoals[i]! } },
      planOptions,
    );
    if (r.ok) jointOk += 1;
    else failures[r.reason] = (failures[r.reason] ?? 0) + 1;
    if (r.stats.direct) direct += 1;
  }, jointGoals.length);
  let poseOk = 0;
  const planPoseMs = timeCalls((i) => {
    const r = planner.plan(
      { start: robot.home, goal: { kind: "pose", pose: targets[i]! } },
      planOptions,
    );
    if (r.ok) poseOk += 1;
    else failures[`pose:${r.reason}`] = (failures[`pose:${r.reason}`] ?? 0) + 1;
  }, targets.length);
  world.free();

  const fig = (sample: Float64Array, digits = 4) => {
    const s = summarize(sample);
    return {
      median: round(s.median, digits),
      p95: round(s.p95, digits),
      max: round(s.max, digits),
      n: s.n,
    };
  };
  return {
    armControllerStepUs: fig(armStepUs),
    twinWorldStepUs: fig(worldStepUs),
    collisionCheckUs: fig(checkUs),
    fkUs: fig(fkUs),
    ikMs: { ...fig(ikMs), successRate: round(ikOk / targets.length, 3) },
    planJointGoalMs: {
      ...fig(planJointMs),
      successRate: round(jointOk / jointGoals.length, 3),
      directRate: round(direct / jointGoals.length, 3),
    },
    planPoseGoalMs: { ...fig(planPoseMs), successRate: round(poseOk / targets.length, 3) },
    planFailures: failures,
  };
}
