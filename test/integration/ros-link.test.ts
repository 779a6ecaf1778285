/**
 * The twin linked to a robot cell over rosbridge: the server's RosCell (roslib) against the
 * project's simulated cell (ros/sim-cell) on a real websocket, headsets on the real SDK.
 * Plans come from the cell's MoveIt service, are replayed in the twin (which knows the
 * virtual objects the cell does not), need approval, execute as an action on the cell, and
 * stop cancels them; a lost link aborts the running plan and refuses motion until it is back.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSimCell, type SimCell } from "../../ros/sim-cell/index.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";
import { startTestCell, type TestCell } from "../support/cell.ts";
import {
  request,
  startTestServer,
  type TestServer,
  type TwinClient,
  waitForState,
} from "../support/server.ts";

const ROBOT = { robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" } };

/** Resolves once `ok()` holds (polled every 20 ms); rejects after `timeoutMs` (a guard). */
async function until(ok: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Plans to `goal`, approves, waits for the outcome; returns the plan id. */
async function planAndRun(op: TwinClient, goal: Record<string, unknown>, expect = "succeeded") {
  const planned = await request(op, "plan", { goal });
  assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
  const id = planned.body.id!;
  const approved = await request(op, "approve", { planId: id });
  assert.equal(approved.kind, "ack", JSON.stringify(approved.body));
  await waitForState(op.room, (s) => s.plans.get(id)?.status === expect, 15_000);
  return id;
}

for (const rosVersion of [2, 1] as const) {
  describe(`twin linked to a cell over rosbridge (ROS ${rosVersion})`, () => {
    let sim: TestCell;
    let server: TestServer;
    let op: TwinClient;

    before(async () => {
      sim = await startTestCell({ rosVersion });
      server = await startTestServer({
        ROBOT_LINK: "ros",
        ROSBRIDGE_URL: sim.url,
        ROS_VERSION: String(rosVersion),
        ROS_RECONNECT_MIN_MS: "50",
        ROS_RECONNECT_MAX_MS: "200",
      });
      op = await server.join("operator", `op-ros${rosVersion}`);
      await waitForState(op.room, (s) => s.robot.link === "connected", 10_000);
    });
    after(async () => {
      await server.close();
      await sim.close();
    });

    it("mirrors the cell's joint states and names the link", () => {
      const r = op.room.state.robot;
      assert.equal(r.cell, "ros");
      assert.equal(r.joints.length, 7);
      assert.ok(Math.abs(r.joints[3]!.position - -2.356194) < 1e-3);
    });

    it("plans with the cell's MoveIt, waits for approval, executes on the cell", async () => {
      const goal = [0.5, -0.4, 0.1, -2.1, 0.1, 1.9, 0.6];
      const planned = await request(op, "plan", { goal: { kind: "joints", positions: goal } });
      assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
      const id = planned.body.id!;
      await waitForState(op.room, (s) => s.plans.get(id)?.status === "validated");
      // Validated is not approved: the cell's arm has not moved.
      assert.ok(Math.abs(sim.arm.positions[0]! - 0) < 1e-6);
      assert.equal((await request(op, "approve", { planId: id })).kind, "ack");
      await waitForState(op.room, (s) => s.plans.get(id)?.status === "succeeded", 15_000);
      goal.forEach((g, j) =>
        assert.ok(Math.abs(sim.arm.positions[j]! - g) < 1e-3, `cell joint ${j}`),
      );
      await waitForState(op.room, (s) => Math.abs(s.robot.joints[0]!.position - 0.5) < 1e-3);
      await planAndRun(op, { kind: "named", name: "ready" });
    });

    it("refuses a MoveIt plan through an object that exists only in the twin", async () => {
      // A proposed second arm's column, right where the straight path to "left" sweeps.
      const added = await request(op, "addObject", {
        id: "arm-2",
        shape: { kind: "cylinder", radius: 0.06, height: 0.6 },
        pose: { position: { x: 0.25, y: 0.25, z: 1.25 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
      assert.equal(added.kind, "ack", JSON.stringify(added.body));
      const planned = await request(op, "plan", { goal: { kind: "named", name: "left" } });
      assert.equal(planned.kind, "error");
      assert.equal(planned.body.code, "collision");
      assert.match(planned.body.message!, /twin replay failed: .*arm-2/);
      assert.equal(sim.arm.mode, "hold");
      await request(op, "removeObject", { id: "arm-2" });
    });

    it("stop cancels the running goal on the cell", async () => {
      const planned = await request(op, "plan", { goal: { kind: "named", name: "right" } });
      assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
      await request(op, "approve", { planId: planned.body.id! });
      await waitForState(op.room, (s) => s.robot.progress > 0.15);
      const stopsBefore = sim.stops.length;
      assert.equal((await request(op, "stop")).kind, "ack");
      await waitForState(op.room, (s) => s.plans.get(planned.body.id!)?.status === "aborted");
      // The cancel reached the cell and halted its arm (an event, not a fixed wait).
      await sim.stopped("canceled", stopsBefore);
      const frozen = Array.from(sim.arm.positions);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(Array.from(sim.arm.positions), frozen, "the cell's arm stays stopped");
      await planAndRun(op, { kind: "named", name: "ready" });
    });

    it("refuses a plan as stale once the arm has moved away from its start", async () => {
      const planned = await request(op, "plan", { goal: { kind: "named", name: "extended" } });
      assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
      const jog = await request(op, "jog", {
        mode: "joint",
        joint: 0,
        velocity: 0.5,
        deadmanMs: 200,
      });
      assert.equal(jog.kind, "ack", JSON.stringify(jog.body));
      await waitForState(op.room, (s) => Math.abs(s.robot.joints[0]!.position) > 0.03, 5000);
      const approve = await request(op, "approve", { planId: planned.body.id! });
      assert.equal(approve.kind, "error");
      assert.match(approve.body.message!, /stale/);
      await waitForState(
        op.room,
        (s) => s.robot.mode !== "jogging" && Math.abs(s.robot.joints[0]!.velocity) < 1e-3,
      );
      await planAndRun(op, { kind: "named", name: "ready" });
    });

    it("aborts the running plan when the link drops, refuses motion, and recovers", async () => {
      const planned = await request(op, "plan", { goal: { kind: "named", name: "left" } });
      assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
      await request(op, "approve", { planId: planned.body.id! });
      await waitForState(op.room, (s) => s.robot.mode === "executing");
      sim.dropClients();
      const s = await waitForState(
        op.room,
        (st) => st.plans.get(planned.body.id!)?.status === "aborted",
      );
      assert.match(s.plans.get(planned.body.id!)!.reason, /link/);
      // While down (or right after), motion is refused or the link is back: never silently resumed.
      assert.notEqual(op.room.state.plans.get(planned.body.id!)?.status, "executing");
      await waitForState(op.room, (st) => st.robot.link === "connected", 10_000);
      // The cell kept running the trajectory it had (as a real controller would): wait for rest.
      await until(() => sim.arm.mode === "hold", "the cell's arm finished its trajectory");
      await request(op, "reset");
      await planAndRun(op, { kind: "named", name: "ready" });
    });
  });
}

describe("cell unreachable at start", () => {
  it("serves, shows the link down, refuses motion, and links once the cell appears", async () => {
    // Find a free port, then keep it closed until the cell starts there.
    const probe = await startSimCell({ robot: await loadRobotDescription(ROBOT), rosVersion: 2 });
    const port = probe.port;
    await probe.close();
    const server = await startTestServer({
      ROBOT_LINK: "ros",
      ROSBRIDGE_URL: `ws://127.0.0.1:${port}`,
      ROS_RECONNECT_MIN_MS: "50",
      ROS_RECONNECT_MAX_MS: "200",
    });
    let sim: SimCell | undefined;
    try {
      const op = await server.join("operator", "early", undefined, false);
      assert.equal(op.room.state.robot.link, "disconnected");
      const jog = await request(op, "jog", { mode: "joint", joint: 0, velocity: 0.2 });
      assert.equal(jog.kind, "error");
      assert.equal(jog.body.code, "link_down");
      const plan = await request(op, "plan", { goal: { kind: "named", name: "left" } });
      assert.equal(plan.body.code, "link_down");
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      sim = await startSimCell({ robot: await loadRobotDescription(ROBOT), rosVersion: 2, port });
      await waitForState(op.room, (s) => s.robot.link === "connected", 10_000);
      assert.equal(
        (await request(op, "jog", { mode: "joint", joint: 0, velocity: 0.1, deadmanMs: 100 })).kind,
        "ack",
      );
    } finally {
      await server.close();
      await sim?.close();
    }
  });
});
