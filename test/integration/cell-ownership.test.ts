/**
 * One arm, one owner: two twin rooms linked to one simulated cell. The first room owns the
 * arm; the second sees it move but its commands that would move it (approve, jog, reset) are
 * refused with the owner named, and its STOP still stops the arm. When the owner goes away
 * the other room takes the arm over. Once in one process (leases in memory), and once across
 * two server processes sharing a real redis-server (leases in the Colyseus Redis presence),
 * where a SIGKILLed owner's lease expires.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { Client, type Room } from "@colyseus/sdk";
import { TokenService } from "../../server/auth/tokens.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { rosLinkEnv, startTestCell, type TestCell } from "../support/cell.ts";
import {
  freePort,
  type RedisHandle,
  type ServerHandle,
  startRedis,
  startServerProcess,
} from "../support/processes.ts";
import {
  leaveWithin,
  ReplyQueue,
  request,
  startTestServer,
  type TestServer,
  type TwinClient,
  waitForState,
} from "../support/server.ts";
import { skipWithoutRedis } from "../support/tools.ts";

/** Creates a new twin room (never joins an existing one) with `token`. */
async function createRoom(base: string, token: string): Promise<TwinClient> {
  const client = new Client(base);
  client.auth.token = token;
  const room = (await client.create("digital_twin", {}, TwinState)) as Room<unknown, TwinState>;
  const replies = new ReplyQueue(room);
  await waitForState(room, (s) => s.robot.joints.length > 0, 10_000);
  return { client, room, replies };
}

function notice(op: TwinClient, re: RegExp, timeoutMs = 15_000) {
  return op.replies.next((r) => r.kind === "notice" && re.test(r.body.message ?? ""), timeoutMs);
}

async function plan(op: TwinClient, name: string, velocityScale?: number): Promise<string> {
  const planned = await request(op, "plan", {
    goal: { kind: "named", name },
    ...(velocityScale !== undefined && { velocityScale }),
  });
  assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
  return planned.body.id!;
}

describe("one arm, one owner (two rooms, one process)", { timeout: 120_000 }, () => {
  let s: TestServer;
  let a: TwinClient;
  let b: TwinClient;

  before(async () => {
    // ROBOT_LINK=sim: every room of this process links to the same simulated cell.
    // A lease far longer than any stall of a loaded test machine (a stalled owner would
    // rightly lose the arm); the owner's leaving releases it at once anyway.
    s = await startTestServer({ ROBOT_LINK: "sim", AGENTS: "false", CELL_LEASE_TTL_MS: "10000" });
    a = await createRoom(s.url, await s.token("operator", "ann"));
    b = await createRoom(s.url, await s.token("operator", "bob"));
    assert.notEqual(a.room.roomId, b.room.roomId);
    await waitForState(a.room, (st) => st.robot.link === "connected", 10_000);
    await waitForState(b.room, (st) => st.robot.link === "connected", 10_000);
  });
  // Every command is awaited: a second answer or an error nobody asked for is a bug
  // (ownership notices are expected and not checked).
  afterEach(() => {
    a.replies.expectNoUnexpected();
    b.replies.expectNoUnexpected();
  });
  after(async () => {
    await Promise.allSettled([a, b].map((c) => leaveWithin(c.room, 2000)));
    await s.close();
  });

  it("the second room is read-only: approve, jog and reset are refused naming the owner", async () => {
    const owner = a.room.roomId;
    const runA = await plan(a, "left", 0.2);
    assert.equal((await request(a, "approve", { planId: runA })).kind, "ack");
    await waitForState(a.room, (st) => st.robot.mode === "executing");
    // B sees the arm move (it mirrors the same cell)…
    await waitForState(b.room, (st) => Math.abs(st.robot.joints[0]!.position) > 0.02, 10_000);
    // …but may not command it: planning is harmless, approving would preempt A's motion.
    const mine = await plan(b, "ready");
    const approve = await request(b, "approve", { planId: mine });
    assert.equal(approve.kind, "error");
    assert.equal(approve.body.code, "conflict");
    assert.match(approve.body.message!, new RegExp(`owned by room ${owner}.*read-only`));
    const jog = await request(b, "jog", { mode: "joint", joint: 0, velocity: 0.1 });
    assert.equal(jog.body.code, "conflict");
    assert.match(jog.body.message!, new RegExp(`room ${owner}`));
    assert.equal((await request(b, "reset")).body.code, "conflict");
    // A's plan was not preempted: it runs to its end.
    const ended = await waitForState(
      a.room,
      (st) => ["succeeded", "aborted", "rejected"].includes(st.plans.get(runA)?.status ?? ""),
      30_000,
    );
    assert.equal(ended.plans.get(runA)?.status, "succeeded", ended.plans.get(runA)?.reason);
  });

  it("a STOP from the read-only room still stops the arm", async () => {
    const runA = await plan(a, "right", 0.2);
    assert.equal((await request(a, "approve", { planId: runA })).kind, "ack");
    await waitForState(a.room, (st) => st.robot.mode === "executing" && st.robot.progress > 0.1);
    assert.equal((await request(b, "stop")).kind, "ack");
    const s2 = await waitForState(a.room, (st) => st.plans.get(runA)?.status === "aborted", 10_000);
    assert.ok(s2.plans.get(runA)!.reason.length > 0);
  });

  it("when the owner leaves, the other room takes the arm over", async () => {
    const taken = notice(b, /this room now commands the arm/, 20_000);
    await leaveWithin(a.room, 2000);
    await taken;
    const jog = await request(b, "jog", { mode: "joint", joint: 0, velocity: 0.1, deadmanMs: 100 });
    assert.equal(jog.kind, "ack", JSON.stringify(jog.body));
  });
});

