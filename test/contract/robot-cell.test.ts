/**
 * One contract suite for every `RobotCell` implementation: the in-process `SimulatedCell`,
 * and `RosCell` (roslib) against the simulated cell of ros/sim-cell over a real
 * rosbridge-protocol websocket on port 0. Each, on the shipped Panda at its home pose, must:
 * come up ready; deliver a stream of fresh joint measurements; execute a small trajectory
 * to the end; halt a running one on `stop` (the execution ends `aborted` with the reason
 * and the arm comes to rest short of the goal, then takes the next trajectory); refuse a
 * bad goal with a clear error and without moving; and, once closed, end what runs and
 * refuse commands. Judged by outcomes and measured state, never by how long things took.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../../server/config.ts";
import {
  CellError,
  type Execution,
  type ExecutionOutcome,
  type JointMeasurement,
  LinkStatus,
  type RobotCell,
} from "../../server/robot/robot-cell.ts";
import { RosCell } from "../../server/robot/ros-cell.ts";
import { SimulatedCell } from "../../server/robot/simulated-cell.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { type JointTrajectory, timeParameterize } from "../../server/sim/trajectory.ts";
import { loadPandaCell, startTestCell, type TestCell } from "../support/cell.ts";

/** How far (rad, any joint) a measurement may be from where the arm is said to be. */
const AT_RAD = 0.01;
/** Below this speed (rad/s, every joint) the arm counts as at rest. */
const REST_RAD_S = 1e-3;
/** Longest wait for any one event of these tests, ms (a guard, not a timing assertion). */
const WAIT_MS = 20_000;

/** A cell under test and what closes whatever it needs besides itself. */
interface OpenCell {
  readonly cell: RobotCell;
  /** Releases what the implementation needed (the rosbridge peer); after `cell.close()`. */
  readonly teardown: () => Promise<void>;
  /** Resolves once the cell's peer saw it let go (no client left on the rosbridge). */
  readonly released?: () => Promise<void>;
}

interface Implementation {
  readonly kind: string;
  /** A cell on the Panda at home, ready for commands. */
  readonly open: () => Promise<OpenCell>;
}

let robot: RobotDescription;
const implementations: Record<string, Implementation> = {
  SimulatedCell: {
    kind: "simulated",
    open: async () => ({
      cell: new SimulatedCell({
        limits: robot.kinematics,
        start: robot.home,
        gripper: robot.homeGripper,
        rateHz: 1000,
      }),
      teardown: async () => undefined,
    }),
  },
  RosCell: {
    kind: "ros",
    open: async () => {
      const sim = await startTestCell();
      const cell = new RosCell({
        link: loadConfig({
          ROBOT_LINK: "ros",
          ROSBRIDGE_URL: sim.url,
          AUTH_SECRET: randomBytes(32).toString("hex"),
        }).link,
        jointNames: robot.kinematics.jointNames,
        gripper: robot.homeGripper,
        ...(robot.model.gripper && { fingerJoint: robot.model.gripper.joint }),
        simulated: true,
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      });
      if (cell.linkStatus() !== LinkStatus.Connected) {
        await event<void>("the link to come up", (done) =>
          cell.onLinkStatus((s) => s === LinkStatus.Connected && done()),
        );
      }
      return { cell, teardown: () => sim.close(), released: () => noClients(sim) };
    },
  },
};

before(async () => {
  robot = await loadPandaCell();
});

