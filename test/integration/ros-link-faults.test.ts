/**
 * A dead link is detected and the arm is stopped: the server's RosCell against the simulated
 * cell's fault modes, over real websockets, headsets on the real SDK.
 *
 * - a rosbridge frozen without closing its socket: the link goes `stale` (no fresh joint
 *   states), the running plan is aborted, its cancel is sent, the room is told plainly that
 *   the cell did not confirm it, motion is refused with `link_stale`; the ping cuts the dead
 *   socket; when the rosbridge comes back the cancel is sent again and the arm stops;
 * - joint states that stop while rosbridge answers: stale, cancel confirmed, back to connected;
 * - link metrics; a ROS 2 server against a ROS 1 rosbridge (type strings) and CBOR against
 *   rosbridge 0.11 (falls back to JSON); slow goal acceptance; a goal no action server takes;
 *   one ROS 1 action client per link; rosauth authentication.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SimCellOptions } from "../../ros/sim-cell/index.ts";
import { rosLinkEnv, startTestCell, type TestCell } from "../support/cell.ts";
import {
  type Reply,
  request,
  startTestServer,
  type TestServer,
  type TwinClient,
  waitForState,
} from "../support/server.ts";

/** Server linked to `cell` with fast reconnects and a short stale limit. */
function server(cell: TestCell, env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({
    ...rosLinkEnv(cell.url),
    // Generous: the simulated MoveIt plans in this process, which a loaded machine slows.
    ROS_CALL_TIMEOUT_MS: "5000",
    PLAN_TIMEOUT_MS: "15000",
    LINK_STALE_MS: "400",
    ROS_PING_MS: "1000",
    AGENTS: "false",
    ...env,
  });
}

/** A cell, a server linked to it, and an operator in a twin room once the link is up. */
async function linked(
  name: string,
  options: Partial<SimCellOptions> = {},
  env: Record<string, string> = {},
): Promise<{ cell: TestCell; s: TestServer; op: TwinClient }> {
  const cell = await startTestCell(options);
  let s: TestServer | undefined;
  try {
    s = await server(cell, env);
    const op = await s.join("operator", name);
    await waitForState(op.room, (st) => st.robot.link === "connected", 10_000);
    return { cell, s, op };
  } catch (err) {
    await s?.close();
    await cell.close();
    throw err;
  }
}

/** The next notice whose message matches `re`. */
function notice(op: TwinClient, re: RegExp, timeoutMs = 15_000): Promise<Reply> {
  return op.replies.next((r) => r.kind === "notice" && re.test(r.body.message ?? ""), timeoutMs);
}

async function planAndApprove(op: TwinClient, goal: Record<string, unknown>, scale?: number) {
  const planned = await request(op, "plan", {
    goal,
    ...(scale !== undefined && { velocityScale: scale }),
  });
  assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
  const id = planned.body.id!;
  const approved = await request(op, "approve", { planId: id });
  assert.equal(approved.kind, "ack", JSON.stringify(approved.body));
  return id;
}

