/**
 * The simulated cell (ros/sim-cell) as a ROS 2 rosbridge peer, over real websockets with
 * roslib 2.x as the client (and a raw `ws` client where the wire itself is the subject):
 * /joint_states at the configured rate with fresh stamps, throttling, fragments and CBOR;
 * MoveIt's plan_kinematic_path (joint and pose goals, a goal inside the fixture) and
 * compute_ik; trajectory execution through /execute_trajectory and
 * /panda_arm_controller/follow_joint_trajectory (success, cancel, rejection, preemption);
 * servo jogging; bad input answered with status errors while the cell keeps serving; and
 * link loss. Timing is only checked within generous windows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decode as decodeCbor } from "cbor2";
import { pino } from "pino";
import { Action, Ros, Service, Topic } from "roslib";
import { WebSocket } from "ws";
import {
  ActionStatus,
  fromRosTime,
  type GetMotionPlanResponse,
  type GetPositionIKResponse,
  type JointStateMsg,
  type JointTrajectoryMsg,
  MoveItErrorCode,
  rosNames,
  toRosTime,
} from "../../shared/ros-msgs.ts";
import type { Pose } from "../../shared/geometry.ts";
import { type SimCell, startSimCell } from "../../ros/sim-cell/index.ts";
import { loadRobotDescription, type RobotDescription } from "../../server/sim/robot-description.ts";

const NAMES = rosNames(2);
const PANDA = { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" };
const LOG = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns a value other than undefined. */
async function waitFor<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** A roslib connection that is open (roslib's connect resolves before the socket opens). */
async function connect(url: string, open: Ros[]): Promise<Ros> {
  const ros = new Ros({});
  const opened = new Promise<void>((resolve) => ros.once("connection", () => resolve()));
  await ros.connect(url);
  await within(opened, 5000, "roslib connection");
  open.push(ros);
  return ros;
}

/** Every message of a subscription during `ms`. */
/** The next `n` messages of `topic` (an event: it waits up to 20 s, however slow the machine). */
async function collectN<T>(topic: Topic<T>, n: number): Promise<T[]> {
  const got: T[] = [];
  let done: () => void = () => undefined;
  const full = new Promise<void>((resolve) => (done = resolve));
  const cb = (m: T) => {
    got.push(m);
    if (got.length === n) done();
  };
  topic.subscribe(cb);
  try {
    await within(full, 20_000, `${n} messages on ${topic.name}`);
  } finally {
    topic.unsubscribe(cb);
  }
  return got.slice(0, n);
}

function jointStates(ros: Ros, extra: { throttle_rate?: number; compression?: string } = {}) {
  return new Topic<JointStateMsg>({
    ros,
    name: "/joint_states",
    messageType: NAMES.jointState,
    ...extra,
  });
}

/** The next joint state the cell publishes. */
/**
 * The first joint state sampled at or after `afterS` (wall-clock s; default now). The cell
 * publishes every sample with its own step's state and stamp, so one published late can
 * arrive after, say, an action result although it shows the arm before it.
 */
async function nextJointState(ros: Ros, afterS = Date.now() / 1000): Promise<JointStateMsg> {
  const topic = jointStates(ros);
  try {
    return await within(
      new Promise<JointStateMsg>((resolve) =>
        topic.subscribe((m) => {
          if (fromRosTime(m.header.stamp) >= afterS) resolve(m);
        }),
      ),
      2000,
      "a joint state",
    );
  } finally {
    topic.unsubscribe();
  }
}

function call<Req, Res>(ros: Ros, name: string, type: string, req: Req): Promise<Res> {
  const service = new Service<Req, Res>({ ros, name, serviceType: type });
  return within(
    new Promise<Res>((resolve, reject) =>
      service.callService(req, resolve, (e) => reject(new Error(e))),
    ),
    20_000,
    `call ${name}`,
  );
}

function jointGoalRequest(names: readonly string[], q: ArrayLike<number>, scale = 1) {
  return {
    motion_plan_request: {
      group_name: "panda_arm",
      goal_constraints: [
        {
          joint_constraints: names.map((n, j) => ({
            joint_name: n,
            position: q[j] as number,
            tolerance_above: 1e-3,
            tolerance_below: 1e-3,
            weight: 1,
          })),
        },
      ],
      allowed_planning_time: 5,
      max_velocity_scaling_factor: scale,
      max_acceleration_scaling_factor: scale,
    },
  };
}

function poseGoalRequest(pose: Pose, frame = "panda_link0") {
  const header = { stamp: { sec: 0, nanosec: 0 }, frame_id: frame };
  return {
    motion_plan_request: {
      group_name: "panda_arm",
      goal_constraints: [
        {
          position_constraints: [
            {
              header,
              link_name: "panda_hand_tcp",
              constraint_region: {
                primitives: [{ type: 2, dimensions: [0.001] }],
                primitive_poses: [
                  { position: pose.position, orientation: { x: 0, y: 0, z: 0, w: 1 } },
                ],
              },
              weight: 1,
            },
          ],
          orientation_constraints: [
            {
              header,
              link_name: "panda_hand_tcp",
              orientation: pose.orientation,
              absolute_x_axis_tolerance: 1e-3,
              absolute_y_axis_tolerance: 1e-3,
              absolute_z_axis_tolerance: 1e-3,
              weight: 1,
            },
          ],
        },
      ],
    },
  };
}

const plan = (ros: Ros, req: unknown) =>
  call<unknown, GetMotionPlanResponse>(ros, "/plan_kinematic_path", NAMES.getMotionPlan, req);

interface RawActionResult {
  op: "action_result";
  status: number;
  result: boolean;
  values: unknown;
}

/** Sends a goal with roslib's Action; the raw action_result and the feedback are recorded. */
function sendGoal(ros: Ros, name: string, type: string, goal: unknown) {
  const action = new Action<unknown, unknown, unknown>({ ros, name, actionType: type });
  const feedback: unknown[] = [];
  let failure: string | null = null;
  const id = action.sendGoal(
    goal,
    () => undefined,
    (f) => feedback.push(f),
    (e) => (failure = e),
  );
  assert.ok(id);
  const result = new Promise<RawActionResult>((resolve) =>
    ros.on(id, (m) => {
      if (m.op === "action_result") resolve(m as unknown as RawActionResult);
    }),
  );
  return { id, action, feedback, result, failure: () => failure };
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs((a[j] as number) - (b[j] as number)));
  return m;
}

