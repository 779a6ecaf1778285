/**
 * The metaverse scene end to end over real sockets and HTTP, with Debian's ffmpeg: an
 * operator uploads a 2D clip for a room; the pipeline transcodes it into the room's ladder;
 * the room's scene gets the stream and every headset the playlist of the rendition the agents
 * chose (the reconstruction agent pricing each rung from the measured segment sizes); a
 * corrupt clip is refused and a failed job leaves the scene as it was; an RGB-D capture
 * becomes the room's 3D asset. Skipped only where ffmpeg is not installed.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Client, type Room } from "@colyseus/sdk";
import type { Decision } from "../../server/agents/controller.ts";
import {
  orbitPoses,
  renderRgbd,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";
import {
  encodeRgbdUpload,
  RGBD_CONTENT_TYPE,
} from "../../server/media/reconstruction/upload-format.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import { type Clips, makeClips, skipWithoutFfmpeg } from "../fixtures/video/clips.ts";
import { ReplyQueue, startTestServer, type TestServer, waitForState } from "../support/server.ts";

/** Two rungs with product names (the traffic agent knows them) at test sizes. */
const LADDER = "1080p:256x128:300k,4k:512x256:800k";

describe(
  "metaverse scene from an uploaded clip and an RGB-D capture",
  {
    skip: skipWithoutFfmpeg(),
    timeout: 180_000,
  },
  () => {
    let server: TestServer;
    let clipsDir: string;
    let clips: Clips;
    let room: Room<unknown, MetaverseState>;
    let replies: ReplyQueue;
    let operator: string;
    const me = () => room.state.participants.get(room.sessionId)!;
    const session = () => server.app.metaverse.get(room.roomId)!;

    const upload = async (path: string, query: string, token = operator) =>
      fetch(`${server.url}/media/video?${query}`, {
        method: "POST",
        headers: { "content-type": "video/mp4", authorization: `Bearer ${token}` },
        body: await readFile(path),
      });
    const waitJob = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const job = (await (await server.get(`/media/jobs/${id}`)).json()) as {
          status: string;
        };
        if (job.status === "succeeded" || job.status === "failed") return job;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`job ${id} did not finish`);
    };

    before(async () => {
      clipsDir = await mkdtemp(join(tmpdir(), "agenttwin-clips-"));
      clips = await makeClips(clipsDir);
      server = await startTestServer({
        ROBOT_LINK: "inprocess",
        VIDEO_LADDER: LADDER,
        VIDEO_SEGMENT_S: "1",
        VIDEO_PRESET: "ultrafast",
      });
      operator = await server.token("operator", "op-1");
      const client = new Client(server.url);
      client.auth.token = operator;
      room = await client.joinOrCreate("metaverse", {}, MetaverseState);
      replies = new ReplyQueue(room as unknown as Room);
      await waitForState(room, () => me()?.stream.rendition !== "", 15_000);
    });
    // Every request is answered once; an answer or error nobody asked for is a bug.
    afterEach(() => replies.expectNoUnexpected());
    after(async () => {
      await room?.leave();
      await server?.close();
      await rm(clipsDir, { recursive: true, force: true });
    });

    it("refuses uploads without an operator token or for an unknown room", async () => {
      const observer = await server.token("observer", "obs-1");
      // A valid token of the wrong role is 403; no or a bad token 401.
      assert.equal((await upload(clips.h264, `room=${room.roomId}`, observer)).status, 403);
      assert.equal((await upload(clips.h264, `room=${room.roomId}`, "not-a-token")).status, 401);
      const unknown = await upload(clips.h264, "room=no-such-room");
      assert.equal(unknown.status, 404);
      assert.equal(
        ((await unknown.json()) as { error: { code: string } }).error.code,
        "unknown_room",
      );
      assert.equal(room.state.scene.streamUrl, "");
    });

    it("turns a clip into the room's stream; the headset plays the rendition chosen for it", async () => {
      const res = await upload(clips.h264, `room=${room.roomId}`);
      assert.equal(res.status, 202, await res.clone().text());
      const { jobId } = (await res.json()) as { jobId: string };
      const job = await waitJob(jobId);
      assert.equal(job.status, "succeeded", JSON.stringify(job));
      const s = await waitForState(
        room,
        (st) => st.scene.status === "ready" && me().stream.playlistUrl !== "",
        20_000,
      );
      assert.equal(s.scene.renditions, "1080p,4k");
      assert.match(s.scene.streamUrl, /^\/media\/video\/[\w-]+\/master\.m3u8$/);
      const playlist = me().stream.playlistUrl;
      assert.ok(["1080p", "4k"].includes(me().stream.rendition));
      const got = await server.get(playlist, {}, "observer");
      assert.equal(got.status, 200);
      assert.equal(got.headers.get("content-type"), "application/vnd.apple.mpegurl");
      assert.match(await got.text(), /#EXTINF/);
      // The decision behind it consulted the reconstruction agent with measured bitrates.
      const d = session()
        .decisions()
        .findLast((x: Decision) => x.agents.includes("reconstruction"));
      assert.ok(d, "a decision consulted the reconstruction agent");
      const traffic = d.outputs.videoTraffic as { basis: string; rungs: { bitrateBps: number }[] };
      assert.equal(traffic.basis, "measured");
      assert.equal(traffic.rungs.length, 2);
      assert.ok(traffic.rungs.every((r) => r.bitrateBps > 0));
    });

    it("raises the rendition on 'make it sharper' within the stream's ladder", async () => {
      room.send("qoe", { bufferS: 20, throughputBps: 300e6, stalls: 0 });
      const requestId = "sharper-1";
      room.send("utterance", { text: "make it sharper", requestId });
      const r = await replies.forRequest(requestId, 10_000);
      assert.equal(r.kind, "ack", JSON.stringify(r.body));
      await waitForState(room, () => me().stream.rendition === "4k", 10_000);
      assert.match(me().stream.playlistUrl, /\/4k\//);
    });

    it("refuses a corrupt clip and keeps the scene", async () => {
      const before = room.state.scene.streamUrl;
      const version = session().scene.version;
      const res = await upload(clips.random, `room=${room.roomId}`);
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
      const truncated = await upload(clips.truncated, `room=${room.roomId}`);
      if (truncated.status === 202) {
        const { jobId } = (await truncated.json()) as { jobId: string };
        assert.equal((await waitJob(jobId)).status, "failed");
        await waitForState(room, (st) => st.scene.error !== "", 10_000);
      } else assert.ok(truncated.status >= 400 && truncated.status < 500);
      // The refused job's status reaches the headset with the next patch.
      await waitForState(room, (st) => st.scene.status === "ready", 10_000);
      assert.equal(room.state.scene.streamUrl, before);
      assert.ok(session().scene.version >= version);
    });

    it("makes an RGB-D capture the room's 3D asset", async () => {
      const scene = SYNTHETIC_SCENES.sphere;
      const frames = orbitPoses(scene, 4, { elevationsDeg: [35] }).map((p) =>
        renderRgbd(scene, 160, 120, p),
      );
      const res = await fetch(`${server.url}/media/scenes?sceneId=${room.roomId}`, {
        method: "POST",
        headers: { "content-type": RGBD_CONTENT_TYPE, authorization: `Bearer ${operator}` },
        body: encodeRgbdUpload(frames),
      });
      assert.equal(res.status, 202, await res.clone().text());
      const s = await waitForState(room, (st) => st.scene.assetUrl !== "", 60_000);
      assert.equal(s.scene.assetUrl, `/media/scenes/${room.roomId}/v1.glb`);
      const glb = await server.get(s.scene.assetUrl, {}, "observer");
      assert.equal(glb.status, 200);
      assert.equal(glb.headers.get("content-type"), "model/gltf-binary");
      assert.equal(new TextDecoder().decode((await glb.arrayBuffer()).slice(0, 4)), "glTF");
    });
  },
);
