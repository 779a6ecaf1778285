/**
 * The simulated cell (ros/sim-cell) as a ROS 1 rosbridge peer, over real websockets with
 * roslib 2.x: /joint_states with `{secs, nsecs}` stamps and ROS 1 type names, the plan
 * service under its ROS 1 type, and trajectory execution through actionlib topics with
 * roslib's `ActionClient` and `Goal` (feedback, result, status, cancel, rejection).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ActionClient, Goal, Ros, Service, Topic } from "roslib";
import {
  fromRosTime,
  type GetMotionPlanResponse,
  type GoalStatusArrayMsg,
  GoalStatusCode,
  type GoalStatusMsg,
  type JointStateMsg,
  type JointTrajectoryMsg,
  MoveItErrorCode,
  rosNames,
  toRosTime,
} from "../../shared/ros-msgs.ts";
import { type SimCell, startSimCell } from "../../ros/sim-cell/index.ts";
import { loadRobotDescription, type RobotDescription } from "../../server/sim/robot-description.ts";

const NAMES = rosNames(1);
const PANDA = { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" };
const LOG = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitFor<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(10);
  }
}

async function connect(url: string, open: Ros[]): Promise<Ros> {
  const ros = new Ros({});
  const opened = new Promise<void>((resolve) => ros.once("connection", () => resolve()));
  await ros.connect(url);
  await within(opened, 5000, "roslib connection");
  open.push(ros);
  return ros;
}

/**
 * The first joint state sampled at or after `afterS` (wall-clock s; default now). The cell
 * publishes every sample with its own step's state and stamp, so one published late can
 * arrive after, say, an action result although it shows the arm before it.
 */
async function nextJointState(ros: Ros, afterS = Date.now() / 1000): Promise<JointStateMsg> {
  const topic = new Topic<JointStateMsg>({
    ros,
    name: "/joint_states",
    messageType: NAMES.jointState,
  });
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

function plan(ros: Ros, names: readonly string[], q: ArrayLike<number>, scale = 1) {
  const service = new Service<unknown, GetMotionPlanResponse>({
    ros,
    name: "/plan_kinematic_path",
    serviceType: NAMES.getMotionPlan,
  });
  const req = {
    motion_plan_request: {
      group_name: "panda_arm",
      start_state: { joint_state: { header: { stamp: { secs: 0, nsecs: 0 }, frame_id: "" } } },
      goal_constraints: [
        { joint_constraints: names.map((n, j) => ({ joint_name: n, position: q[j] as number })) },
      ],
      max_velocity_scaling_factor: scale,
      max_acceleration_scaling_factor: scale,
    },
  };
  return within(
    new Promise<GetMotionPlanResponse>((resolve, reject) =>
      service.callService(req, resolve, (e) => reject(new Error(e))),
    ),
    20_000,
    "plan",
  );
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs((a[j] as number) - (b[j] as number)));
  return m;
}

function handTrajectory(
  names: readonly string[],
  from: ArrayLike<number>,
  to: ArrayLike<number>,
  seconds: number,
): JointTrajectoryMsg {
  const zero = names.map(() => 0);
  const point = (q: ArrayLike<number>, t: number) => ({
    positions: Array.from(q),
    velocities: zero,
    accelerations: zero,
    effort: [],
    time_from_start: toRosTime(t, 1),
  });
  return {
    header: { stamp: { secs: 0, nsecs: 0 }, frame_id: "" },
    joint_names: [...names],
    points: [point(from, 0), point(to, seconds)],
  };
}

/** A roslib Goal with everything it emits recorded. */
function track<TGoal>(client: ActionClient<TGoal>, goalMessage: TGoal) {
  const goal = new Goal<TGoal>({ actionClient: client, goalMessage });
  const statuses: GoalStatusMsg[] = [];
  const feedback: unknown[] = [];
  goal.on("status", (s) => statuses.push(s as GoalStatusMsg));
  goal.on("feedback", (f) => feedback.push(f));
  const result = new Promise<unknown>((resolve) => goal.on("result", resolve));
  return { goal, statuses, feedback, result };
}