/** A two-point trajectory from `from` to `to` over `seconds` (velocities zero at both ends). */
function handTrajectory(
  names: readonly string[],
  from: ArrayLike<number>,
  to: ArrayLike<number>,
  seconds: number,
): JointTrajectoryMsg {
  const zero = names.map(() => 0);
  return {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" },
    joint_names: [...names],
    points: [
      {
        positions: Array.from(from),
        velocities: zero,
        accelerations: zero,
        effort: [],
        time_from_start: toRosTime(0, 2),
      },
      {
        positions: Array.from(to),
        velocities: zero,
        accelerations: zero,
        effort: [],
        time_from_start: toRosTime(seconds, 2),
      },
    ],
  };
}

/** A raw websocket client that reads every frame through a queue. */
class RawClient {
  readonly ws: WebSocket;
  readonly #queue: Record<string, unknown>[] = [];
  readonly binary: Uint8Array[] = [];
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      const buf = data as Buffer;
      if (isBinary) {
        this.binary.push(new Uint8Array(buf));
        this.#queue.push(decodeCbor(new Uint8Array(buf)) as Record<string, unknown>);
      } else this.#queue.push(JSON.parse(buf.toString("utf8")) as Record<string, unknown>);
    });
  }
  static async open(url: string, open: RawClient[]): Promise<RawClient> {
    const ws = new WebSocket(url);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      }),
      5000,
      "raw socket open",
    );
    const c = new RawClient(ws);
    open.push(c);
    return c;
  }
  send(frame: unknown): void {
    this.ws.send(
      typeof frame === "string" || frame instanceof Uint8Array ? frame : JSON.stringify(frame),
    );
  }
  /** The first queued (or next) frame matching `pred`, removed from the queue. */
  next(pred: (m: Record<string, unknown>) => boolean, what: string, ms = 3000) {
    return waitFor(
      () => {
        const i = this.#queue.findIndex(pred);
        return i < 0 ? undefined : this.#queue.splice(i, 1)[0];
      },
      ms,
      what,
    );
  }
  drain(): Record<string, unknown>[] {
    return this.#queue.splice(0);
  }
}

