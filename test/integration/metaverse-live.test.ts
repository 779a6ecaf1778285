/**
 * Live camera video into a metaverse room over real sockets, with Debian's ffmpeg: an
 * operator's capture app streams JPEG frames on socket.io `/ingest`; the room's scene
 * switches to the live HLS ladder and every headset (a real @colyseus/sdk client) gets a
 * live playlist that is served and grows; stopping (or the sender vanishing) puts the room
 * back on the scene it had. Wrong roles, unknown rooms, bad frames and a second sender are
 * refused without touching the room. Skipped only where ffmpeg is not installed.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, type Room } from "@colyseus/sdk";
import { io, type Socket } from "socket.io-client";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import { makeJpegFrames, skipWithoutFfmpeg } from "../fixtures/video/clips.ts";
import { startTestServer, type TestServer, waitForState } from "../support/server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  ok: boolean;
  error?: { code: string; message: string };
  streamId?: string;
  streamUrl?: string;
  renditions?: { name: string; playlistUrl: string; bitrateBps: number }[];
  result?: string;
  stats?: { framesWritten: number; endReason: string | null };
}

describe(
  "live camera frames into a metaverse room (socket.io /ingest)",
  {
    skip: skipWithoutFfmpeg(),
    timeout: 120_000,
  },
  () => {
    let server: TestServer;
    let dir: string;
    let frames: Buffer[];
    let room: Room<unknown, MetaverseState>;
    const sockets: Socket[] = [];
    const me = () => room.state.participants.get(room.sessionId)!;

    const connect = async (token: string): Promise<Socket> => {
      const s = io(`${server.url}/ingest`, {
        path: "/socket.io",
        transports: ["websocket"],
        auth: { token },
        reconnection: false,
      });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", reject);
      });
      return s;
    };
    const send = async (s: Socket, event: string, ...args: unknown[]) =>
      (await s.timeout(10_000).emitWithAck(event, ...args)) as Reply;
    /** Pushes frames at `fps` and returns the acknowledged results. */
    const stream = async (s: Socket, n: number, fps = 30) => {
      const results: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        results.push((await send(s, "frame", frames[i % frames.length])).result ?? "");
        await sleep(Math.max(0, t0 + ((i + 1) * 1000) / fps - performance.now()));
      }
      return results;
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "agenttwin-live-"));
      frames = await makeJpegFrames(dir, 30);
      server = await startTestServer({
        ROBOT_LINK: "inprocess",
        VIDEO_LADDER: "1080p:256x128:300k,4k:512x256:800k",
        VIDEO_SEGMENT_S: "1",
        VIDEO_PRESET: "ultrafast",
        VIDEO_LIVE_PRESET: "ultrafast",
        VIDEO_LIVE_FPS: "15",
      });
      const client = new Client(server.url);
      client.auth.token = await server.token("observer", "headset");
      room = await client.joinOrCreate("metaverse", {}, MetaverseState);
      await waitForState(room, () => me()?.stream !== undefined, 15_000);
    });
    after(async () => {
      for (const s of sockets) s.disconnect();
      await room?.leave();
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("admits only operators", async () => {
      await assert.rejects(
        connect(await server.token("observer", "cam")),
        /operator role \(you are observer\)/,
      );
      await assert.rejects(connect("not-a-token"), /invalid token|unauthorized/);
    });

    it("refuses bad starts and frames before a start, and the room keeps its scene", async () => {
      const s = await connect(await server.token("operator", "cam-0"));
      const version = room.state.scene.version;
      assert.equal((await send(s, "frame", frames[0])).error?.code, "not_started");
      assert.equal((await send(s, "start", { room: "no-such-room" })).error?.code, "unknown_room");
      for (const bad of [
        null,
        {},
        { room: "../x" },
        { room: room.roomId, fps: 0 },
        { room: room.roomId, extra: 1 },
      ]) {
        assert.equal(
          (await send(s, "start", bad)).error?.code,
          "invalid_message",
          JSON.stringify(bad),
        );
      }
      assert.equal((await send(s, "stop")).error?.code, "not_started");
      await sleep(100);
      assert.equal(room.state.scene.version, version);
      assert.equal(room.state.scene.streamUrl, "");
      s.disconnect();
    });

    it("turns streamed frames into the room's live ladder; stop restores the scene", async () => {
      const cam = await connect(await server.token("operator", "cam-1"));
      const started = await send(cam, "start", { room: room.roomId });
      assert.equal(started.ok, true, JSON.stringify(started));
      assert.match(started.streamUrl!, /^\/media\/live\/[\w-]+\/master\.m3u8$/);
      assert.deepEqual(
        started.renditions!.map((r) => r.name),
        ["1080p", "4k"],
      );
      // A second sender for the same room is refused while this one is live.
      const other = await connect(await server.token("operator", "cam-2"));
      assert.equal((await send(other, "start", { room: room.roomId })).error?.code, "conflict");
      assert.equal((await send(cam, "start", { room: room.roomId })).error?.code, "conflict");

      // Bad frames are refused and counted, not fatal.
      assert.equal((await send(cam, "frame", Buffer.from("not a jpeg"))).result, "rejected");
      assert.equal((await send(cam, "frame", "a string")).error?.code, "invalid_frame");

      const results = await stream(cam, 75, 15);
      assert.ok(results.filter((r) => r === "written").length > 30, results.join(","));
      const live = await waitForState(
        room,
        (st) => st.scene.status === "live" && me().stream.playlistUrl.startsWith("/media/live/"),
        15_000,
      );
      assert.equal(live.scene.streamUrl, started.streamUrl);
      assert.equal(live.scene.renditions, "1080p,4k");
      // The headset's playlist is served, live (no ENDLIST), and has segments.
      const playlist = me().stream.playlistUrl;
      let body = "";
      for (let i = 0; i < 50 && !/#EXTINF/.test(body); i++) {
        body = await (await server.get(playlist, {}, "observer")).text();
        if (!/#EXTINF/.test(body)) await stream(cam, 5, 15);
      }
      assert.match(body, /#EXTINF/);
      assert.doesNotMatch(body, /#EXT-X-ENDLIST/);

      const ended = new Promise<{ reason: string }>((resolve) => cam.once("ended", resolve));
      const stopped = await send(cam, "stop");
      assert.equal(stopped.ok, true);
      assert.ok(stopped.stats!.framesWritten > 30);
      assert.equal((await ended).reason, "stop");
      const back = await waitForState(room, (st) => st.scene.status !== "live", 10_000);
      assert.equal(back.scene.streamUrl, "", "the room is back on the scene it had (none)");
      assert.equal(back.scene.error, "");
      // The room can go live again from the other sender now.
      assert.equal((await send(other, "start", { room: room.roomId })).ok, true);
      other.disconnect();
    });

    it("a sender that vanishes mid-stream ends the live stream", async () => {
      const cam = await connect(await server.token("operator", "cam-3"));
      assert.equal((await send(cam, "start", { room: room.roomId })).ok, true);
      await stream(cam, 20, 15);
      await waitForState(room, (st) => st.scene.status === "live", 15_000);
      cam.disconnect();
      const back = await waitForState(room, (st) => st.scene.status !== "live", 15_000);
      assert.equal(back.scene.streamUrl, "");
    });
  },
);