const skip = skipWithoutRedis();

describe(
  "one arm, one owner across two processes (Redis presence)",
  { skip, timeout: 180_000 },
  () => {
    const secret = "cell-ownership-test-secret-0123456789abcdef";
    const tokens = new TokenService(secret);
    const token = (name: string) => tokens.issue({ userId: name, name, role: "operator" }, 3600);
    let redis: RedisHandle;
    let cell: TestCell;
    let pa: ServerHandle | undefined;
    let pb: ServerHandle | undefined;
    const rooms: TwinClient[] = [];

    const startServer = async () => {
      const port = await freePort();
      return startServerProcess({
        PORT: String(port),
        REDIS_URL: redis.url,
        AUTH_SECRET: secret,
        ...rosLinkEnv(cell.url),
        // Long enough that a loaded machine's stalls never let it lapse; short enough that a
        // SIGKILLed owner's lease expires within the test.
        CELL_LEASE_TTL_MS: "6000",
        AGENTS: "false",
        RECORD: "false",
      });
    };

    before(async () => {
      redis = await startRedis();
      cell = await startTestCell();
    });
    after(async () => {
      await Promise.allSettled(rooms.map((r) => leaveWithin(r.room, 1000)));
      await Promise.allSettled([pa?.stop(), pb?.stop()]);
      await cell?.close();
      await redis?.stop();
    });

    it("a room on the other process sees the arm read-only, then takes over from a dead owner", async () => {
      pa = await startServer();
      const a = await createRoom(pa.url, await token("ann"));
      rooms.push(a);
      await waitForState(a.room, (st) => st.robot.link === "connected", 15_000);
      pb = await startServer();
      // B has fewer rooms, so the matchmaker puts the new room there.
      const b = await createRoom(pb.url, await token("bob"));
      rooms.push(b);
      await waitForState(b.room, (st) => st.robot.link === "connected", 15_000);
      const hosted = await fetch(`${pb.url}/api/rooms/${b.room.roomId}/robot`, {
        headers: { authorization: `Bearer ${await token("bob")}` },
      });
      assert.equal(hosted.status, 200, "room B is hosted by process B");

      const runA = await plan(a, "left", 0.2);
      assert.equal((await request(a, "approve", { planId: runA })).kind, "ack");
      await waitForState(a.room, (st) => st.robot.mode === "executing");
      const jog = await request(b, "jog", { mode: "joint", joint: 0, velocity: 0.1 });
      assert.equal(jog.body.code, "conflict");
      assert.match(
        jog.body.message!,
        new RegExp(`owned by room ${a.room.roomId} on server \\S+:${pa.child.pid}`),
      );
      const mine = await plan(b, "ready");
      assert.equal((await request(b, "approve", { planId: mine })).body.code, "conflict");
      await waitForState(a.room, (st) => st.plans.get(runA)?.status === "succeeded", 30_000);

      // The owner's process dies without releasing anything: its lease expires, B takes over.
      const taken = notice(b, /this room now commands the arm/, 20_000);
      await pa.stop("SIGKILL");
      await taken;
      const ok = await request(b, "jog", {
        mode: "joint",
        joint: 0,
        velocity: 0.1,
        deadmanMs: 100,
      });
      assert.equal(ok.kind, "ack", JSON.stringify(ok.body));
    });
  },
);
