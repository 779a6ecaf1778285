/**
 * The parts of ros/sim-cell that need no socket: op validation, frame encoding (fragments,
 * CBOR) and reassembly, per-subscription throttle/queue/merge semantics, goal trajectory
 * checks, message schemas per ROS version, MoveIt's scaling-factor reading, the cell core
 * stepped on an injected clock, servo jog refusals, and start-up option checks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decode as decodeCbor } from "cbor2";
import { pino } from "pino";
import { MoveItErrorCode, toRosTime, type JointTrajectoryMsg } from "../../shared/ros-msgs.ts";
import { PlanFailure } from "../../server/sim/motion-planner.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { sameType } from "../../ros/sim-cell/catalog.ts";
import { SimCellCore } from "../../ros/sim-cell/cell.ts";
import { JointNames, trajectoryFromMsg } from "../../ros/sim-cell/conversions.ts";
import {
  GoalRejectedError,
  ProtocolError,
  RequestRefusedError,
  SimCellStartError,
} from "../../ros/sim-cell/errors.ts";
import { startSimCell } from "../../ros/sim-cell/index.ts";
import { planFailureCode, scalingFactor } from "../../ros/sim-cell/moveit.ts";
import { parseOp } from "../../ros/sim-cell/protocol.ts";
import { rosSchemas } from "../../shared/ros-schemas.ts";
import { applyJointJog } from "../../ros/sim-cell/servo.ts";
import { type PublishSink, TopicSubscription } from "../../ros/sim-cell/subscriptions.ts";
import {
  EncodedMessage,
  type Frame,
  FragmentAssembler,
  MAX_FRAGMENTS_PER_MESSAGE,
} from "../../ros/sim-cell/wire.ts";
import { loadPanda } from "./support.ts";

function throwsProtocol(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && pattern.test(err.message));
}

describe("parseOp", () => {
  it("accepts valid ops and keeps their fields", () => {
    const op = parseOp({ op: "subscribe", id: "s", topic: "/joint_states", throttle_rate: 10 });
    assert.equal(op.op, "subscribe");
    assert.equal(op.op === "subscribe" && op.throttle_rate, 10);
  });

  it("names what is wrong and echoes the id", () => {
    throwsProtocol(() => parseOp([1]), /must be a JSON object/);
    throwsProtocol(() => parseOp(null), /must be a JSON object/);
    throwsProtocol(() => parseOp({ id: 1 }), /no op/);
    throwsProtocol(() => parseOp({ op: 3 }), /op must be a string/);
    throwsProtocol(() => parseOp({ op: "fly" }), /unknown op "fly"/);
    throwsProtocol(() => parseOp({ op: "advertise_service" }), /not supported/);
    throwsProtocol(() => parseOp({ op: "subscribe", topic: "" }), /topic: must not be empty/);
    throwsProtocol(() => parseOp({ op: "send_action_goal", action: "/a" }), /id/);
    try {
      parseOp({ op: "publish", id: "p7" });
      assert.fail("expected a ProtocolError");
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.opId, "p7");
      assert.ok(err.cause, "the zod error travels as cause");
    }
  });
});

describe("EncodedMessage", () => {
  const message = new EncodedMessage({
    op: "publish",
    topic: "/t",
    msg: { data: "x".repeat(200), values: [1.5, -2, 3e-9] },
  });
  let n = 0;
  const nextId = () => `m${++n}`;

  it("sends short messages whole and long ones as fragments that join back", () => {
    assert.deepEqual(message.frames({ compression: "none" }, nextId), [message.json()]);
    const frames = message.frames({ compression: "none", fragmentSize: 50 }, nextId);
    const parts = frames.map((f) => JSON.parse(f as string) as Record<string, unknown>);
    assert.equal(parts.length, Math.ceil(message.json().length / 50));
    assert.ok(parts.every((p) => p.op === "fragment" && p.total === parts.length));
    assert.ok(parts.every((p) => (p.data as string).length <= 50));
    assert.deepEqual(
      parts.map((p) => p.num),
      parts.map((_, i) => i),
    );
    assert.equal(parts.map((p) => p.data).join(""), message.json());
    assert.equal(new Set(parts.map((p) => p.id)).size, 1);
  });

  it("never cuts a message into more than the bound of fragments", () => {
    const big = new EncodedMessage({ op: "publish", topic: "/t", msg: "y".repeat(30_000) });
    const frames = big.frames({ compression: "none", fragmentSize: 1 }, nextId);
    assert.ok(frames.length <= MAX_FRAGMENTS_PER_MESSAGE);
  });

  it("encodes CBOR once as one binary frame, never fragmented", () => {
    const frames = message.frames({ compression: "cbor", fragmentSize: 10 }, nextId);
    assert.equal(frames.length, 1);
    assert.ok(frames[0] instanceof Uint8Array);
    assert.deepEqual(decodeCbor(frames[0] as Uint8Array), message.message);
    assert.equal(message.cbor(), message.cbor());
  });
});

describe("FragmentAssembler", () => {
  let clock = 0;
  const make = () =>
    new FragmentAssembler({ maxMessages: 2, maxChars: 20, timeoutMs: 1000, now: () => clock });

  it("joins fragments in any order and ignores repeats", () => {
    const a = make();
    assert.equal(a.add({ id: "x", data: "cd", num: 1, total: 3 }), null);
    assert.equal(a.add({ id: "x", data: "cd", num: 1, total: 3 }), null);
    assert.equal(a.add({ id: "x", data: "ab", num: 0, total: 3 }), null);
    assert.equal(a.add({ id: "x", data: "ef", num: 2, total: 3 }), "abcdef");
  });

  it("refuses inconsistent or oversized input and forgets stale messages", () => {
    const a = make();
    throwsProtocol(() => a.add({ id: "x", data: "a", num: 3, total: 3 }), /below total/);
    a.add({ id: "x", data: "a", num: 0, total: 3 });
    throwsProtocol(() => a.add({ id: "x", data: "b", num: 1, total: 4 }), /total changed/);
    a.add({ id: "y", data: "a", num: 0, total: 2 });
    a.add({ id: "z", data: "a", num: 0, total: 2 });
    throwsProtocol(() => a.add({ id: "w", data: "a", num: 0, total: 2 }), /in flight/);
    throwsProtocol(() => a.add({ id: "y", data: "x".repeat(30), num: 1, total: 2 }), /exceeds/);
    clock += 2000;
    assert.equal(a.add({ id: "v", data: "a", num: 0, total: 2 }), null, "stale ones were dropped");
  });
});

/** A sink that records the messages it was given (as parsed JSON). */
class RecordingSink implements PublishSink {
  congested = false;
  drops = 0;
  readonly sent: unknown[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];
  sendFrames(frames: Frame[]): boolean {
    for (const f of frames) this.sent.push(typeof f === "string" ? JSON.parse(f) : decodeCbor(f));
    const done = this.#waiters.filter((w) => this.sent.length >= w.n);
    this.#waiters = this.#waiters.filter((w) => this.sent.length < w.n);
    for (const w of done) w.resolve();
    return true;
  }
  /** Resolves once `n` messages have been sent. */
  whenSent(n: number): Promise<void> {
    if (this.sent.length >= n) return Promise.resolve();
    // The subscription's own timers are unref'd: hold the process open while waiting.
    const keepAlive = setInterval(() => undefined, 1000);
    return new Promise<void>((resolve) => this.#waiters.push({ n, resolve })).finally(() =>
      clearInterval(keepAlive),
    );
  }
  nextFragmentId(): string {
    return "f";
  }
  countDrop(): void {
    this.drops += 1;
  }
}

