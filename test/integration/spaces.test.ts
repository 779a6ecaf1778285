/**
 * Spaces over real HTTP and the real Colyseus SDK: an operator opens a metaverse room on a
 * space (join option `space`), an RGB-D capture uploaded for the space name becomes its
 * asset, everyone leaves and the room is disposed, and rejoining the name brings the scene
 * back (asset, status, version). The REST face: list, read, create, delete (with its media,
 * the open room going back to idle), bad names 400, observers 403 on writes, unknown 404.
 * Then two server processes sharing a real redis-server see the same spaces (skipped where
 * redis-server is not installed).
 */
import assert from "node:assert/strict";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { matchMaker } from "@colyseus/core";
import { Client, type Room, type SeatReservation } from "@colyseus/sdk";
import {
  orbitPoses,
  renderRgbd,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";
import {
  encodeRgbdUpload,
  RGBD_CONTENT_TYPE,
} from "../../server/media/reconstruction/upload-format.ts";
import { SpaceBody, SpaceListBody } from "../../server/http/openapi.ts";
import { makeClips, skipWithoutFfmpeg } from "../fixtures/video/clips.ts";
import type { Role } from "../../server/auth/roles.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import {
  devToken,
  freePort,
  type RedisHandle,
  type ServerHandle,
  startRedis,
  startServerProcess,
} from "../support/processes.ts";
import { leaveWithin, startTestServer, type TestServer, waitForState } from "../support/server.ts";
import { skipWithoutRedis } from "../support/tools.ts";
import { until } from "../support/until.ts";

type MvRoom = Room<unknown, MetaverseState>;

/** A small RGB-D capture of a synthetic sphere (reconstructed on the CPU). */
function capture(): Uint8Array {
  const scene = SYNTHETIC_SCENES.sphere;
  const frames = orbitPoses(scene, 4, { elevationsDeg: [35] }).map((p) =>
    renderRgbd(scene, 160, 120, p),
  );
  return encodeRgbdUpload(frames);
}