describe("sim cell, ROS 2, over rosbridge", () => {
  let robot: RobotDescription;
  let cell: SimCell;
  let ros: Ros;
  let names: readonly string[];
  const rosClients: Ros[] = [];
  const rawClients: RawClient[] = [];

  before(async () => {
    robot = await loadRobotDescription({ robot: PANDA });
    names = robot.kinematics.jointNames;
    cell = await startSimCell({
      robot,
      rosVersion: 2,
      logger: LOG,
      jointStatesHz: 100,
      maxMessageBytes: 1 << 20,
    });
    ros = await connect(cell.url, rosClients);
  });

  after(async () => {
    for (const r of rosClients) r.close();
    for (const c of rawClients) c.ws.terminate();
    await cell.close();
  });

  describe("/joint_states", () => {
    it("arrive on the configured rate's grid with 7 joints and fresh stamps", async () => {
      // How many arrive in a second depends on the machine (a late period is skipped, not
      // sent in a burst); where their stamps fall does not: on the 10 ms grid of 100 Hz,
      // never two in one period.
      const got = await collectN(jointStates(ros), 30);
      const periodS = 1 / 100;
      for (let i = 1; i < got.length; i++) {
        const d = fromRosTime(got[i]!.header.stamp) - fromRosTime(got[i - 1]!.header.stamp);
        const periods = d / periodS;
        assert.ok(
          Math.round(periods) >= 1 && Math.abs(periods - Math.round(periods)) < 0.05,
          `stamps ${(d * 1000).toFixed(2)} ms apart: not a whole number of 10 ms periods`,
        );
      }
      let prev = 0;
      for (const m of got) {
        assert.deepEqual(m.name, names);
        assert.equal(m.position.length, 7);
        assert.equal(m.velocity.length, 7);
        assert.equal(m.effort.length, 7);
        const t = fromRosTime(m.header.stamp);
        assert.ok(t > prev, "stamps increase");
        prev = t;
      }
      assert.ok(Math.abs(Date.now() / 1000 - prev) < 1, "the last stamp is wall-clock now");
      assert.ok("sec" in (got[0] as JointStateMsg).header.stamp, "ROS 2 time fields");
    });

    it("throttle_rate 100 thins the 100 Hz stream to about one message per 100 ms", async () => {
      const other = await connect(cell.url, rosClients);
      // The cell throttles on its send times; the stamps it sends are on the 10 ms sample
      // grid and may be late by a loaded machine's jitter. Unthrottled they would be 10 ms
      // apart; throttled, no two are closer than 5 periods, and five span at least 0.3 s.
      const got = await collectN(jointStates(other, { throttle_rate: 100 }), 5);
      const stamps = got.map((m) => fromRosTime(m.header.stamp));
      for (let i = 1; i < stamps.length; i++) {
        const d = stamps[i]! - stamps[i - 1]!;
        assert.ok(d >= 0.05, `throttled messages ${(d * 1000).toFixed(1)} ms apart`);
      }
      assert.ok(stamps.at(-1)! - stamps[0]! >= 0.3, "five throttled messages span 0.3 s");
      other.close();
    });

    it("fragment_size 50 still delivers whole messages (roslib reassembles them)", async () => {
      const other = await connect(cell.url, rosClients);
      const whole: JointStateMsg[] = [];
      other.on("/joint_states", (m) => {
        if (m.op === "publish") whole.push(m.msg as JointStateMsg);
      });
      other.callOnConnection({
        op: "subscribe",
        id: "fragmented",
        topic: "/joint_states",
        type: NAMES.jointState,
        fragment_size: 50,
      });
      const raw = await RawClient.open(cell.url, rawClients);
      raw.send({ op: "subscribe", id: "f", topic: "/joint_states", fragment_size: 50 });
      const first = await raw.next((m) => m.op === "fragment", "a fragment");
      assert.ok((first.total as number) > 1 && (first.data as string).length <= 50);
      await waitFor(
        () => (whole.length >= 10 ? true : undefined),
        20_000,
        "10 reassembled messages",
      );
      for (const m of whole) assert.deepEqual(m.name, names);
      raw.send({ op: "unsubscribe", id: "f", topic: "/joint_states" });
      other.close();
    });

    it("compression cbor delivers the same content in binary frames", async () => {
      const other = await connect(cell.url, rosClients);
      const got = await collectN(jointStates(other, { compression: "cbor" }), 10);
      const m = got[got.length - 1] as JointStateMsg;
      assert.deepEqual(m.name, names);
      assert.ok(distance(m.position, cell.arm.positions) < 1e-6);
      const raw = await RawClient.open(cell.url, rawClients);
      raw.send({ op: "subscribe", topic: "/joint_states", compression: "cbor" });
      const publish = await raw.next((f) => f.op === "publish", "a CBOR publish");
      assert.ok(raw.binary.length > 0, "sent as binary frames");
      assert.equal(publish.topic, "/joint_states");
      raw.send({ op: "unsubscribe", topic: "/joint_states" });
      other.close();
    });

    it("keeps a second subscription of one client running when the first unsubscribes", async () => {
      const other = await connect(cell.url, rosClients);
      const a = jointStates(other);
      const b = jointStates(other);
      let countB = 0;
      a.subscribe(() => undefined);
      b.subscribe(() => (countB += 1));
      await sleep(200);
      a.unsubscribe();
      countB = 0;
      // The second subscription goes on: 15 more messages (an event, however slow the machine).
      await within(
        (async () => {
          while (countB < 15) await sleep(20);
        })(),
        20_000,
        "15 messages after the other id unsubscribed",
      );
      b.unsubscribe();
      // Then the stream stops: a 300 ms window with nothing in it (a live 100 Hz stream
      // fills every such window; what was in flight at the unsubscribe may still land).
      await within(
        (async () => {
          for (;;) {
            const before = countB;
            await sleep(300);
            if (countB === before) return;
          }
        })(),
        20_000,
        "no message after the last unsubscribe",
      );
      other.close();
    });
  });

  describe("/plan_kinematic_path", () => {
    it("plans to a joint goal: SUCCESS, ends on the goal, times increase", async () => {
      const goal = Float64Array.from(robot.home);
      goal[0] = 0.4;
      goal[3] = -2.0;
      const res = (await plan(ros, jointGoalRequest(names, goal))).motion_plan_response;
      assert.equal(res.error_code.val, MoveItErrorCode.SUCCESS);
      const traj = res.trajectory.joint_trajectory;
      assert.deepEqual(traj.joint_names, names);
      assert.ok(traj.points.length >= 2);
      const last = traj.points[traj.points.length - 1];
      assert.ok(last && distance(last.positions, goal) < 1e-9, "last point is the goal");
      assert.ok(distance(traj.points[0]?.positions ?? [], robot.home) < 1e-9, "starts at the arm");
      let prev = -1;
      for (const p of traj.points) {
        const t = fromRosTime(p.time_from_start);
        assert.ok(t > prev, "time_from_start increases");
        assert.ok("sec" in p.time_from_start);
        prev = t;
      }
      assert.ok(res.planning_time > 0 && res.planning_time < 5);
    });

    it("plans to a pose goal in panda_link0", async () => {
      const q = Float64Array.from(robot.home);
      q[0] = -0.5;
      q[1] = -0.4;
      const pose = robot.kinematics.fk(q);
      const res = (await plan(ros, poseGoalRequest(pose))).motion_plan_response;
      assert.equal(res.error_code.val, MoveItErrorCode.SUCCESS);
      const pts = res.trajectory.joint_trajectory.points;
      const end = robot.kinematics.fk(pts[pts.length - 1]?.positions ?? []);
      const dp = Math.hypot(
        end.position.x - pose.position.x,
        end.position.y - pose.position.y,
        end.position.z - pose.position.z,
      );
      assert.ok(dp < 1e-3, `the plan ends ${dp} m from the pose`);
    });

    it("answers GOAL_IN_COLLISION for a goal inside the fixture", async () => {
      // The fixture spans x 0.49..0.61, y -0.50..-0.20, z 0.0..0.3 in panda_link0.
      const inside: Pose = {
        position: { x: 0.55, y: -0.35, z: 0.15 },
        orientation: { x: 1, y: 0, z: 0, w: 0 },
      };
      const res = (await plan(ros, poseGoalRequest(inside))).motion_plan_response;
      assert.equal(res.error_code.val, MoveItErrorCode.GOAL_IN_COLLISION);
      assert.match(res.error_code.message ?? "", /goal is in collision: .* touches object fixture/);
      assert.equal(res.trajectory.joint_trajectory.points.length, 0);
      // The same goal as joints (IK that ignores collisions finds it).
      const ik = await call<unknown, GetPositionIKResponse>(
        ros,
        "/compute_ik",
        NAMES.getPositionIK,
        {
          ik_request: {
            group_name: "panda_arm",
            avoid_collisions: false,
            pose_stamped: { header: { frame_id: "panda_link0" }, pose: inside },
          },
        },
      );
      assert.equal(ik.error_code.val, MoveItErrorCode.SUCCESS);
      const joints = (await plan(ros, jointGoalRequest(names, ik.solution.joint_state.position)))
        .motion_plan_response;
      assert.equal(joints.error_code.val, MoveItErrorCode.GOAL_IN_COLLISION);
      assert.match(joints.error_code.message ?? "", /fixture/);
    });

    it("refuses a wrong group, a foreign frame and an incomplete joint goal", async () => {
      const wrongGroup = jointGoalRequest(names, robot.home);
      wrongGroup.motion_plan_request.group_name = "arm";
      assert.equal(
        (await plan(ros, wrongGroup)).motion_plan_response.error_code.val,
        MoveItErrorCode.INVALID_GROUP_NAME,
      );
      const pose = robot.kinematics.fk(robot.home);
      assert.equal(
        (await plan(ros, poseGoalRequest(pose, "world"))).motion_plan_response.error_code.val,
        MoveItErrorCode.INVALID_GOAL_CONSTRAINTS,
      );
      const partial = jointGoalRequest(names.slice(0, 6), robot.home);
      assert.equal(
        (await plan(ros, partial)).motion_plan_response.error_code.val,
        MoveItErrorCode.INVALID_GOAL_CONSTRAINTS,
      );
    });
  });

  describe("/compute_ik", () => {
    it("round-trips a forward-kinematics pose", async () => {
      const q = Float64Array.from(robot.home);
      q[0] = 0.3;
      q[5] = 1.9;
      const pose = robot.kinematics.fk(q);
      const ik = await call<unknown, GetPositionIKResponse>(
        ros,
        "/compute_ik",
        NAMES.getPositionIK,
        {
          ik_request: {
            group_name: "panda_arm",
            avoid_collisions: true,
            robot_state: { joint_state: { name: [...names], position: Array.from(robot.home) } },
            pose_stamped: { header: { frame_id: "panda_link0" }, pose },
          },
        },
      );
      assert.equal(ik.error_code.val, MoveItErrorCode.SUCCESS);
      assert.deepEqual(ik.solution.joint_state.name, names);
      const back = robot.kinematics.fk(ik.solution.joint_state.position);
      const dp = Math.hypot(
        back.position.x - pose.position.x,
        back.position.y - pose.position.y,
        back.position.z - pose.position.z,
      );
      assert.ok(dp < 1e-3, `IK solution is ${dp} m off`);
    });

    it("answers NO_IK_SOLUTION for a pose out of reach", async () => {
      const ik = await call<unknown, GetPositionIKResponse>(
        ros,
        "/compute_ik",
        NAMES.getPositionIK,
        {
          ik_request: {
            group_name: "panda_arm",
            pose_stamped: {
              pose: { position: { x: 2, y: 0, z: 0.5 }, orientation: { x: 1, y: 0, z: 0, w: 0 } },
            },
          },
        },
      );
      assert.equal(ik.error_code.val, MoveItErrorCode.NO_IK_SOLUTION);
    });
  });

  describe("trajectory execution", () => {
    it("executes a planned trajectory through /execute_trajectory to the goal", async () => {
      const start = (await nextJointState(ros)).position;
      const goal = Float64Array.from(start);
      goal[0] = (goal[0] as number) + 0.3;
      goal[6] = (goal[6] as number) - 0.2;
      const res = (await plan(ros, jointGoalRequest(names, goal))).motion_plan_response;
      assert.equal(res.error_code.val, MoveItErrorCode.SUCCESS);
      const g = sendGoal(ros, "/execute_trajectory", NAMES.executeTrajectory, {
        trajectory: res.trajectory,
      });
      const result = await within(g.result, 10_000, "execute_trajectory result");
      assert.equal(result.status, ActionStatus.SUCCEEDED);
      assert.equal(result.result, true);
      assert.deepEqual(result.values, {
        error_code: { val: MoveItErrorCode.SUCCESS, message: "", source: "sim_cell" },
      });
      assert.ok(g.feedback.length >= 1, "feedback while executing");
      assert.match(String((g.feedback[0] as { state: string }).state), /^progress=\d\.\d+$/);
      await sleep(50);
      const end = (await nextJointState(ros)).position;
      assert.ok(
        distance(end, goal) < 1e-3,
        `joint_states end ${distance(end, goal)} rad from the goal`,
      );
    });

    it("stops at once on cancel and reports CANCELED", async () => {
      const start = (await nextJointState(ros)).position;
      const goal = Float64Array.from(start);
      goal[0] = (goal[0] as number) - 0.8;
      const res = (await plan(ros, jointGoalRequest(names, goal, 0.1))).motion_plan_response;
      assert.equal(res.error_code.val, MoveItErrorCode.SUCCESS);
      const g = sendGoal(ros, "/execute_trajectory", NAMES.executeTrajectory, {
        trajectory: res.trajectory,
      });
      const progress = (f: unknown) => Number(String((f as { state: string }).state).slice(9));
      await waitFor(
        () => (g.feedback.some((f) => progress(f) >= 0.1) ? true : undefined),
        5000,
        "10 % progress",
      );
      g.action.cancelGoal(g.id);
      const result = await within(g.result, 3000, "canceled result");
      assert.equal(result.status, ActionStatus.CANCELED);
      assert.equal(result.result, true);
      assert.deepEqual(result.values, {
        error_code: { val: MoveItErrorCode.PREEMPTED, message: "canceled", source: "sim_cell" },
      });
      await sleep(20);
      const a = (await nextJointState(ros)).position;
      await sleep(200);
      const b = (await nextJointState(ros)).position;
      assert.ok(distance(a, b) < 1e-9, "joint_states stop changing");
      assert.ok(distance(a, start) > 0.01 && distance(a, goal) > 0.01, "stopped mid-way");
      assert.match(g.failure() ?? "", /canceled/);
    });

    it("rejects a follow_joint_trajectory goal that does not start at the arm", async () => {
      const start = (await nextJointState(ros)).position;
      const away = Float64Array.from(start);
      away[1] = (away[1] as number) + 0.2;
      const g = sendGoal(
        ros,
        "/panda_arm_controller/follow_joint_trajectory",
        NAMES.followJointTrajectory,
        {
          trajectory: handTrajectory(names, away, start, 1),
        },
      );
      const result = await within(g.result, 3000, "rejection");
      assert.equal(result.status, ActionStatus.ABORTED);
      assert.equal(result.result, false);
      assert.match(String(result.values), /rad away from the arm/);
      assert.match(g.failure() ?? "", /aborted/);
    });

    it("follows a joint trajectory in any joint order, preempting a running goal", async () => {
      const here = Array.from(cell.arm.positions);
      const slowGoal = Float64Array.from(here);
      slowGoal[0] = (slowGoal[0] as number) + 0.05;
      const first = sendGoal(
        ros,
        "/panda_arm_controller/follow_joint_trajectory",
        NAMES.followJointTrajectory,
        {
          trajectory: handTrajectory(names, here, slowGoal, 20),
        },
      );
      await waitFor(() => (first.feedback.length >= 1 ? true : undefined), 3000, "first feedback");
      const fb = first.feedback[0] as { joint_names: string[]; desired: { positions: number[] } };
      assert.deepEqual(fb.joint_names, names);
      assert.equal(fb.desired.positions.length, 7);
      // The second goal names the joints in reverse order.
      const from = Array.from(cell.arm.positions);
      const to = Float64Array.from(from);
      to[6] = (to[6] as number) + 0.1;
      const reversed = handTrajectory(
        [...names].reverse(),
        [...from].reverse(),
        [...to].reverse(),
        0.4,
      );
      const second = sendGoal(
        ros,
        "/panda_arm_controller/follow_joint_trajectory",
        NAMES.followJointTrajectory,
        {
          trajectory: reversed,
        },
      );
      const preempted = await within(first.result, 3000, "preempted result");
      assert.equal(preempted.status, ActionStatus.ABORTED);
      const done = await within(second.result, 5000, "second result");
      assert.equal(done.status, ActionStatus.SUCCEEDED);
      assert.deepEqual(done.values, { error_code: 0, error_string: "" });
      assert.ok(distance(cell.arm.positions, to) < 1e-9);
    });
    it("cancels every goal of an action through its _action/cancel_goal service", async () => {
      const here = Array.from(cell.arm.positions);
      const to = Float64Array.from(here);
      to[3] = (to[3] as number) + 0.05;
      const g = sendGoal(
        ros,
        "/panda_arm_controller/follow_joint_trajectory",
        NAMES.followJointTrajectory,
        {
          trajectory: handTrajectory(names, here, to, 10),
        },
      );
      await waitFor(() => (g.feedback.length > 0 ? true : undefined), 3000, "executing");
      const raw = await RawClient.open(cell.url, rawClients);
      raw.send({
        op: "call_service",
        id: "cancel-all",
        service: "/panda_arm_controller/follow_joint_trajectory/_action/cancel_goal",
        args: {},
      });
      const res = await raw.next((f) => f.id === "cancel-all", "cancel_goal response");
      assert.equal(res.result, true);
      const values = res.values as { return_code: number; goals_canceling: unknown[] };
      assert.equal(values.return_code, 0);
      assert.equal(values.goals_canceling.length, 1);
      const result = await within(g.result, 3000, "canceled");
      assert.equal(result.status, ActionStatus.CANCELED);
      assert.deepEqual(result.values, { error_code: 0, error_string: "canceled" });
    });
  });

  describe("servo jogging", () => {
    it("moves a joint while commanded and stops after the duration", async () => {
      const before = (await nextJointState(ros)).position;
      const jog = new Topic({
        ros,
        name: "/servo_node/delta_joint_cmds",
        messageType: NAMES.jointJog,
      });
      jog.publish({
        header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" },
        joint_names: ["panda_joint1"],
        displacements: [],
        velocities: [0.4],
        duration: 0.3,
      });
      const moving = await waitFor(
        () => ((cell.arm.velocities[0] as number) > 0.3 ? true : undefined),
        2000,
        "joint 1 moving",
      );
      assert.ok(moving);
      await waitFor(() => (cell.arm.mode === "hold" ? true : undefined), 3000, "the jog ends");
      const a = (await nextJointState(ros)).position;
      await sleep(150);
      const b = (await nextJointState(ros)).position;
      assert.ok((a[0] as number) - (before[0] as number) > 0.05, "joint 1 moved");
      assert.ok(distance(a, b) < 1e-9, "then it stopped");
      assert.ok(distance(a.slice(1), before.slice(1)) < 1e-9, "the other joints did not move");
      jog.unadvertise();
    });

    it("refuses velocities over the limit and jogging during a trajectory", async () => {
      const raw = await RawClient.open(cell.url, rawClients);
      raw.send({
        op: "advertise",
        id: "adv",
        topic: "/servo_node/delta_joint_cmds",
        type: NAMES.jointJog,
      });
      raw.send({
        op: "publish",
        id: "too-fast",
        topic: "/servo_node/delta_joint_cmds",
        msg: { joint_names: ["panda_joint1"], velocities: [5], duration: 0.2 },
      });
      const fast = await raw.next((m) => m.id === "too-fast", "over-limit refusal");
      assert.equal(fast.level, "error");
      assert.match(String(fast.msg), /velocity limit/);
      assert.equal(cell.arm.mode, "hold");

      const here = Array.from(cell.arm.positions);
      const to = Float64Array.from(here);
      to[2] = (to[2] as number) + 0.02;
      const g = sendGoal(
        ros,
        "/panda_arm_controller/follow_joint_trajectory",
        NAMES.followJointTrajectory,
        {
          trajectory: handTrajectory(names, here, to, 5),
        },
      );
      await waitFor(() => (g.feedback.length > 0 ? true : undefined), 3000, "executing");
      raw.send({
        op: "publish",
        id: "busy",
        topic: "/servo_node/delta_joint_cmds",
        msg: { joint_names: ["panda_joint1"], velocities: [0.1], duration: 0.2 },
      });
      const busy = await raw.next((m) => m.id === "busy", "busy refusal");
      assert.match(String(busy.msg), /trajectory is executing/);
      g.action.cancelGoal(g.id);
      assert.equal((await within(g.result, 3000, "cancel")).status, ActionStatus.CANCELED);
    });
  });

  describe("bad input", () => {
    it("answers every kind of bad input with a status error and keeps serving", async () => {
      const raw = await RawClient.open(cell.url, rawClients);
      const expectError = async (frame: unknown, pattern: RegExp, id?: string) => {
        raw.send(frame);
        const m = await raw.next(
          (f) => f.op === "status" && (id === undefined || f.id === id),
          String(pattern),
        );
        assert.equal(m.level, "error");
        assert.match(String(m.msg), pattern);
      };
      await expectError("this is not json", /not valid JSON/);
      await expectError("[1, 2, 3]", /must be a JSON object/);
      await expectError("42", /must be a JSON object/);
      await expectError({ foo: 1 }, /no op/);
      await expectError({ op: "launch_missiles", id: "x1" }, /unknown op "launch_missiles"/, "x1");
      await expectError({ op: "subscribe", id: "s1" }, /subscribe: topic/, "s1");
      await expectError(
        { op: "subscribe", id: "s2", topic: "/nope" },
        /unknown topic "\/nope"/,
        "s2",
      );
      await expectError(
        { op: "subscribe", id: "s3", topic: "/joint_states", type: "std_msgs/msg/String" },
        /has type sensor_msgs\/msg\/JointState/,
        "s3",
      );
      await expectError(
        { op: "publish", id: "p1", topic: "/servo_node/delta_joint_cmds", msg: {} },
        /advertise .* before publishing/,
        "p1",
      );
      await expectError(
        { op: "advertise", id: "a1", topic: "/joint_states", type: NAMES.jointState },
        /published by the cell/,
        "a1",
      );
      await expectError({ op: "set_level", level: "loud" }, /set_level: level/);
      await expectError(new Uint8Array([0xff, 0x00, 0x13]), /not valid CBOR/);
      await expectError("x".repeat((1 << 20) + 10), /exceeds the limit/);
      await expectError({ op: "auth", mac: "m" }, /not supported/);
      await expectError(
        { op: "send_action_goal", id: "g1", action: "/nope", action_type: "x/action/Y" },
        /unknown action/,
        "g1",
      );
      const failed = await raw.next(
        (f) => f.op === "action_result" && f.id === "g1",
        "failed goal",
      );
      assert.equal(failed.result, false);

      raw.send({ op: "call_service", id: "c1", service: "/no_such_service", args: {} });
      const missing = await raw.next((f) => f.id === "c1", "unknown service");
      assert.equal(missing.op, "service_response");
      assert.equal(missing.result, false);
      assert.match(String(missing.values), /does not exist/);

      raw.send({
        op: "call_service",
        id: "c2",
        service: "/compute_ik",
        args: { ik_request: { group_name: 7 } },
      });
      const badArgs = await raw.next((f) => f.id === "c2", "bad args");
      assert.equal(badArgs.result, false);
      assert.match(String(badArgs.values), /ik_request\.group_name/);
      assert.deepEqual(
        raw.drain().filter((f) => f.op !== "status"),
        [],
        "nothing else was sent",
      );

      // The same socket still gets a proper answer (sent as CBOR, to cover binary input).
      const { encode } = await import("cbor2");
      raw.send(
        encode({
          op: "call_service",
          id: "ok",
          service: "/compute_ik",
          args: {
            ik_request: {
              group_name: "panda_arm",
              pose_stamped: { pose: robot.kinematics.fk(robot.home) },
            },
          },
        }),
      );
      const ok = await raw.next((f) => f.id === "ok", "a good answer");
      assert.equal(ok.result, true);
      assert.equal((ok.values as GetPositionIKResponse).error_code.val, MoveItErrorCode.SUCCESS);
      assert.equal(raw.ws.readyState, WebSocket.OPEN);
    });

    it("sends info statuses only after set_level info", async () => {
      const raw = await RawClient.open(cell.url, rawClients);
      raw.send({ op: "subscribe", id: "quiet", topic: "/joint_states", throttle_rate: 1000 });
      raw.send({ op: "set_level", level: "info" });
      raw.send({ op: "unsubscribe", id: "quiet", topic: "/joint_states" });
      const info = await raw.next((f) => f.op === "status", "info status");
      assert.equal(info.level, "info");
      assert.equal(info.id, "quiet");
      assert.match(String(info.msg), /unsubscribed/);
    });
  });

  describe("options", () => {
    it("publishes custom joint names at up to 1 kHz and plans with them", async () => {
      const custom = names.map((_, j) => `fr3_joint${j + 1}`);
      const fast = await startSimCell({
        robot,
        rosVersion: 2,
        logger: LOG,
        jointStatesHz: 1000,
        jointNames: custom,
      });
      try {
        const raw = await RawClient.open(fast.url, rawClients);
        raw.send({ op: "subscribe", topic: "/joint_states" });
        await raw.next((f) => f.op === "publish", "first joint state");
        // 100 messages (an event, however slow the machine), stamped on the 1 ms grid of
        // 1 kHz and never two in one period (a late period is skipped, not sent twice).
        const got: Record<string, unknown>[] = [];
        await waitFor(
          () => {
            got.push(...raw.drain().filter((f) => f.op === "publish"));
            return got.length >= 100 ? true : undefined;
          },
          20_000,
          "100 joint states at 1 kHz",
        );
        const stamps = got.map((f) => fromRosTime((f.msg as JointStateMsg).header.stamp));
        for (let i = 1; i < stamps.length; i++) {
          const periods = (stamps[i]! - stamps[i - 1]!) / 1e-3;
          assert.ok(
            Math.round(periods) >= 1 && Math.abs(periods - Math.round(periods)) < 0.05,
            `stamps ${periods.toFixed(3)} ms apart: not a whole number of 1 ms periods`,
          );
        }
        assert.deepEqual((got[0]?.msg as JointStateMsg).name, custom);
        raw.send({ op: "unsubscribe", topic: "/joint_states" });
        const goal = Float64Array.from(robot.home);
        goal[2] = 0.3;
        raw.send({
          op: "call_service",
          id: "plan",
          service: "/plan_kinematic_path",
          args: jointGoalRequest(custom, goal),
        });
        const res = await raw.next((f) => f.id === "plan", "plan with custom names", 20_000);
        const values = res.values as GetMotionPlanResponse;
        assert.equal(values.motion_plan_response.error_code.val, MoveItErrorCode.SUCCESS);
        assert.deepEqual(
          values.motion_plan_response.trajectory.joint_trajectory.joint_names,
          custom,
        );
        raw.ws.terminate();
      } finally {
        await fast.close();
      }
    });
  });

  describe("link loss", () => {
    it("drops every client; a trajectory keeps running and new clients connect", async () => {
      const other = await connect(cell.url, rosClients);
      const here = Array.from(cell.arm.positions);
      const to = Float64Array.from(here);
      to[4] = (to[4] as number) + 0.1;
      const g = sendGoal(
        other,
        "/panda_arm_controller/follow_joint_trajectory",
        NAMES.followJointTrajectory,
        {
          trajectory: handTrajectory(names, here, to, 0.5),
        },
      );
      await waitFor(() => (g.feedback.length > 0 ? true : undefined), 3000, "executing");
      const closed = new Promise<void>((resolve) => other.once("close", () => resolve()));
      cell.dropClients();
      await within(closed, 3000, "roslib sees the close");
      await waitFor(
        () => (distance(cell.arm.positions, to) < 1e-9 ? true : undefined),
        5000,
        "goal reached",
      );
      ros = await connect(cell.url, rosClients);
      const js = await nextJointState(ros);
      assert.ok(distance(js.position, to) < 1e-6);
    });
  });
});