const msg = (k: number) => new EncodedMessage({ op: "publish", topic: "/t", msg: k });
const payloads = (s: RecordingSink) => s.sent.map((m) => (m as { msg: unknown }).msg);
const plain = {
  throttleMs: 0,
  queueLength: 0,
  fragmentSize: undefined,
  compression: "none",
} as const;

describe("TopicSubscription", () => {
  it("passes every message through without throttle or queue", () => {
    const sink = new RecordingSink();
    const sub = new TopicSubscription("/t", sink, () => performance.now());
    sub.add("a", plain);
    for (let k = 0; k < 5; k++) sub.offer(msg(k));
    assert.deepEqual(payloads(sink), [0, 1, 2, 3, 4]);
  });

  it("drops messages inside the throttle interval when there is no queue", () => {
    let now = 0;
    const sink = new RecordingSink();
    const sub = new TopicSubscription("/t", sink, () => now);
    sub.add(undefined, { ...plain, throttleMs: 100 });
    for (let k = 0; k < 25; k++) {
      sub.offer(msg(k));
      now += 10;
    }
    assert.deepEqual(payloads(sink), [0, 10, 20]);
    assert.equal(sink.drops, 0, "throttling is not counted as congestion");
  });

  it("keeps the newest queue_length messages while throttled and sends them oldest first", async () => {
    const sink = new RecordingSink();
    const sub = new TopicSubscription("/t", sink, () => performance.now());
    sub.add("q", { ...plain, throttleMs: 30, queueLength: 2 });
    for (let k = 1; k <= 5; k++) sub.offer(msg(k));
    assert.deepEqual(payloads(sink), [1]);
    await sink.whenSent(3);
    assert.deepEqual(payloads(sink), [1, 4, 5]);
    assert.equal(sink.drops, 2);
    sub.close();
  });

  it("skips and counts messages while the client is congested", () => {
    const sink = new RecordingSink();
    const sub = new TopicSubscription("/t", sink, () => 0);
    sub.add(undefined, plain);
    sink.congested = true;
    sub.offer(msg(1));
    sink.congested = false;
    sub.offer(msg(2));
    assert.deepEqual(payloads(sink), [2]);
    assert.equal(sink.drops, 1);
  });

  it("merges several ids of one client as rosbridge does, until the last leaves", () => {
    const sink = new RecordingSink();
    const sub = new TopicSubscription("/t", sink, () => 0);
    sub.add("a", { ...plain, throttleMs: 200, fragmentSize: 100 });
    sub.add("b", { ...plain, throttleMs: 50, compression: "cbor" });
    assert.deepEqual(sub.options, {
      throttleMs: 50,
      queueLength: 0,
      fragmentSize: 100,
      compression: "cbor",
    });
    assert.equal(sub.remove("nope"), false);
    assert.equal(sub.remove("b"), false);
    assert.equal(sub.options.throttleMs, 200);
    assert.equal(sub.remove("a"), true);
    sub.offer(msg(1));
    assert.deepEqual(sink.sent, [], "closed");
  });
});

