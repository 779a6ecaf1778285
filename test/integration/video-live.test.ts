/**
 * Live ingest with real ffmpeg: JPEG frames pushed at camera rate become a live HLS
 * ladder served over real HTTP; frames that ffmpeg cannot take yet are dropped and
 * counted; bad frames are refused; stop ends the playlists and the process.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { pino } from "pino";
import { mountMediaRoutes } from "../../server/http/media-routes.ts";
import { LiveStateError } from "../../server/media/video/errors.ts";
import { parseMasterPlaylist, parseMediaPlaylist } from "../../server/media/video/hls.ts";
import { createVideoPipeline, type VideoPipeline } from "../../server/media/video/pipeline.ts";
import { makeJpegFrames, testVideoOptions } from "../fixtures/video/clips.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function liveFfmpegProcesses(streamId: string): number {
  try {
    return execFileSync("pgrep", ["-f", `ffmpeg.*${streamId}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe("live ingest (real ffmpeg)", () => {
  let dir: string;
  let frames: Buffer[];
  let pipeline: VideoPipeline;
  let server: ReturnType<express.Application["listen"]>;
  let base: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "video-live-"));
    frames = await makeJpegFrames(dir, 60);
    pipeline = await createVideoPipeline(
      testVideoOptions(join(dir, "media"), { liveWindowSegments: 3 }),
      pino({ level: "silent" }),
    );
    const app = express();
    mountMediaRoutes(app, { pipeline, logger: pino({ level: "silent" }) });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await pipeline.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("turns 60 frames pushed at 30 fps into a served live ladder", async () => {
    const live = pipeline.createLiveIngest();
    const info = await live.start();
    assert.equal(live.stats().state, "waiting");
    assert.deepEqual(
      info.renditions.map((r) => r.playlist),
      ["low/index.m3u8", "high/index.m3u8"],
    );
    const master = await fetch(`${base}/media/live/${info.streamId}/master.m3u8`);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get("cache-control"), "no-cache");
    assert.equal(parseMasterPlaylist(await master.text()).length, 2);

    const results: string[] = [];
    const t0 = performance.now();
    for (const [i, frame] of frames.entries()) {
      results.push(live.pushFrame(frame));
      const next = t0 + ((i + 1) * 1000) / 30;
      await sleep(Math.max(0, next - performance.now()));
    }
    assert.equal(live.stats().state, "running");
    // Most frames reach ffmpeg; a busy machine may stall it for a moment (then frames drop
    // rather than pile up, and the fps filter repeats the last one).
    assert.ok(results.filter((r) => r === "written").length >= 20, results.join(","));

    // Segments appear while the stream is live (1 s segments, sliding window of 3).
    const playlistUrl = `${base}/media/live/${info.streamId}/high/index.m3u8`;
    let playlist = parseMediaPlaylist("#EXTM3U");
    const deadline = Date.now() + 10_000;
    while (playlist.segments.length === 0 && Date.now() < deadline) {
      const res = await fetch(playlistUrl);
      if (res.status === 200) playlist = parseMediaPlaylist(await res.text());
      else await res.arrayBuffer();
      await sleep(100);
    }
    assert.ok(playlist.segments.length >= 1, "a segment while live");
    assert.equal(playlist.playlistType, null, "a live (sliding window) playlist");
    assert.equal(playlist.endList, false);

    const stats = await live.stop();
    assert.equal(stats.state, "stopped");
    assert.equal(stats.endReason, "stop");
    assert.equal(liveFfmpegProcesses(info.streamId), 0);
    assert.ok(stats.framesEncoded >= 40, `encoded ${stats.framesEncoded}`);

    const res = await fetch(playlistUrl);
    assert.equal(res.headers.get("content-type"), "application/vnd.apple.mpegurl");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const final = parseMediaPlaylist(await res.text());
    assert.equal(final.endList, true);
    assert.ok(final.segments.length >= 2 && final.segments.length <= 3, `${final.segments.length}`);
    const total = final.segments.reduce((a, s) => a + s.durationS, 0);
    assert.ok(total > 1, `total ${total} s`);
    for (const s of final.segments) {
      const seg = await fetch(`${base}/media/live/${info.streamId}/high/${s.uri}`);
      assert.equal(seg.status, 200);
      assert.equal(seg.headers.get("content-type"), "video/iso.segment");
      await seg.arrayBuffer();
    }
    // Nothing half-written is left or served under a segment name.
    const names = await readdir(join(info.dir, "high"));
    assert.deepEqual(
      names.filter((n) => n.endsWith(".tmp")),
      [],
    );
    await assert.rejects(live.start(), LiveStateError);
  });

  it("drops frames ffmpeg cannot take yet, refuses bad ones, counts both", async () => {
    const live = pipeline.createLiveIngest();
    const info = await live.start({ timestamps: "sequence", maxFrameBytes: 64 * 1024 });
    assert.equal(live.pushFrame(Buffer.from("not a jpeg at all")), "rejected");
    assert.equal(live.pushFrame(Buffer.alloc(64 * 1024 + 1, 0xff)), "rejected");
    // A burst with no chance for stdin to drain in between: all but the first few drop.
    const burst = Array.from({ length: 200 }, (_, i) =>
      live.pushFrame(frames[i % frames.length] as Buffer),
    );
    const s = live.stats();
    assert.equal(s.framesRejected, 2);
    assert.ok(s.framesDropped >= 150, `dropped ${s.framesDropped}`);
    assert.equal(s.framesWritten + s.framesDropped, 200);
    assert.equal(burst.filter((r) => r === "written").length, s.framesWritten);
    const stats = await live.stop({ removeFiles: true });
    assert.equal(stats.state, "stopped");
    await assert.rejects(stat(info.dir), { code: "ENOENT" });
    assert.equal(live.pushFrame(frames[0] as Buffer), "rejected");
  });

  it("stops an idle stream on its own and kills its ffmpeg", async () => {
    const live = pipeline.createLiveIngest();
    const ended = new Promise<string | null>((resolve) => live.onEnd((s) => resolve(s.endReason)));
    const info = await live.start({ idleTimeoutMs: 500 });
    live.pushFrame(frames[0] as Buffer);
    assert.equal(live.stats().state, "running");
    assert.equal(await ended, "idle");
    assert.equal(live.stats().state, "stopped");
    assert.equal(liveFfmpegProcesses(info.streamId), 0);
    assert.equal(pipeline.liveStreams().includes(live), false);
  });
});