describe("sim cell, ROS 1, over rosbridge (actionlib)", () => {
  let robot: RobotDescription;
  let cell: SimCell;
  let ros: Ros;
  let names: readonly string[];
  const rosClients: Ros[] = [];
  const actionClients: ActionClient<unknown>[] = [];

  before(async () => {
    robot = await loadRobotDescription({ robot: PANDA });
    names = robot.kinematics.jointNames;
    cell = await startSimCell({ robot, rosVersion: 1, logger: LOG, jointStatesHz: 50 });
    ros = await connect(cell.url, rosClients);
  });

  after(async () => {
    for (const c of actionClients) c.dispose();
    for (const r of rosClients) r.close();
    await cell.close();
  });

  function actionClient(serverName: string, actionName: string): ActionClient<unknown> {
    const c = new ActionClient<unknown>({ ros, serverName, actionName });
    actionClients.push(c);
    return c;
  }

  it("publishes /joint_states with ROS 1 stamps and sequence numbers", async () => {
    const got: JointStateMsg[] = [];
    const topic = new Topic<JointStateMsg>({
      ros,
      name: "/joint_states",
      messageType: NAMES.jointState,
    });
    // Fifteen in a row, however slow the machine (a late period is skipped, not burst).
    const fifteen = new Promise<void>((resolve) =>
      topic.subscribe((m) => {
        got.push(m);
        if (got.length === 15) resolve();
      }),
    );
    await within(fifteen, 20_000, "15 joint states");
    topic.unsubscribe();
    // On the 20 ms grid of 50 Hz: never two in one period.
    for (let i = 1; i < 15; i++) {
      const d = fromRosTime(got[i]!.header.stamp) - fromRosTime(got[i - 1]!.header.stamp);
      assert.ok(d >= 0.0195, `stamps ${(d * 1000).toFixed(2)} ms apart at 50 Hz`);
    }
    const first = got[0] as JointStateMsg;
    assert.ok("secs" in first.header.stamp && "nsecs" in first.header.stamp);
    assert.deepEqual(first.name, names);
    assert.ok(Math.abs(fromRosTime(first.header.stamp) - Date.now() / 1000) < 2);
    const seqs = got.map((m) => m.header.seq as number);
    assert.ok(
      seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)),
      "seq increases",
    );
  });

  it("refuses ROS 2 type names and rosbridge's ROS 2 action ops", async () => {
    const statuses: { msg: string; id?: string }[] = [];
    ros.on("status", (s) => statuses.push(s as unknown as { msg: string }));
    ros.callOnConnection({
      op: "subscribe",
      topic: "/joint_states",
      type: "sensor_msgs/msg/JointState",
    });
    ros.callOnConnection({
      op: "send_action_goal",
      id: "",
      action: "/execute_trajectory",
      action_type: "moveit_msgs/action/ExecuteTrajectory",
      args: {},
    });
    await waitFor(() => (statuses.length >= 2 ? true : undefined), 2000, "two status errors");
    // What a ROS 1 rosbridge answers: it cannot load a ROS 2 type string at all.
    assert.equal(
      statuses[0]?.msg,
      "subscribe: sensor_msgs/msg/JointState is not a valid type string",
    );
    assert.match(statuses[1]?.msg ?? "", /ROS 1 cell: actions go over actionlib topics/);
  });

  it("plans under the ROS 1 service type with {secs, nsecs} times", async () => {
    const goal = Float64Array.from(robot.home);
    goal[0] = 0.5;
    const res = (await plan(ros, names, goal)).motion_plan_response;
    assert.equal(res.error_code.val, MoveItErrorCode.SUCCESS);
    const pts = res.trajectory.joint_trajectory.points;
    assert.ok(pts.every((p) => "secs" in p.time_from_start));
    assert.ok(distance(pts[pts.length - 1]?.positions ?? [], goal) < 1e-9);
  });

  it("executes a trajectory through actionlib: status, feedback, result", async () => {
    const start = (await nextJointState(ros)).position;
    const goal = Float64Array.from(start);
    goal[0] = (goal[0] as number) - 0.3;
    goal[5] = (goal[5] as number) + 0.2;
    const res = (await plan(ros, names, goal)).motion_plan_response;
    assert.equal(res.error_code.val, MoveItErrorCode.SUCCESS);
    const client = actionClient("/execute_trajectory", NAMES.executeTrajectory);
    const statusArrays: GoalStatusArrayMsg[] = [];
    client.statusListener.subscribe((m) => statusArrays.push(m as GoalStatusArrayMsg));
    const g = track(client, { trajectory: res.trajectory });
    g.goal.send();
    const result = await within(g.result, 10_000, "result");
    assert.deepEqual(result, { error_code: { val: MoveItErrorCode.SUCCESS } });
    assert.ok(g.feedback.length >= 1, "feedback while executing");
    assert.match(String((g.feedback[0] as { state: string }).state), /^progress=/);
    assert.ok(
      g.statuses.some((s) => s.status === GoalStatusCode.ACTIVE),
      "was ACTIVE",
    );
    assert.equal(g.statuses[g.statuses.length - 1]?.status, GoalStatusCode.SUCCEEDED);
    assert.ok(statusArrays.length >= 1, "status topic published");
    assert.ok(statusArrays.every((a) => "secs" in a.header.stamp));
    await sleep(50);
    const end = (await nextJointState(ros)).position;
    assert.ok(
      distance(end, goal) < 1e-3,
      `joint_states end ${distance(end, goal)} rad from the goal`,
    );
  });

  it("cancels a goal with goal.cancel(): the arm stops and the goal is PREEMPTED", async () => {
    const start = (await nextJointState(ros)).position;
    const goal = Float64Array.from(start);
    goal[0] = (goal[0] as number) + 0.8;
    const res = (await plan(ros, names, goal, 0.1)).motion_plan_response;
    const client = actionClient("/execute_trajectory", NAMES.executeTrajectory);
    const g = track(client, { trajectory: res.trajectory });
    g.goal.send();
    const progress = (f: unknown) => Number(String((f as { state: string }).state).slice(9));
    await waitFor(
      () => (g.feedback.some((f) => progress(f) >= 0.1) ? true : undefined),
      5000,
      "10 % progress",
    );
    g.goal.cancel();
    const result = await within(g.result, 3000, "result after cancel");
    assert.deepEqual(result, { error_code: { val: MoveItErrorCode.PREEMPTED } });
    assert.equal(g.statuses[g.statuses.length - 1]?.status, GoalStatusCode.PREEMPTED);
    const a = (await nextJointState(ros)).position;
    await sleep(200);
    const b = (await nextJointState(ros)).position;
    assert.ok(distance(a, b) < 1e-9, "joint_states stop changing");
    assert.ok(distance(a, goal) > 0.01, "stopped before the goal");
  });

  it("rejects a follow_joint_trajectory goal that does not start at the arm", async () => {
    const start = (await nextJointState(ros)).position;
    const away = Float64Array.from(start);
    away[2] = (away[2] as number) + 0.3;
    const client = actionClient(
      "/panda_arm_controller/follow_joint_trajectory",
      NAMES.followJointTrajectory,
    );
    const g = track(client, { trajectory: handTrajectory(names, away, start, 1) });
    g.goal.send();
    const result = (await within(g.result, 3000, "rejection")) as {
      error_code: number;
      error_string: string;
    };
    assert.equal(result.error_code, -1);
    assert.match(result.error_string, /rad away from the arm/);
    const last = g.statuses[g.statuses.length - 1];
    assert.equal(last?.status, GoalStatusCode.REJECTED);
    assert.match(last?.text ?? "", /rad away/);
  });

  it("follows a trajectory; a second goal preempts the first; cancel-all stops it", async () => {
    const client = actionClient(
      "/panda_arm_controller/follow_joint_trajectory",
      NAMES.followJointTrajectory,
    );
    const here = Array.from(cell.arm.positions);
    const slow = Float64Array.from(here);
    slow[0] = (slow[0] as number) + 0.05;
    const first = track(client, { trajectory: handTrajectory(names, here, slow, 20) });
    first.goal.send();
    await waitFor(() => (first.feedback.length > 0 ? true : undefined), 3000, "first feedback");
    const fb = first.feedback[0] as { joint_names: string[]; actual: { positions: number[] } };
    assert.deepEqual(fb.joint_names, names);
    const now = Array.from(cell.arm.positions);
    const to = Float64Array.from(now);
    to[1] = (to[1] as number) + 0.05;
    const second = track(client, { trajectory: handTrajectory(names, now, to, 20) });
    second.goal.send();
    const preempted = (await within(first.result, 3000, "first preempted")) as {
      error_code: number;
    };
    assert.equal(preempted.error_code, -1);
    assert.equal(first.statuses[first.statuses.length - 1]?.status, GoalStatusCode.PREEMPTED);
    await waitFor(() => (second.feedback.length > 0 ? true : undefined), 3000, "second runs");
    client.cancel();
    const canceled = (await within(second.result, 3000, "second canceled")) as {
      error_string: string;
    };
    assert.equal(canceled.error_string, "canceled");
    assert.equal(second.statuses[second.statuses.length - 1]?.status, GoalStatusCode.PREEMPTED);
    assert.equal(cell.arm.mode, "hold");
  });
});