describe("goal trajectories (trajectoryFromMsg)", () => {
  let robot: RobotDescription;
  let names: JointNames;
  before(async () => {
    robot = await loadPanda();
    names = new JointNames(robot.kinematics.jointNames);
  });

  const point = (q: number[], t: number, v: number[] = []) => ({
    positions: q,
    velocities: v,
    accelerations: [],
    effort: [],
    time_from_start: toRosTime(t, 2),
  });
  const traj = (jointNames: string[], pts: ReturnType<typeof point>[]): JointTrajectoryMsg => ({
    header: { stamp: toRosTime(0, 2), frame_id: "" },
    joint_names: jointNames,
    points: pts,
  });
  const check = (t: JointTrajectoryMsg, arm: ArrayLike<number> = robot.home) =>
    trajectoryFromMsg(t, names, robot.kinematics, arm, 0.01);
  const rejects = (t: JointTrajectoryMsg, kind: string, pattern: RegExp) =>
    assert.throws(
      () => check(t),
      (e: unknown) =>
        e instanceof GoalRejectedError && e.rejection === kind && pattern.test(e.message),
    );

  it("maps joints named in any order to group order", () => {
    const home = Array.from(robot.home);
    const goal = [...home];
    goal[0] = 0.5;
    const rev = [...names.names].reverse();
    const t = check(traj(rev, [point([...home].reverse(), 0), point([...goal].reverse(), 1)]));
    assert.deepEqual(t.jointNames, names.names);
    assert.deepEqual(t.points[1]?.positions, goal);
    assert.deepEqual(t.points[1]?.velocities, [0, 0, 0, 0, 0, 0, 0], "missing velocities are 0");
    assert.equal(t.duration, 1);
  });

  it("adds a point at the arm at 0 s when the first point is later", () => {
    const home = Array.from(robot.home);
    const near = home.map((q, j) => (j === 0 ? q + 0.005 : q));
    const t = check(traj([...names.names], [point(near, 0.5)]));
    assert.equal(t.points.length, 2);
    assert.equal(t.points[0]?.timeFromStart, 0);
    assert.deepEqual(t.points[0]?.positions, home);
  });

  it("refuses foreign joints, bad shapes, bad times, limits and a far start", () => {
    const home = Array.from(robot.home);
    const all = [...names.names];
    rejects(
      traj(all.slice(0, 6), [point(home.slice(0, 6), 0)]),
      "invalid_joints",
      /names 6 joints/,
    );
    rejects(
      traj([...all.slice(0, 6), "elbow"], [point(home, 0)]),
      "invalid_joints",
      /unknown joint/,
    );
    rejects(
      traj([...all.slice(0, 6), all[0] as string], [point(home, 0)]),
      "invalid_joints",
      /named twice/,
    );
    rejects(traj(all, []), "invalid_goal", /no points/);
    rejects(traj(all, [point(home.slice(1), 0)]), "invalid_goal", /6 positions/);
    rejects(traj(all, [point(home, 1), point(home, 1)]), "invalid_goal", /does not increase/);
    const outside = home.map((q, j) => (j === 3 ? 0.5 : q));
    rejects(traj(all, [point(home, 0), point(outside, 1)]), "invalid_goal", /outside/);
    rejects(
      traj(all, [
        point(
          home,
          0,
          home.map(() => 9),
        ),
      ]),
      "invalid_goal",
      /over the limit/,
    );
    const far = home.map((q, j) => (j === 1 ? q + 0.1 : q));
    rejects(traj(all, [point(far, 0)]), "invalid_goal", /rad away from the arm/);
  });
});

