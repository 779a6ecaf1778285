/**
 * The HTTP side of the server on the same port as the rooms: health, readiness,
 * Prometheus metrics, the REST API and its errors (read with a token; what happens
 * without one is in security.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  request,
  startTestServer,
  type TestServer,
  type TwinClient,
  waitForState,
} from "../support/server.ts";

describe("http api", () => {
  let server: TestServer;
  let op: TwinClient;
  before(async () => {
    server = await startTestServer();
    op = await server.join("operator", "rest-user");
  });
  after(async () => {
    await server.close();
  });

  /** A read with an operator token (every /api and /media read needs one; see security.test.ts). */
  const get = async (path: string) => {
    const res = await server.get(path);
    return {
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      text: await res.text(),
    };
  };

  it("answers health and readiness", async () => {
    assert.deepEqual(JSON.parse((await get("/healthz")).text), { status: "ok" });
    const ready = await get("/readyz");
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.text).status, "ready");
  });

  it("exposes Prometheus metrics for rooms, clients, ticks, patch bytes and rejections", async () => {
    op.room.send("jog", { mode: "joint", joint: 0, velocity: Number.NaN });
    await op.replies.next((r) => r.kind === "error");
    // A state change, so that at least one patch goes out.
    op.room.send("pose", {
      head: { position: { x: 0, y: 0.5, z: 1.6 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    });
    await waitForState(op.room, (s) => s.operators.get(op.room.sessionId)?.head.position.y === 0.5);
    const m = await get("/metrics");
    assert.equal(m.status, 200);
    assert.match(m.type, /text\/plain/);
    assert.match(m.text, /agenttwin_rooms\{room_type="digital_twin"\} 1/);
    assert.match(m.text, /agenttwin_clients\{room_type="digital_twin",role="operator"\} 1/);
    assert.match(m.text, /agenttwin_room_tick_seconds_count\{room_type="digital_twin"\} [1-9]/);
    assert.match(m.text, /agenttwin_patch_bytes_total\{room_type="digital_twin"\} [1-9]/);
    assert.match(
      m.text,
      /agenttwin_messages_rejected_total\{room_type="digital_twin",code="invalid_message"\} [1-9]/,
    );
    assert.match(m.text, /process_cpu_seconds_total/);
  });

  it("describes the robot and serves its URDF", async () => {
    const robot = JSON.parse((await get("/api/robot")).text);
    assert.equal(robot.joints.length, 7);
    assert.equal(robot.joints[0].name, "panda_joint1");
    assert.ok(robot.namedPoses.ready);
    const urdf = await get("/api/robot/urdf");
    assert.match(urdf.type, /xml/);
    assert.match(urdf.text, /<robot name="panda">/);
  });

  it("lists rooms and gives a room's robot snapshot and plans", async () => {
    const rooms = JSON.parse((await get("/api/rooms")).text) as {
      roomId: string;
      clients: number;
      name: string;
    }[];
    const mine = rooms.find((r) => r.roomId === op.room.roomId);
    assert.ok(mine);
    assert.equal(mine.name, "digital_twin");
    assert.equal(mine.clients, 1);

    const snap = JSON.parse((await get(`/api/rooms/${op.room.roomId}/robot`)).text);
    assert.equal(snap.positions.length, 7);
    assert.equal(snap.tcp.frame, "world");
    assert.equal(snap.cell, "sim-cell");

    const planned = await request(op, "plan", { goal: { kind: "named", name: "extended" } });
    assert.equal(planned.kind, "ack");
    await waitForState(op.room, (s) => s.plans.get(planned.body.id!)?.status === "validated");
    const plans = JSON.parse((await get(`/api/rooms/${op.room.roomId}/plans`)).text) as {
      id: string;
      status: string;
    }[];
    assert.deepEqual(
      plans.map((p) => [p.id, p.status]),
      [[planned.body.id, "validated"]],
    );
    const plan = JSON.parse(
      (await get(`/api/rooms/${op.room.roomId}/plans/${planned.body.id}`)).text,
    );
    assert.equal(plan.trajectory.jointNames.length, 7);
    assert.ok(plan.trajectory.points.length >= 2);
    assert.equal(plan.start.length, 7);
  });

  it("answers unknown rooms, plans and endpoints with JSON 404s", async () => {
    for (const path of [
      "/api/rooms/nope/robot",
      "/api/rooms/nope/plans",
      `/api/rooms/${op.room.roomId}/plans/plan-99`,
      "/api/nothing",
    ]) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.equal(JSON.parse(r.text).error.code, "not_found", path);
    }
  });

  it("issues development tokens only for valid requests", async () => {
    const post = (body: string) =>
      fetch(`${server.url}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const ok = await post(JSON.stringify({ name: "dev", role: "observer" }));
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { role: string }).role, "observer");
    for (const bad of [
      "{",
      JSON.stringify({ name: "dev", role: "admin" }),
      JSON.stringify({ name: "" }),
      "x".repeat(20_000),
    ]) {
      const r = await post(bad);
      assert.ok(r.status === 400 || r.status === 413, `${r.status} for ${bad.slice(0, 20)}`);
      assert.ok(((await r.json()) as { error: { code: string } }).error.code);
    }
  });

  it("records the session to MCAP and lists it for download once the room closes", async () => {
    await op.room.leave();
    let list: { name: string; messageCount?: number; bytes: number }[] = [];
    for (let i = 0; i < 50 && list.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = JSON.parse((await get("/api/recordings")).text) as typeof list;
    }
    assert.equal(list.length, 1, "one recording");
    const rec = list[0]!;
    assert.match(rec.name, /^twin-.*\.mcap$/);
    // Joint states are written on change plus one a second at rest, so a short session
    // with an arm at rest holds a handful: the first sample, keep-alives, the events.
    assert.ok((rec.messageCount ?? 0) >= 2, `messages: ${rec.messageCount}`);
    const res = await server.get(`/api/recordings/${rec.name}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(bytes.length, rec.bytes);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);
  });
});
