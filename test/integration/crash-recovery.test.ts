/**
 * A crash keeps the audit trail and stops the arm — real server processes (`node --import
 * tsx server/main.ts`) linked over rosbridge to a simulated cell in this process:
 *  1. SIGKILL while a plan executes: the audit log already has the approval (fsynced when
 *     it happened); the recording's `.part` and journal hold joint samples up to the last
 *     flush; a second start recovers them into a valid `.mcap` with every sample the cell
 *     sent (100/s) up to about the last second, and audits the recovery.
 *  2. An uncaught exception (injected by test/support/fault-injection.ts on SIGUSR2): the
 *     cell receives the goal cancel, the audit log has the fatal error and the stop, and the
 *     process exits 1.
 */
import { leaveWithin, waitForState } from "../support/server.ts";
import assert from "node:assert/strict";
import { mkdtemp, open, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, type Room } from "@colyseus/sdk";
import { McapIndexedReader } from "@mcap/core";
import { pino } from "pino";
import { type SimCell, startSimCell } from "../../ros/sim-cell/index.ts";
import { TokenService } from "../../server/auth/tokens.ts";
import { FileHandleReadable } from "../../server/store/file-io.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { type ServerHandle, startScriptProcess } from "../support/processes.ts";
import { until } from "../support/until.ts";

const SECRET = "crash-recovery-test-secret-0123456789abcdef";

function startServer(dataDir: string, cellUrl: string): Promise<ServerHandle> {
  return startScriptProcess(
    "server/main.ts",
    {
      AUTH_SECRET: SECRET,
      ROBOT_LINK: "ros",
      ROSBRIDGE_URL: cellUrl,
      PLANNER: "twin",
      DATA_DIR: dataDir,
      AGENTS: "false",
      VIDEO: "false",
      RECORDING_FLUSH_MS: "200",
      // rosbridge drops what exceeds the subscription's queue; the simulated cell sends
      // in bursts on a loaded machine, so give the queue room to deliver every sample.
      JOINT_STATES_QUEUE_LENGTH: "100",
    },
    { execArgv: ["--import", "./test/support/fault-injection.ts"], timeoutMs: 180_000 },
  );
}

async function joinOperator(port: number): Promise<Room<unknown, TwinState>> {
  const client = new Client(`http://127.0.0.1:${port}`);
  client.auth.token = await new TokenService(SECRET).issue(
    { userId: "ann", name: "ann", role: "operator" },
    600,
  );
  const room = await client.create("digital_twin", {}, TwinState);
  // The server is killed on purpose: no reconnection attempts outliving the test.
  room.reconnection.enabled = false;
  room.onMessage("notice", () => undefined);
  return room;
}

function request(room: Room, type: string, body: object): Promise<{ id?: string; code?: string }> {
  const requestId = `q${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${type}: no reply`)), 30_000);
    const done = (r: { requestId?: string; id?: string; code?: string }) => {
      if (r.requestId !== requestId) return;
      clearTimeout(timer);
      resolve(r);
    };
    room.onMessage("ack", done);
    room.onMessage("error", done);
    room.send(type, { ...body, requestId });
  });
}

/** Starts a plan to `target` and waits until it executes; returns the plan id. */
async function executePlan(room: Room<unknown, TwinState>, target: string): Promise<string> {
  await waitForState(room, (s) => s.robot?.link === "connected", 20_000);
  const plan = await request(room, "plan", { goal: { kind: "named", name: target } });
  assert.ok(plan.id, JSON.stringify(plan));
  const ok = await request(room, "approve", { planId: plan.id });
  assert.equal(ok.code, undefined, JSON.stringify(ok));
  await waitForState(room, (s) => s.robot.mode === "executing", 10_000);
  return plan.id;
}

/** Stamp (ms) of the newest joint sample in the journals under `dir`, or 0. */
async function journalNewest(dir: string): Promise<number> {
  let newest = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith(".journal")) continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      if (!line.includes('"t":"/joint_states"')) continue;
      try {
        const d = JSON.parse((JSON.parse(line) as { d: string }).d) as {
          timestamp: { sec: number; nsec: number };
        };
        newest = Math.max(newest, d.timestamp.sec * 1000 + d.timestamp.nsec / 1e6);
      } catch {
        // A line being written.
      }
    }
  }
  return newest;
}