describe("message schemas", () => {
  it("fill missing fields with ROS defaults and refuse the other version's time", () => {
    const ros2 = rosSchemas(2);
    const ros1 = rosSchemas(1);
    const plan = ros2.GetMotionPlanRequest.parse({});
    assert.equal(plan.motion_plan_request.group_name, "");
    assert.deepEqual(plan.motion_plan_request.goal_constraints, []);
    assert.deepEqual(ros2.Header.parse(undefined).stamp, { sec: 0, nanosec: 0 });
    assert.deepEqual(ros1.Header.parse({}).stamp, { secs: 0, nsecs: 0 });
    assert.equal(ros2.Pose.parse({}).orientation.w, 1, "ROS 2 quaternions default to identity");
    assert.equal(ros2.Header.safeParse({ stamp: { secs: 1, nsecs: 0 } }).success, false);
    assert.equal(ros1.Header.safeParse({ stamp: { sec: 1, nanosec: 0 } }).success, false);
    assert.equal(ros2.JointJog.safeParse({ velocities: [Number.NaN] }).success, false);
  });

  it("match type names as rosbridge does per version", () => {
    assert.ok(sameType("sensor_msgs/msg/JointState", "sensor_msgs/msg/JointState", 2));
    assert.ok(sameType("sensor_msgs/JointState", "sensor_msgs/msg/JointState", 2));
    assert.ok(!sameType("sensor_msgs/msg/JointState", "sensor_msgs/JointState", 1));
    assert.ok(!sameType("std_msgs/msg/String", "sensor_msgs/msg/JointState", 2));
  });
});

describe("MoveIt conventions", () => {
  it("read scaling factors as MoveIt's time parameterisation does", () => {
    assert.equal(scalingFactor(0.3), 0.3);
    assert.equal(scalingFactor(1), 1);
    assert.equal(scalingFactor(0), 1);
    assert.equal(scalingFactor(-0.5), 1);
    assert.equal(scalingFactor(1.5), 1);
  });

  it("map planner failures to MoveIt error codes", () => {
    assert.equal(
      planFailureCode(PlanFailure.GoalInCollision, ""),
      MoveItErrorCode.GOAL_IN_COLLISION,
    );
    assert.equal(
      planFailureCode(PlanFailure.StartInCollision, ""),
      MoveItErrorCode.START_STATE_IN_COLLISION,
    );
    assert.equal(planFailureCode(PlanFailure.Timeout, ""), MoveItErrorCode.TIMED_OUT);
    assert.equal(planFailureCode(PlanFailure.NoPath, ""), MoveItErrorCode.PLANNING_FAILED);
    assert.equal(
      planFailureCode(PlanFailure.OutOfLimits, "start: …"),
      MoveItErrorCode.START_STATE_INVALID,
    );
    assert.equal(
      planFailureCode(PlanFailure.OutOfLimits, "goal: …"),
      MoveItErrorCode.INVALID_GOAL_CONSTRAINTS,
    );
  });
});