async function metric(s: TestServer, name: string, roomId: string): Promise<number | undefined> {
  const res = await fetch(`${s.url}/metrics`, {
    headers: { authorization: `Bearer ${await s.token("operator", "metrics")}` },
  });
  const text = await res.text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{room="${roomId}"}`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("a frozen rosbridge (socket open, nothing moves on it)", { timeout: 120_000 }, () => {
  let cell: TestCell;
  let s: TestServer;
  let op: TwinClient;

  before(async () => {
    ({ cell, s, op } = await linked("freeze-op"));
  });
  after(async () => {
    cell.thaw();
    await s.close();
    await cell.close();
  });

  it("goes stale, aborts the plan, says the cancel is unconfirmed, cancels once back", async () => {
    // A slow plan, so the arm is still on its way when the rosbridge freezes.
    const id = await planAndApprove(op, { kind: "named", name: "left" }, 0.1);
    await waitForState(op.room, (st) => st.robot.mode === "executing" && st.robot.progress > 0.05);
    assert.equal(await metric(s, "agenttwin_robot_link_up", op.room.roomId), 1);
    cell.freeze();

    const stale = await waitForState(
      op.room,
      (st) => st.plans.get(id)?.status === "aborted",
      10_000,
    );
    assert.match(stale.plans.get(id)!.reason, /link stale: no joint states/);
    await waitForState(op.room, (st) => st.robot.link === "stale", 5000).catch(() => undefined);
    if (op.room.state.robot.link === "stale") {
      const jog = await request(op, "jog", { mode: "joint", joint: 0, velocity: 0.1 });
      assert.equal(jog.kind, "error");
      assert.equal(jog.body.code, "link_stale", JSON.stringify(jog.body));
      assert.equal(await metric(s, "agenttwin_robot_link_up", op.room.roomId), 0);
      const age = await metric(s, "agenttwin_robot_joint_state_age_seconds", op.room.roomId);
      assert.ok(age !== undefined && age >= 0.4, `joint state age ${age}`);
    }
    // The cancel went into a socket nobody reads: the room is told so, plainly.
    const unconfirmed = await notice(
      op,
      /(did not confirm|could not be sent).*use the robot's own stop/,
    );
    assert.match(unconfirmed.body.message!, /may still be (moving|running)/);
    // A frozen rosbridge does not stop the controller behind it: the arm keeps going.
    assert.equal(cell.arm.mode, "trajectory");

    // The ping finds the socket dead and the link goes down (reconnects hang in the handshake).
    await waitForState(op.room, (st) => st.robot.link === "disconnected", 15_000);
    assert.equal(cell.arm.mode, "trajectory", "still running its trajectory while frozen");

    const stopsBefore = cell.stops.length;
    cell.thaw();
    await notice(op, /confirmed the cancel/, 20_000);
    await waitForState(op.room, (st) => st.robot.link === "connected", 15_000);
    // The cancel sent again on reconnect stopped the arm (not its trajectory's end).
    await cell.stopped("canceled", stopsBefore);
    assert.equal(cell.arm.mode, "hold");
    assert.equal(op.room.state.plans.get(id)?.status, "aborted", "never resumed");
  });
});

describe("joint states that stop while rosbridge answers", { timeout: 60_000 }, () => {
  let cell: TestCell;
  let s: TestServer;
  let op: TwinClient;

  before(async () => {
    ({ cell, s, op } = await linked("drop-op"));
  });
  after(async () => {
    await s.close();
    await cell.close();
  });

  it("stale: plan aborted and the cancel confirmed; fresh data → connected", async () => {
    const id = await planAndApprove(op, { kind: "named", name: "right" }, 0.1);
    await waitForState(op.room, (st) => st.robot.mode === "executing" && st.robot.progress > 0.05);
    const stopsBefore = cell.stops.length;
    cell.faults.dropJointStates = true;
    await waitForState(op.room, (st) => st.robot.link === "stale", 10_000);
    const aborted = await waitForState(op.room, (st) => st.plans.get(id)?.status === "aborted");
    assert.match(aborted.plans.get(id)!.reason, /link stale/);
    // The cancel reached the cell (rosbridge still answers): the arm stops.
    await cell.stopped("canceled", stopsBefore);
    assert.equal(cell.arm.mode, "hold");
    const jog = await request(op, "jog", { mode: "joint", joint: 0, velocity: 0.1 });
    assert.equal(jog.body.code, "link_stale");
    assert.match(jog.body.message!, /stale/);

    cell.faults.dropJointStates = false;
    await waitForState(op.room, (st) => st.robot.link === "connected", 10_000);
    assert.equal(await metric(s, "agenttwin_robot_link_up", op.room.roomId), 1);
    const jogged = await request(op, "jog", {
      mode: "joint",
      joint: 0,
      velocity: 0.1,
      deadmanMs: 100,
    });
    assert.equal(jogged.kind, "ack", JSON.stringify(jogged.body));
  });
});

describe("a ROS 1 rosbridge 0.11 behind the link", { timeout: 90_000 }, () => {
  let cell: TestCell;
  before(async () => {
    cell = await startTestCell({ rosVersion: 1, quirks: "rosbridge-0.11" });
  });
  after(async () => {
    await cell.close();
  });

  it("ROS_VERSION=2 against it: a link error naming the type string and the fix", async () => {
    const s = await server(cell, { ROS_VERSION: "2" });
    try {
      const op = await s.join("operator", "v2-op", undefined, false);
      const n = await notice(op, /not a valid type string/);
      assert.match(n.body.message!, /sensor_msgs\/msg\/JointState is not a valid type string/);
      assert.match(n.body.message!, /set ROS_VERSION=1/);
      assert.equal(op.room.state.robot.link, "disconnected");
      const plan = await request(op, "plan", { goal: { kind: "named", name: "left" } });
      assert.equal(plan.body.code, "link_down");
      assert.match(plan.body.message!, /ROS_VERSION/);
    } finally {
      await s.close();
    }
  });

  it("ROS_COMPRESSION=cbor: nothing arrives as CBOR, so it falls back to JSON and links", async () => {
    const s = await server(cell, { ROS_VERSION: "1", ROS_COMPRESSION: "cbor" });
    try {
      const op = await s.join("operator", "cbor-op", undefined, false);
      const n = await notice(op, /subscribed again as JSON/);
      assert.match(n.body.message!, /no CBOR \/joint_states/);
      await waitForState(op.room, (st) => st.robot.link === "connected", 10_000);
      // One action client per link and action: executions do not pile up subscriptions.
      for (const name of ["left", "ready", "left", "ready"]) {
        const id = await planAndApprove(op, { kind: "named", name });
        await waitForState(op.room, (st) => st.plans.get(id)?.status === "succeeded", 20_000);
      }
      assert.equal(cell.subscribeIds("/execute_trajectory/status"), 1);
      assert.equal(cell.subscribeIds("/execute_trajectory/result"), 1);
    } finally {
      await s.close();
    }
  });
});

describe("goal acceptance", { timeout: 90_000 }, () => {
  for (const rosVersion of [2, 1] as const) {
    it(`ROS ${rosVersion}: a goal accepted 0.6 s late runs to the end (timed from activation)`, async () => {
      const { cell, s, op } = await linked(
        `slow-${rosVersion}`,
        { rosVersion, faults: { goalAcceptDelayMs: 600 } },
        { ROS_VERSION: String(rosVersion) },
      );
      try {
        const id = await planAndApprove(op, { kind: "named", name: "left" });
        const done = await waitForState(
          op.room,
          (st) => ["succeeded", "aborted"].includes(st.plans.get(id)?.status ?? ""),
          20_000,
        );
        assert.equal(done.plans.get(id)?.status, "succeeded", done.plans.get(id)?.reason);
      } finally {
        await s.close();
        await cell.close();
      }
    });
  }

  it("a goal no action server accepts ends with 'no action server at <name>'", async () => {
    const { cell, s, op } = await linked(
      "wrong-action",
      { rosVersion: 1 },
      {
        ROS_VERSION: "1",
        ROS_EXECUTE: "controller",
        ROS_CONTROLLER_ACTION: "/wrong_controller/follow_joint_trajectory",
        ROS_ACTION_ACCEPT_TIMEOUT_MS: "1000",
      },
    );
    try {
      const id = await planAndApprove(op, { kind: "named", name: "left" });
      const done = await waitForState(
        op.room,
        (st) => st.plans.get(id)?.status === "aborted",
        10_000,
      );
      assert.match(
        done.plans.get(id)!.reason,
        /no action server at \/wrong_controller\/follow_joint_trajectory/,
      );
      assert.equal(cell.arm.mode, "hold");
    } finally {
      await s.close();
      await cell.close();
    }
  });
});

describe("rosbridge authentication (rosauth MAC)", { timeout: 60_000 }, () => {
  const secret = "0123456789abcdef";
  let cell: TestCell;
  before(async () => {
    cell = await startTestCell({ authSecret: secret });
  });
  after(async () => {
    await cell.close();
  });

  it("links with the right secret", async () => {
    const s = await server(cell, { ROS_AUTH_SECRET: secret });
    try {
      const op = await s.join("operator", "auth-ok");
      await waitForState(op.room, (st) => st.robot.link === "connected", 10_000);
    } finally {
      await s.close();
    }
  });

  it("a wrong secret: the link error says rosbridge refused the MAC", async () => {
    const s = await server(cell, { ROS_AUTH_SECRET: "fedcba9876543210" });
    try {
      const op = await s.join("operator", "auth-bad", undefined, false);
      const n = await notice(op, /refused the MAC/);
      assert.match(n.body.message!, /ROS_AUTH_SECRET/);
      assert.equal(op.room.state.robot.link, "disconnected");
    } finally {
      await s.close();
    }
  });
});