async function auditLines(dataDir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dataDir, "audit.jsonl"), "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("a crash keeps the audit trail and stops the arm", { timeout: 420_000 }, () => {
  let cell: SimCell;
  let dataDir: string;
  const cellStops: string[] = [];
  const servers: ServerHandle[] = [];

  before(async () => {
    const robot = await loadRobotDescription({
      robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
    });
    cell = await startSimCell({ robot, rosVersion: 2, logger: pino({ level: "silent" }) });
    const stop = cell.arm.stop.bind(cell.arm);
    cell.arm.stop = (reason: string) => {
      cellStops.push(reason);
      stop(reason);
    };
    dataDir = await mkdtemp(join(tmpdir(), "agenttwin-crash-"));
  });

  after(async () => {
    await Promise.allSettled(servers.map((s) => s.stop("SIGKILL")));
    await cell?.close();
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  });

  it("keeps the approval and the joint samples through SIGKILL; the next start recovers the .part", async () => {
    const first = await startServer(dataDir, cell.url);
    servers.push(first);
    const room = await joinOperator(first.port);
    const planId = await executePlan(room, "left");
    await new Promise((r) => setTimeout(r, 1500));
    // Kill once the journal on disk holds a sample taken after `mark` (the recorder flushes
    // every RECORDING_FLUSH_MS; waiting for the event keeps this test free of timing).
    const mark = Date.now();
    const recDir = join(dataDir, "recordings");
    await until("journal flushed", async () => (await journalNewest(recDir)) >= mark, 30_000);
    await first.stop("SIGKILL");

    const audit = await auditLines(dataDir);
    assert.ok(
      audit.some((a) => a.kind === "approve" && a.planId === planId && a.user === "ann"),
      JSON.stringify(audit),
    );
    const left = await readdir(recDir);
    assert.ok(
      left.some((n) => n.endsWith(".mcap.part")),
      left.join(","),
    );

    const second = await startServer(dataDir, cell.url);
    servers.push(second);
    const names = await readdir(recDir);
    assert.ok(!names.some((n) => n.endsWith(".part") || n.endsWith(".journal")), names.join(","));
    const recovered = names.filter((n) => n.endsWith(".mcap"));
    assert.equal(recovered.length, 1, names.join(","));

    const handle = await open(join(recDir, recovered[0]!), "r");
    const joints: { t: number; q: number[] }[] = [];
    const commands: string[] = [];
    try {
      const reader = await McapIndexedReader.Initialize({
        readable: new FileHandleReadable(handle),
      });
      for await (const m of reader.readMessages({ topics: ["/joint_states", "/commands"] })) {
        const body = JSON.parse(new TextDecoder().decode(m.data)) as {
          timestamp: { sec: number; nsec: number };
          type?: string;
          position?: number[];
        };
        if (body.type !== undefined) commands.push(body.type);
        else
          joints.push({
            t: body.timestamp.sec * 1000 + body.timestamp.nsec / 1e6,
            q: body.position ?? [],
          });
      }
    } finally {
      await handle.close();
    }
    assert.ok(commands.includes("approve"), commands.join(","));
    const stamps = joints.map((j) => j.t);
    const last = Math.max(...stamps);
    // Everything flushed before the kill is in the recovered file (an arm that came to rest
    // still has a 1 Hz keep-alive sample).
    assert.ok(last >= mark, `last sample ${mark - last} ms before the flush awaited`);
    // Joint states are recorded when they change: while the arm moved, every sample the
    // cell sent (100/s), so a whole second in the middle of the motion holds ~100 (fewer
    // only where a loaded cell sent late or repeated a position; the unit test checks that
    // every change is written).
    const moved = joints
      .filter((j, i) => i > 0 && j.q.some((v, k) => Math.abs(v - joints[i - 1]!.q[k]!) > 1e-6))
      .map((j) => j.t);
    const [firstMove, lastMove] = [moved[0] ?? 0, moved.at(-1) ?? 0];
    assert.ok(lastMove - firstMove >= 1000, `moved for ${lastMove - firstMove} ms`);
    const mid = (firstMove + lastMove) / 2 + 500;
    const inSecond = stamps.filter((t) => t > mid - 1000 && t <= mid).length;
    assert.ok(inSecond >= 75, `${inSecond} samples in one second of motion`);
    const after2 = await auditLines(dataDir);
    assert.ok(after2.some((a) => String(a.message ?? "").includes("left by a crash")));
    // The first server is dead: the SDK's leave would wait forever for its answer.
    await leaveWithin(room, 500);

    // 2. A fatal error on the second server: the cell gets the cancel, the audit the fault.
    const room2 = await joinOperator(second.port);
    await executePlan(room2, "right");
    cellStops.length = 0;
    // The fatal handler exits on its own; SIGKILL (exit code null) only if it hangs.
    const code = await second.stop("SIGUSR2", 60_000);
    assert.equal(code, 1);
    assert.ok(cellStops.includes("canceled"), `cell stops: ${cellStops.join(",")}`);
    const final = await auditLines(dataDir);
    assert.ok(
      final.some((a) => a.kind === "fatal"),
      JSON.stringify(final.slice(-3)),
    );
    assert.ok(
      final.some((a) => a.kind === "stop" && String(a.message).includes("server fault")),
      JSON.stringify(final.slice(-3)),
    );
  });
});
