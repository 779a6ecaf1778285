/**
 * The headset protocol as a client that shares no code with the server sees it: Colyseus
 * 0.17 (`@colyseus/sdk` 0.17, the protocol of the released Unity SDK 0.17.2) over a real
 * socket, decoding the state from the handshake's reflection only — no schema class is
 * passed to `join`, just as the Unity SDK builds its types from the reflection and its
 * generated classes. Covers both rooms, goal and plan float32 arrays, a late join after a
 * plan exists, reconnection, and a refused join for each reason.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, type Room } from "@colyseus/sdk";
import { ErrorCode } from "@colyseus/shared-types";
import {
  ReplyQueue,
  request,
  startTestServer,
  type TestServer,
  waitForState,
} from "../support/server.ts";

/** What a reflection-decoded twin state looks like to code that has no schema classes. */
interface Reflected {
  robot: { joints: { name: string; position: number }[]; link: string; tcp: unknown };
  goal: { positions: number[]; valid: boolean; reason: string };
  plans: Map<string, { status: string; preview: number[]; previewTcp: number[] }>;
  operators: Map<string, { role: string; connected: boolean }>;
  objects: Map<string, { shape: string }>;
}

let counter = 0;

/** Joins by reflection: no root schema class, as a client of another language does. */
async function joinReflected(server: TestServer, role: "operator" | "observer", roomId?: string) {
  const client = new Client(server.url);
  client.auth.token = await server.token(role, `${role}-${++counter}`);
  const room = (
    roomId ? await client.joinById(roomId) : await client.joinOrCreate("digital_twin")
  ) as Room<unknown, Reflected>;
  const replies = new ReplyQueue(room as Room);
  await waitForState(room, (s) => s.robot?.joints?.length === 7, 10_000);
  return { client, room, replies };
}

/** The code of a refused matchmaking or join, whatever the SDK wraps it in. */
async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; message?: string };
    return { code: e.code ?? -1, message: e.message ?? String(err) };
  }
  assert.fail("the join was accepted");
}