/** Resolves with the first value `subscribe` hands to `done`, or fails after {@link WAIT_MS}. */
function event<T>(what: string, subscribe: (done: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`no event within ${WAIT_MS} ms: ${what}`));
    }, WAIT_MS);
    subscribe((value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/**
 * `promise`, or a failure after {@link WAIT_MS}. Its timer also keeps the event loop alive
 * while only the simulated cell's (unref'd) stepping timer would settle the promise.
 */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return event<T>(what, (done) => void promise.then(done));
}

/** A copy of a measurement (the cell's own object changes under us). */
interface Sample {
  readonly positions: number[];
  readonly velocities: number[];
  readonly gripper: number;
  readonly stampMs: number;
}

const copy = (m: JointMeasurement): Sample => ({
  positions: Array.from(m.positions),
  velocities: Array.from(m.velocities),
  gripper: m.gripper,
  stampMs: m.stampMs,
});

/**
 * The first measurement for which `accept` holds: as the cell announces it
 * (`onMeasurement`), or, for a cell without that event, as its `measurement()` reads on each
 * turn of the timer queue (the simulated cell steps its arm when read).
 */
function measured(cell: RobotCell, what: string, accept: (s: Sample) => boolean): Promise<Sample> {
  const now = copy(cell.measurement());
  if (accept(now)) return Promise.resolve(now);
  return event<Sample>(what, (done) => {
    if (cell.onMeasurement) {
      cell.onMeasurement((m) => {
        const s = copy(m);
        if (accept(s)) done(s);
      });
      return;
    }
    const poll = () => {
      const s = copy(cell.measurement());
      if (accept(s)) done(s);
      else setTimeout(poll, 1);
    };
    poll();
  });
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return d;
};

const atRest = (s: Sample) => s.velocities.every((v) => Math.abs(v) < REST_RAD_S);

/** A rest-to-rest trajectory from the arm's present position, joint 1 turned by `deltaRad`. */
function turnJoint1(cell: RobotCell, deltaRad: number, velocityScale = 1): JointTrajectory {
  const from = Array.from(cell.measurement().positions);
  const to = [...from];
  to[0] = (to[0] ?? 0) + deltaRad;
  return timeParameterize([from, to], robot.kinematics, { velocityScale }).trajectory;
}

/** Resolves once no client is connected to the simulated cell. */
async function noClients(sim: TestCell): Promise<void> {
  // The cell offers no disconnect event: its client count is read as sockets close.
  await event<void>("the rosbridge client to disconnect", (done) => {
    const check = () => (sim.clientCount === 0 ? done() : setTimeout(check, 5));
    check();
  });
}

/**
 * How the cell refused `trajectory`: the message of the {@link CellError} `execute` threw, or
 * the reason its execution ended `aborted` — never a success.
 */
async function refusal(cell: RobotCell, trajectory: JointTrajectory): Promise<string> {
  let execution: Execution;
  try {
    execution = cell.execute(trajectory);
  } catch (err) {
    assert.ok(err instanceof CellError, `a CellError, got ${String(err)}`);
    return err.message;
  }
  const outcome: ExecutionOutcome = await within(execution.done, "the execution to end");
  assert.equal(outcome.status, "aborted", "a bad goal must not succeed");
  return outcome.status === "aborted" ? outcome.reason : "";
}

for (const [name, impl] of Object.entries(implementations)) {
  describe(`RobotCell contract: ${name}`, { timeout: 120_000 }, () => {
    let open: OpenCell;
    let cell: RobotCell;

    before(async () => {
      open = await impl.open();
      cell = open.cell;
    });
    after(async () => {
      await cell.close();
      await open.teardown();
    });

    it("comes up ready, at home, with the robot's joints", () => {
      assert.equal(cell.kind, impl.kind);
      assert.deepEqual(cell.jointNames, robot.kinematics.jointNames);
      assert.ok(
        cell.linkStatus() === LinkStatus.Connected || cell.linkStatus() === LinkStatus.Simulated,
        `ready, not ${cell.linkStatus()}`,
      );
      const m = copy(cell.measurement());
      assert.equal(m.positions.length, robot.kinematics.jointNames.length);
      assert.equal(m.velocities.length, robot.kinematics.jointNames.length);
      assert.ok(maxDiff(m.positions, robot.home) < AT_RAD, `at home: ${m.positions}`);
      assert.ok(Number.isFinite(m.gripper) && m.gripper >= 0, `gripper ${m.gripper} m`);
      assert.equal(cell.isJogging(), false);
    });

    it("delivers a stream of fresh joint measurements", async () => {
      let last = copy(cell.measurement()).stampMs;
      for (let i = 0; i < 5; i++) {
        const s = await measured(
          cell,
          `measurement ${i + 1} after ${last}`,
          (x) => x.stampMs > last,
        );
        assert.ok(s.positions.every(Number.isFinite) && s.velocities.every(Number.isFinite));
        last = s.stampMs;
      }
    });

    it("executes a small trajectory to its end", async () => {
      const trajectory = turnJoint1(cell, 0.1);
      const end = trajectory.points.at(-1)!.positions;
      const execution = cell.execute(trajectory);
      assert.deepEqual(await within(execution.done, "the execution to end"), {
        status: "succeeded",
      });
      assert.equal(execution.progress(), 1);
      const s = copy(cell.measurement());
      assert.ok(maxDiff(s.positions, end) < AT_RAD, `at the end: ${s.positions} vs ${end}`);
    });

    it("stop halts a running trajectory short of its goal, and the next one runs", async () => {
      const start = Array.from(cell.measurement().positions);
      const trajectory = turnJoint1(cell, -1.2, 0.25);
      const goal = trajectory.points.at(-1)!.positions;
      const execution = cell.execute(trajectory);
      await measured(cell, "the arm to start moving", (s) => maxDiff(s.positions, start) > 0.02);
      cell.stop("contract stop");
      assert.deepEqual(await within(execution.done, "the execution to end"), {
        status: "aborted",
        reason: "contract stop",
      });
      const rest = await measured(cell, "the arm to come to rest", atRest);
      assert.ok(
        maxDiff(rest.positions, goal) > 0.1,
        `stopped short of the goal: ${rest.positions}`,
      );

      const back = cell.execute(turnJoint1(cell, start[0]! - rest.positions[0]!));
      assert.deepEqual(await within(back.done, "the way back to end"), { status: "succeeded" });
      assert.ok(maxDiff(copy(cell.measurement()).positions, start) < AT_RAD);
    });

    it("refuses a bad goal with a clear error and does not move", async () => {
      const before = copy(cell.measurement()).positions;
      const good = turnJoint1(cell, 0.1);

      const strange = { ...good, jointNames: ["elbow", ...good.jointNames.slice(1)] };
      assert.match(await refusal(cell, strange), /joint/i);

      const far = turnJoint1(cell, 0.1);
      const shifted: JointTrajectory = {
        ...far,
        points: far.points.map((p) => ({
          ...p,
          positions: p.positions.map((q, i) => (i === 0 ? q + 0.5 : q)),
        })),
      };
      assert.match(await refusal(cell, shifted), /away from the arm/);

      assert.match(await refusal(cell, { ...good, points: [], duration: 0 }), /no points|empty/i);

      const after = await measured(cell, "a measurement at rest", atRest);
      assert.ok(maxDiff(after.positions, before) < AT_RAD, "the arm stayed where it was");
      // The cell still takes a good goal.
      assert.deepEqual(
        await within(cell.execute(turnJoint1(cell, 0.05)).done, "a good goal to end"),
        { status: "succeeded" },
      );
    });

    it("close ends a running execution and refuses further commands", async () => {
      const execution = cell.execute(turnJoint1(cell, 0.8, 0.25));
      await cell.close();
      const outcome = await within(execution.done, "the execution to end");
      assert.equal(outcome.status, "aborted");
      assert.throws(() => cell.execute(turnJoint1(cell, 0.1)), CellError);
      assert.throws(() => cell.jog(new Array(cell.jointNames.length).fill(0.1), 100), CellError);
      await cell.close(); // a second close is harmless
      await open.released?.();
    });
  });
}