describe("spaces: a scene that outlives its room", { timeout: 120_000 }, () => {
  let server: TestServer;
  const rooms: MvRoom[] = [];

  const enter = async (role: Role, name: string, options: Record<string, unknown>) => {
    const client = new Client(server.url);
    client.auth.token = await server.token(role, name);
    const room = await client.joinOrCreate("metaverse", options, MetaverseState);
    rooms.push(room);
    return room;
  };
  const json = async (res: Response) => ({
    status: res.status,
    body: (await res.json()) as {
      scene: { assetUrl: string };
      error: { code: string };
    },
  });
  const disposed = (roomId: string) =>
    new Promise<void>((resolve) => {
      const handler = matchMaker.getHandler("metaverse");
      const onDispose = (room: { roomId: string }) => {
        if (room.roomId !== roomId) return;
        handler.off("dispose", onDispose);
        resolve();
      };
      handler.on("dispose", onDispose);
    });

  let dataDir: string;
  let first: MvRoom;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "agenttwin-spaces-"));
    server = await startTestServer({
      DATA_DIR: dataDir,
      // A tiny ladder at test sizes (as in metaverse-media.test.ts).
      VIDEO_LADDER: "1080p:256x128:300k,4k:512x256:800k",
      VIDEO_SEGMENT_S: "1",
      VIDEO_PRESET: "ultrafast",
      ROBOT_LINK: "inprocess",
      AGENTS: "false",
      RECORD: "false",
    });
  });
  after(async () => {
    await Promise.allSettled(rooms.map((r) => leaveWithin(r, 1000)));
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  let firstRoomId = "";
  let version = 0;
  /** The scene's stream and renditions before everyone left ("" without ffmpeg). */
  let stream = { url: "", renditions: "" };

  it("an operator's room opens a new space; an upload for the space name becomes its asset", async () => {
    const room = await enter("operator", "op-1", { space: "lab-1" });
    firstRoomId = room.roomId;
    first = room;
    const created = await json(await server.get("/api/spaces/lab-1", {}, "observer"));
    assert.equal(created.status, 200);
    assert.equal(created.body.scene.assetUrl, "");
    SpaceBody.parse(created.body);

    const res = await server.get("/media/scenes?sceneId=lab-1", {
      method: "POST",
      headers: { "content-type": RGBD_CONTENT_TYPE },
      body: capture(),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const s = await waitForState(room, (st) => st.scene.assetUrl !== "", 60_000);
    assert.equal(s.scene.assetUrl, "/media/scenes/lab-1/v1.glb");
    version = s.scene.version;
    assert.ok(version > 0);
    await until("the space stores the asset", async () => {
      const got = await json(await server.get("/api/spaces/lab-1"));
      return got.body.scene.assetUrl === "/media/scenes/lab-1/v1.glb";
    });
  });

  it(
    "a clip uploaded for the space name becomes its stream",
    { skip: skipWithoutFfmpeg() },
    async () => {
      const clips = await makeClips(join(dataDir, "clips"));
      const res = await server.get("/media/video?room=lab-1", {
        method: "POST",
        headers: { "content-type": "video/mp4" },
        body: await readFile(clips.h264),
      });
      assert.equal(res.status, 202, await res.clone().text());
      const s = await waitForState(first, (st) => st.scene.streamUrl !== "", 90_000);
      stream = { url: s.scene.streamUrl, renditions: s.scene.renditions };
      version = s.scene.version;
      await until("the space stores the stream", async () => {
        const got = (await (await server.get("/api/spaces/lab-1")).json()) as {
          scene: { streamUrl: string; version: number };
        };
        return got.scene.streamUrl === stream.url && got.scene.version === version;
      });
    },
  );

  it("a second joiner of the same name joins the same room", async () => {
    const other = await enter("observer", "obs-1", { space: "lab-1" });
    assert.equal(other.roomId, firstRoomId);
  });

  it("a join without a space never lands in a room open on one, and finds the plain room", async () => {
    const plain = await enter("operator", "plain-1", {});
    assert.notEqual(plain.roomId, firstRoomId, "not the space's room");
    const again = await enter("observer", "plain-2", {});
    assert.equal(again.roomId, plain.roomId, "plain joins share the plain room");
    const listed = await matchMaker.query({ name: "metaverse", roomId: plain.roomId });
    assert.equal((listed[0]?.metadata as { space?: string } | undefined)?.space, "");
    for (const r of [plain, again]) rooms.splice(rooms.indexOf(r), 1);
    await Promise.all([plain.leave(true), again.leave(true)]);
  });

  it("after the last viewer left and the room is gone, rejoining the name restores the scene", async () => {
    const gone = disposed(firstRoomId);
    for (const r of rooms.splice(0)) await r.leave(true);
    await gone;
    assert.equal(server.app.metaverse.has(firstRoomId), false);

    // An observer may open an existing space (only creating one needs an operator).
    const room = await enter("observer", "obs-2", { space: "lab-1" });
    assert.notEqual(room.roomId, firstRoomId);
    const s = await waitForState(room, (st) => st.scene.assetUrl !== "", 5000);
    assert.equal(s.scene.assetUrl, "/media/scenes/lab-1/v1.glb");
    assert.equal(s.scene.status, "ready");
    assert.equal(s.scene.version, version);
    assert.equal(s.scene.streamUrl, stream.url);
    assert.equal(s.scene.renditions, stream.renditions);
    if (stream.url) {
      // The restored renditions play: the headset gets a playlist that the server serves.
      const me = await waitForState(
        room,
        (st) => (st.participants.get(room.sessionId)?.stream.playlistUrl ?? "") !== "",
        5000,
      );
      const playlist = me.participants.get(room.sessionId)!.stream.playlistUrl;
      assert.equal((await server.get(playlist, {}, "observer")).status, 200);
    }
    assert.equal((await server.get(s.scene.assetUrl, {}, "observer")).status, 200);
  });

  it("refuses a bad space name at join, and a new space to an observer", async () => {
    await assert.rejects(enter("operator", "op-1", { space: "no spaces!" }), /space name/);
    await assert.rejects(enter("observer", "obs-3", { space: "brand-new" }), /operator role/);
    assert.equal((await server.get("/api/spaces/brand-new")).status, 404);
  });

  it("lists spaces with a summary of their scene", async () => {
    const list = await json(await server.get("/api/spaces", {}, "observer"));
    assert.equal(list.status, 200);
    const parsed = SpaceListBody.parse(list.body);
    const lab = parsed.find((x) => x.name === "lab-1");
    assert.ok(lab);
    assert.equal(lab.scene.assetUrl, "/media/scenes/lab-1/v1.glb");
    assert.ok(lab.scene.assetBytes > 0);
    assert.ok(Date.parse(lab.updated) >= Date.parse(lab.created));
  });

  it("creates an empty space for operators only; names are checked; a taken name is 409", async () => {
    const post = (body: unknown, role: Role = "operator") =>
      server.get(
        "/api/spaces",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        },
        role,
      );
    assert.equal((await post({ name: "empty-1" }, "observer")).status, 403);
    const made = await post({ name: "empty-1" });
    assert.equal(made.status, 201);
    SpaceBody.parse(await made.json());
    assert.equal((await post({ name: "empty-1" })).status, 409);
    assert.equal((await post({ name: "a/b" })).status, 400);
    assert.equal((await post({})).status, 400);
    assert.equal((await server.get("/api/spaces", {}, "observer")).status, 200);
  });

  it("answers bad names 400, unknown names 404, and needs a token", async () => {
    for (const bad of ["bad%20name", "dots.not.allowed", "x".repeat(65)]) {
      const got = await json(await server.get(`/api/spaces/${bad}`));
      assert.equal(got.status, 400, bad);
      assert.equal(got.body.error.code, "bad_request");
      assert.equal((await server.get(`/api/spaces/${bad}`, { method: "DELETE" })).status, 400);
    }
    const unknown = await json(await server.get("/api/spaces/nobody-here"));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "not_found");
    assert.equal((await server.get("/api/spaces/nobody-here", { method: "DELETE" })).status, 404);
    assert.equal((await fetch(`${server.url}/api/spaces`)).status, 401);
  });

  it("deletes a space and its media for operators; the room open on it goes back to idle", async () => {
    const room = rooms[0]!;
    const del = (role: Role) => server.get("/api/spaces/lab-1", { method: "DELETE" }, role);
    assert.equal((await del("observer")).status, 403);
    assert.equal(
      (await server.get("/api/spaces/lab-1")).status,
      200,
      "an observer deletes nothing",
    );

    const folder = join(dataDir, "media", "scenes", "lab-1");
    await access(folder);
    const deleted = await json(await del("operator"));
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body as unknown, { name: "lab-1", deleted: true });
    const s = await waitForState(
      room,
      (st) => st.scene.assetUrl === "" && st.scene.streamUrl === "",
      5000,
    );
    assert.equal(s.scene.status, "idle");
    assert.match(s.scene.error, /space lab-1 was deleted/);
    assert.equal((await server.get("/api/spaces/lab-1")).status, 404);
    await assert.rejects(access(folder), { code: "ENOENT" });
    assert.equal((await server.get("/media/scenes/lab-1/v1.glb")).status, 404);
    if (stream.url) {
      const streamId = /\/media\/video\/([\w-]+)\//.exec(stream.url)![1]!;
      await assert.rejects(access(join(dataDir, "media", "video", streamId)), { code: "ENOENT" });
      assert.equal((await server.get(stream.url)).status, 404);
    }
    assert.equal((await server.get("/media/scenes/lab-1")).status, 404);
    assert.equal((await del("operator")).status, 404);
  });
});