describe("headset protocol (Colyseus 0.17 client, reflection decoding)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ MAX_CLIENTS: "3" });
  });
  after(async () => {
    await server.close();
  });

  it("decodes the twin state, a goal's and a plan's float32 arrays, and a late join", async () => {
    const op = await joinReflected(server, "operator");
    const s = op.room.state;
    assert.deepEqual(
      s.robot.joints.map((j) => j.name),
      [1, 2, 3, 4, 5, 6, 7].map((i) => `panda_joint${i}`),
    );
    assert.ok(s.objects.get("table"), "scene objects decoded");
    assert.equal(s.operators.get(op.room.sessionId)?.role, "operator");

    // A goal: its 7 IK positions arrive as a float32 array.
    const down = { x: 1, y: 0, z: 0, w: 0 };
    const goalReply = await request(
      op,
      "goal",
      {
        goal: { kind: "pose", pose: { position: { x: 0.45, y: 0.1, z: 1.2 }, orientation: down } },
      },
      15_000,
    );
    assert.equal(goalReply.kind, "ack", JSON.stringify(goalReply.body));
    await waitForState(op.room, (st) => st.goal.positions.length === 7);
    for (const p of op.room.state.goal.positions) assert.ok(Number.isFinite(p));

    // A plan: preview (7 per waypoint) and previewTcp (3 per waypoint) arrays.
    const planned = await request(op, "plan", { goal: { kind: "named", name: "left" } }, 15_000);
    assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
    const planId = planned.body.id!;
    await waitForState(op.room, (st) => st.plans.get(planId)?.status === "validated", 15_000);
    const plan = op.room.state.plans.get(planId)!;
    assert.ok(plan.preview.length >= 14 && plan.preview.length % 7 === 0);
    assert.equal(plan.previewTcp.length, (plan.preview.length / 7) * 3);

    // A late joiner gets the plan and the goal whole in its first state.
    const late = await joinReflected(server, "observer", op.room.roomId);
    const latePlan = late.room.state.plans.get(planId);
    assert.ok(latePlan, "the late joiner sees the plan");
    assert.deepEqual([...latePlan.preview], [...plan.preview]);
    assert.deepEqual([...latePlan.previewTcp], [...plan.previewTcp]);
    assert.deepEqual([...late.room.state.goal.positions], [...op.room.state.goal.positions]);

    // Patches after the join keep decoding: the plan moves on through its lifecycle.
    await request(op, "approve", { planId }, 15_000);
    await waitForState(
      late.room,
      (st) => ["executing", "succeeded"].includes(st.plans.get(planId)?.status ?? ""),
      15_000,
    );
    // Each request was answered once, and nothing was refused on the side.
    op.replies.expectNoUnexpected();
    late.replies.expectNoUnexpected();
    await Promise.all([late.room.leave(), op.room.leave()]);
  });

  it("reconnects to the same seat after the socket drops", async () => {
    // Only an operator creates a twin room; the observer joins the one it opened.
    const host = await joinReflected(server, "operator");
    const obs = await joinReflected(server, "observer", host.room.roomId);
    const { sessionId, roomId, reconnectionToken } = obs.room;
    // Any close code but 4000 (consented leave) keeps the seat; 3001 stops the SDK's own retry.
    (obs.room.connection as unknown as { close(code?: number): void }).close(3001);
    // Reconnect once the server has seen the drop (and so holds the seat for a reconnection).
    await waitForState(host.room, (st) => st.operators?.get(sessionId)?.connected === false);
    const room = (await new Client(server.url).reconnect(reconnectionToken)) as Room<
      unknown,
      Reflected
    >;
    assert.equal(room.sessionId, sessionId);
    assert.equal(room.roomId, roomId);
    await waitForState(room, (st) => st.operators?.get(sessionId)?.connected === true);
    assert.equal(room.state.robot.joints.length, 7);
    await room.leave();
    await host.room.leave();
  });

  it("decodes the metaverse room", async () => {
    const client = new Client(server.url);
    client.auth.token = await server.token("observer", "mv");
    const room = (await client.joinOrCreate("metaverse")) as Room<
      unknown,
      { participants: Map<string, { stream: { rendition: string; bands: number[] } }> }
    >;
    const st = await waitForState(
      room,
      (s) => (s.participants?.get(room.sessionId)?.stream.rendition ?? "") !== "",
      15_000,
    );
    assert.ok(st.participants.get(room.sessionId)!.stream.bands.length > 0);
    await room.leave();
  });

  it("refuses a join without a token, with a bad token, to an unknown room and to a full room", async () => {
    const anonymous = new Client(server.url);
    // The room's onAuth answers HTTP 401 with the reason; the SDK reports it as the code.
    const noToken = await refusal(anonymous.joinOrCreate("digital_twin"));
    assert.equal(noToken.code, 401, noToken.message);
    assert.match(noToken.message, /token/);

    const forged = new Client(server.url);
    forged.auth.token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad";
    const badToken = await refusal(forged.joinOrCreate("digital_twin"));
    assert.equal(badToken.code, 401, badToken.message);

    const lost = new Client(server.url);
    lost.auth.token = await server.token("observer");
    const unknown = await refusal(lost.joinById("no-such-room"));
    assert.equal(unknown.code, ErrorCode.MATCHMAKE_INVALID_ROOM_ID, unknown.message);

    const unknownType = await refusal(lost.joinOrCreate("no_such_room_type"));
    assert.equal(unknownType.code, ErrorCode.MATCHMAKE_NO_HANDLER, unknownType.message);

    // MAX_CLIENTS=3: the fourth headset is refused by id (the room is locked when full).
    const first = await joinReflected(server, "operator");
    const others = [
      await joinReflected(server, "observer", first.room.roomId),
      await joinReflected(server, "observer", first.room.roomId),
    ];
    const extra = new Client(server.url);
    extra.auth.token = await server.token("observer", "extra");
    const full = await refusal(extra.joinById(first.room.roomId));
    assert.ok(
      [ErrorCode.MATCHMAKE_INVALID_ROOM_ID, ErrorCode.MATCHMAKE_INVALID_CRITERIA].includes(
        full.code as 522,
      ),
      `${full.code} ${full.message}`,
    );
    await Promise.all([first, ...others].map((c) => c.room.leave()));
  });
});