describe("SimCellCore on an injected clock", () => {
  let robot: RobotDescription;
  let clock: number;
  let core: SimCellCore;
  before(async () => {
    robot = await loadPanda();
  });
  const make = () => {
    clock = 1000;
    core = new SimCellCore({
      robot,
      checker: { checkArm: () => null },
      controllerHz: 1000,
      timerMs: 0,
      now: () => clock,
      wallClock: () => 1_700_000_000_000,
    });
    return core;
  };
  after(() => core.close());

  it("steps in exact controller steps and stamps samples in wall-clock seconds", () => {
    const c = make();
    assert.equal(c.stampS, 1_700_000_000);
    clock += 2.5;
    c.advance();
    assert.ok(Math.abs(c.arm.time - 0.002) < 1e-12, "two whole steps");
    assert.ok(Math.abs(c.stampS - 1_700_000_000.002) < 1e-6);
    clock += 60_000;
    c.advance();
    assert.ok(c.arm.time < 10.1, "a long stall is not replayed beyond 10 s");
    c.close();
  });

  it("samples the arm at a past step exactly, even after the controller ran ahead", () => {
    const c = make();
    c.jog([0.5, 0, 0, 0, 0, 0, 0], 1);
    clock += 20;
    c.advance();
    const at10 = { positions: new Float64Array(7), velocities: new Float64Array(7) };
    const at20 = { positions: new Float64Array(7), velocities: new Float64Array(7) };
    // The publisher was late: it asks for step 10 after the controller reached step 20.
    const t10 = c.sampleAt(1010, at10) ?? Number.NaN;
    const t20 = c.sampleAt(1020, at20) ?? Number.NaN;
    assert.ok(Math.abs(t10 - 1_700_000_000.01) < 1e-6, `stamp of step 10: ${t10}`);
    assert.ok(Math.abs(t20 - 1_700_000_000.02) < 1e-6);
    assert.deepEqual(at20.positions, c.arm.positions, "the latest step is the arm now");
    assert.ok(at10.positions[0]! < at20.positions[0]!, "step 10 is earlier along the jog");
    assert.ok(at10.velocities[0]! > 0 && at10.velocities[0]! <= at20.velocities[0]!);
    // A sample due after the controller's latest step steps it there first.
    c.sampleAt(1030, at20);
    assert.ok(Math.abs(c.arm.time - 0.03) < 1e-9);
    // Beyond the kept history there is no sample (never a made-up or repeated one).
    clock += 2000;
    c.advance();
    assert.equal(c.sampleAt(1010, at10), null);
    const kept = c.sampleAt(clock - 500, at10);
    assert.ok(
      kept !== null && Math.abs(kept - (1_700_000_000 + (clock - 500 - 1000) / 1000)) < 1e-6,
    );
    c.close();
  });

  it("refuses a trajectory away from the arm and runs one at the arm to its end", () => {
    const c = make();
    const home = Array.from(robot.home);
    const goal = [...home];
    goal[0] = 0.1;
    const zero = home.map(() => 0);
    const far = {
      jointNames: c.kinematics.jointNames,
      duration: 1,
      points: [{ timeFromStart: 0, positions: goal, velocities: zero, accelerations: zero }],
    };
    assert.throws(() => c.execute(far, () => undefined), GoalRejectedError);
    let outcome = "";
    const exec = c.execute(
      {
        jointNames: c.kinematics.jointNames,
        duration: 1,
        points: [
          { timeFromStart: 0, positions: home, velocities: zero, accelerations: zero },
          { timeFromStart: 1, positions: goal, velocities: zero, accelerations: zero },
        ],
      },
      (o) => (outcome = o.status),
    );
    assert.equal(c.execution, exec);
    clock += 500;
    c.advance();
    assert.ok(Math.abs(exec.progress() - 0.5) < 0.01);
    clock += 600;
    c.advance();
    assert.equal(outcome, "succeeded");
    assert.equal(c.execution, null);
    assert.deepEqual(Array.from(c.arm.positions), goal);
    c.close();
  });

  it("jogs through the servo input and refuses bad jog commands", () => {
    const c = make();
    const names = new JointNames(c.kinematics.jointNames);
    const jog = rosSchemas(2).JointJog;
    const refuses = (m: unknown, pattern: RegExp) =>
      assert.throws(
        () => applyJointJog(c, names, jog.parse(m)),
        (e: unknown) => e instanceof RequestRefusedError && pattern.test(e.message),
      );
    refuses({ joint_names: ["panda_joint1"], velocities: [3] }, /velocity limit/);
    refuses({ joint_names: ["nope"], velocities: [0.1] }, /unknown joint/);
    refuses({ joint_names: ["panda_joint1"], velocities: [] }, /1 joint names but 0 velocities/);
    refuses(
      { joint_names: ["panda_joint1"], displacements: [0.1], velocities: [0] },
      /displacements/,
    );
    applyJointJog(
      c,
      names,
      jog.parse({ joint_names: ["panda_joint2"], velocities: [0.2], duration: 0 }),
    );
    clock += 50;
    c.advance();
    assert.ok((c.arm.velocities[1] as number) > 0.19, "ramped up within 50 ms");
    clock += 1000;
    c.advance();
    assert.equal(c.arm.mode, "hold", "stopped after the 0.1 s minimum hold");
    c.close();
  });
});

describe("startSimCell options", () => {
  it("refuses invalid options with one error naming each", async () => {
    const robot = await loadPanda();
    await assert.rejects(
      startSimCell({
        robot,
        rosVersion: 2,
        jointStatesHz: 5000,
        jointNames: ["a", "a"],
        logger: pino({ level: "silent" }),
      }),
      (e: unknown) =>
        e instanceof SimCellStartError &&
        /jointStatesHz/.test(e.message) &&
        /jointNames/.test(e.message),
    );
  });
});