const redisSkip = skipWithoutRedis();

describe(
  "spaces shared through Redis (two server processes)",
  { skip: redisSkip, timeout: 90_000 },
  () => {
    let redis: RedisHandle;
    let a: ServerHandle;
    let b: ServerHandle;
    const rooms: MvRoom[] = [];

    const startServer = async () =>
      startServerProcess({
        PORT: String(await freePort()),
        REDIS_URL: redis.url,
        AUTH_SECRET: "spaces-test-secret-0123456789abcdef-0123456789",
        AUTH_DEV_TOKENS: "true",
        ROBOT_LINK: "inprocess",
        AGENTS: "false",
        RECORD: "false",
      });
    const call = async (s: ServerHandle, path: string, role: Role, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${await devToken(s.url, `${role}-x`, role)}`);
      return fetch(`${s.url}${path}`, { ...init, headers });
    };

    before(async () => {
      redis = await startRedis();
      [a, b] = await Promise.all([startServer(), startServer()]);
    });
    after(async () => {
      await Promise.allSettled(rooms.map((r) => leaveWithin(r, 1000)));
      await Promise.allSettled([a?.stop(), b?.stop()]);
      await redis?.stop();
    });

    it("a space created through one process is listed, read and deleted through the other", async () => {
      const made = await call(a, "/api/spaces", "operator", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "shared-1" }),
      });
      assert.equal(made.status, 201);
      const listed = (await (await call(b, "/api/spaces", "observer")).json()) as {
        name: string;
      }[];
      assert.ok(listed.some((x) => x.name === "shared-1"));
      assert.equal((await call(b, "/api/spaces/shared-1", "observer")).status, 200);
      assert.equal(
        (await call(b, "/api/spaces/shared-1", "operator", { method: "DELETE" })).status,
        200,
      );
      assert.equal((await call(a, "/api/spaces/shared-1", "observer")).status, 404);
    });

    it("a room opened on a space through either process opens the same stored space", async () => {
      const ann = new Client(a.url);
      ann.auth.token = await devToken(a.url, "ann", "operator");
      const first = await ann.joinOrCreate("metaverse", { space: "shared-2" }, MetaverseState);
      rooms.push(first);
      // Matchmaking through B finds the room on the space, wherever it is hosted.
      const bob = new Client(b.url);
      bob.auth.token = await devToken(b.url, "bob", "observer");
      const second = await bob.joinOrCreate("metaverse", { space: "shared-2" }, MetaverseState);
      rooms.push(second);
      assert.equal(second.roomId, first.roomId);
      const got = (await (await call(b, "/api/spaces/shared-2", "observer")).json()) as {
        name: string;
      };
      assert.equal(got.name, "shared-2");
    });

    it("a room open on a space follows an upload and a delete made through the other process", async () => {
      const ann = new Client(a.url);
      ann.auth.token = await devToken(a.url, "ann", "operator");
      // Matchmaking by HTTP, to learn which process hosts the room.
      const res = await fetch(`${a.url}/matchmake/joinOrCreate/metaverse`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${ann.auth.token}`,
        },
        body: JSON.stringify({ space: "shared-3" }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const reservation = (await res.json()) as SeatReservation;
      const room = await ann.consumeSeatReservation(reservation, MetaverseState);
      rooms.push(room);
      const other = reservation.publicAddress === `127.0.0.1:${a.port}` ? b : a;

      const upload = await call(other, "/media/scenes?sceneId=shared-3", "operator", {
        method: "POST",
        headers: { "content-type": RGBD_CONTENT_TYPE },
        body: capture(),
      });
      assert.equal(upload.status, 202, await upload.clone().text());
      const s = await waitForState(room, (st) => st.scene.assetUrl !== "", 60_000);
      assert.equal(s.scene.assetUrl, "/media/scenes/shared-3/v1.glb");

      assert.equal(
        (await call(other, "/api/spaces/shared-3", "operator", { method: "DELETE" })).status,
        200,
      );
      const idle = await waitForState(room, (st) => st.scene.assetUrl === "", 10_000);
      assert.match(idle.scene.error, /space shared-3 was deleted/);
    });
  },
);
