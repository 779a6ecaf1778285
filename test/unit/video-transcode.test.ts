/**
 * The transcode queue with real ffmpeg and the tiny ladder: a clip becomes an aligned HLS
 * ladder published in one rename; failures, timeouts and cancellations leave nothing
 * behind (no temporary folder, no stream, no process); the queue is bounded.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { resolveVideoConfig, type VideoConfig } from "../../server/media/video/config.ts";
import { QueueFullError } from "../../server/media/video/errors.ts";
import { parseMasterPlaylist, parseMediaPlaylist } from "../../server/media/video/hls.ts";
import { probeVideo, type VideoProbe } from "../../server/media/video/probe.ts";
import {
  type RungEvent,
  TranscodeQueue,
  transcodeLadder,
  type VideoJob,
} from "../../server/media/video/transcode.ts";
import { type Clips, ffmpeg, makeClips, testVideoOptions } from "../fixtures/video/clips.ts";

const logger = pino({ level: "silent" });

/** ffmpeg processes whose command line mentions `marker`. */
function ffmpegProcesses(marker: string): number {
  try {
    const out = execFileSync("pgrep", ["-f", `ffmpeg.*${marker}`], { encoding: "utf8" });
    return out.split("\n").filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}

describe("TranscodeQueue (real ffmpeg, tiny ladder)", () => {
  let dir: string;
  let clips: Clips;
  let config: VideoConfig;
  let probeOf: (file: string) => Promise<VideoProbe>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "video-transcode-"));
    clips = await makeClips(join(dir, "clips"));
    config = resolveVideoConfig(testVideoOptions(join(dir, "media")));
    probeOf = (file) =>
      probeVideo(file, {
        ffprobePath: config.ffprobePath,
        timeoutMs: 10_000,
        acceptedCodecs: config.acceptedCodecs,
        maxDurationS: config.maxDurationS,
      });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("publishes an aligned fMP4 ladder with a measured master playlist", async () => {
    const queue = new TranscodeQueue(config, logger);
    const progress: number[] = [];
    const done: VideoJob[] = [];
    queue.onJobDone((j) => done.push(j));
    const job = queue.enqueue({
      inputPath: clips.mpeg4Audio,
      probe: await probeOf(clips.mpeg4Audio),
    });
    assert.equal(job.status, "running");
    const timer = setInterval(() => progress.push(queue.get(job.id)?.progress ?? -1), 20);
    const final = await queue.whenDone(job.id);
    clearInterval(timer);
    assert.equal(final?.status, "succeeded", JSON.stringify(final?.error));
    assert.equal(final?.progress, 1);
    assert.deepEqual(
      done.map((j) => j.id),
      [job.id],
    );
    assert.ok(
      progress.every((p, i) => i === 0 || p >= (progress[i - 1] ?? 0)),
      "progress only grows",
    );

    const root = join(config.videoDir, job.streamId);
    const manifest = JSON.parse(await readFile(join(root, "stream.json"), "utf8")) as {
      renditions: { name: string; codecs: string; bandwidthBps: number; segments: number }[];
      durationS: number;
      fps: number;
    };
    assert.equal(manifest.fps, 25);
    assert.ok(Math.abs(manifest.durationS - 3) < 0.1, `duration ${manifest.durationS}`);
    const master = parseMasterPlaylist(await readFile(join(root, "master.m3u8"), "utf8"));
    assert.deepEqual(
      master.map((v) => [v.uri, v.attributes.RESOLUTION]),
      [
        ["low/index.m3u8", "256x128"],
        ["high/index.m3u8", "512x256"],
      ],
    );
    for (const v of master) {
      assert.ok(Number(v.attributes.BANDWIDTH) > 0);
      assert.match(v.attributes.CODECS ?? "", /^avc1\.[0-9A-F]{6},mp4a\.40\.2$/);
    }
    const durations = await Promise.all(
      ["low", "high"].map(async (r) => {
        const pl = parseMediaPlaylist(await readFile(join(root, r, "index.m3u8"), "utf8"));
        assert.equal(pl.playlistType, "VOD");
        assert.equal(pl.map, "init.mp4");
        for (const s of pl.segments) assert.ok((await stat(join(root, r, s.uri))).size > 0);
        return pl.segments.map((s) => s.durationS);
      }),
    );
    assert.deepEqual(durations[0], durations[1]);
    assert.equal(durations[0]?.length, 3);
    // Each segment starts with a keyframe (ffprobe on init + one segment).
    const keyframes = execFileSync(
      "sh",
      [
        "-c",
        `cat "${root}/high/init.mp4" "${root}/high/seg_00001.m4s" | ffprobe -v error -select_streams v:0 -show_entries frame=key_frame -of csv=p=0 -`,
      ],
      { encoding: "utf8" },
    )
      .trim()
      .split("\n");
    assert.equal(keyframes[0], "1");
    assert.equal(keyframes.filter((k) => k === "1").length, 1, "one keyframe per segment");
    assert.deepEqual(await readdir(config.tmpDir), []);
  });

  it("writes MPEG-TS segments when configured", async () => {
    const ts = resolveVideoConfig(
      testVideoOptions(join(dir, "media-ts"), { segmentFormat: "mpegts" }),
    );
    const queue = new TranscodeQueue(ts, logger);
    const job = queue.enqueue({ inputPath: clips.h264, probe: await probeOf(clips.h264) });
    const final = await queue.whenDone(job.id);
    assert.equal(final?.status, "succeeded", JSON.stringify(final?.error));
    const root = join(ts.videoDir, job.streamId);
    const pl = parseMediaPlaylist(await readFile(join(root, "low", "index.m3u8"), "utf8"));
    assert.equal(pl.map, null);
    assert.match(pl.segments[0]?.uri ?? "", /^seg_00000\.ts$/);
    assert.match(await readFile(join(root, "master.m3u8"), "utf8"), /CODECS="avc1\.[0-9A-F]{6}"/);
  });

  it("fails a clip that probes but does not decode, with ffmpeg's stderr, leaving nothing", async () => {
    const queue = new TranscodeQueue(config, logger);
    const job = queue.enqueue({
      inputPath: clips.garbagePayload,
      probe: await probeOf(clips.garbagePayload),
    });
    const final = await queue.whenDone(job.id);
    assert.equal(final?.status, "failed");
    assert.equal(final?.error?.code, "transcode_failed");
    assert.match(final?.error?.message ?? "", /ffmpeg failed \(exit \d+\)/);
    assert.ok((final?.error?.stderrTail?.length ?? 0) > 0);
    assert.ok((final?.error?.stderrTail?.length ?? 0) <= 16 * 1024);
    await assert.rejects(stat(join(config.videoDir, job.streamId)), { code: "ENOENT" });
    assert.deepEqual(await readdir(config.tmpDir), []);
  });

  it("kills ffmpeg at the job timeout", async () => {
    const src = join(dir, "clips", "long-720p.mp4");
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=1280x720:rate=30:duration=8",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      src,
    ]);
    const slow = resolveVideoConfig(
      testVideoOptions(join(dir, "media-slow"), {
        jobTimeoutMs: 1000,
        preset: "medium",
        ladder: [{ name: "big", width: 2048, height: 1024, bitrateBps: 4e6 }],
      }),
    );
    const queue = new TranscodeQueue(slow, logger);
    const job = queue.enqueue({ inputPath: src, probe: await probeOf(src) });
    const final = await queue.whenDone(job.id);
    assert.equal(final?.status, "failed");
    assert.equal(final?.error?.code, "transcode_timeout");
    assert.equal(ffmpegProcesses("media-slow"), 0);
    assert.deepEqual(await readdir(slow.tmpDir), []);
    assert.deepEqual(
      (await readdir(slow.videoDir)).filter((n) => !n.startsWith(".")),
      [],
    );
  });

  it("is bounded and cancels queued and running jobs", async () => {
    const bounded = resolveVideoConfig(
      testVideoOptions(join(dir, "media-bounded"), { maxQueuedJobs: 1, preset: "medium" }),
    );
    const queue = new TranscodeQueue(bounded, logger);
    const probe = await probeOf(clips.h264);
    const a = queue.enqueue({ inputPath: clips.h264, probe });
    const b = queue.enqueue({ inputPath: clips.h264, probe });
    assert.equal(a.status, "running");
    assert.equal(b.status, "queued");
    assert.throws(() => queue.enqueue({ inputPath: clips.h264, probe }), QueueFullError);
    assert.deepEqual(queue.load(), { queued: 1, running: 1 });

    assert.equal(queue.cancel(b.id), true);
    assert.equal((await queue.whenDone(b.id))?.status, "cancelled");
    assert.equal(queue.cancel(a.id), true);
    const fa = await queue.whenDone(a.id);
    assert.equal(fa?.status, "cancelled");
    assert.equal(queue.cancel(a.id), false, "finished jobs cannot be cancelled");
    assert.equal(ffmpegProcesses("media-bounded"), 0);
    assert.deepEqual(await readdir(bounded.tmpDir).catch(() => []), []);

    // close() cancels whatever runs and refuses new work.
    const c = queue.enqueue({ inputPath: clips.h264, probe });
    await queue.close();
    assert.equal(queue.get(c.id)?.status, "cancelled");
    assert.throws(() => queue.enqueue({ inputPath: clips.h264, probe }), QueueFullError);
  });

  it("never encodes a rung above a 640×360 clip, lists the skipped ones, and reports progress during each rung", async () => {
    const clip = join(dir, "clip-640x360.mp4");
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=640x360:rate=30:duration=2",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      clip,
    ]);
    // 640 px over 90° flat: 5.59 px/deg at the centre. `top` (2560 px / 360° = 7.1 px/deg)
    // would be the clip scaled up; `low` and `high` are below it.
    const ladder = [
      { name: "low", width: 256, height: 128, bitrateBps: 300e3 },
      { name: "high", width: 512, height: 256, bitrateBps: 800e3 },
      { name: "top", width: 2560, height: 1280, bitrateBps: 4e6 },
    ];
    const events: ({ kind: "progress"; fraction: number } | ({ kind: "rung" } & RungEvent))[] = [];
    const outDir = join(dir, "no-upscale");
    const manifest = await transcodeLadder({
      config,
      input: clip,
      probe: await probeOf(clip),
      rungs: ladder,
      outDir,
      streamId: "no-upscale",
      timeoutMs: 120_000,
      onProgress: (fraction) => events.push({ kind: "progress", fraction }),
      onRung: (e) => events.push({ kind: "rung", ...e }),
    });

    assert.deepEqual(
      manifest.renditions.map((r) => `${r.name} ${r.width}x${r.height}`),
      ["low 256x128", "high 512x256"],
    );
    assert.deepEqual(
      manifest.skipped.map((r) => [r.name, r.width, r.height, r.reason]),
      [["top", 2560, 1280, "above_source"]],
    );
    assert.ok(Math.abs(manifest.source.pxPerDeg - (320 * Math.PI) / 180) < 1e-6);
    assert.deepEqual(await readdir(outDir).then((d) => d.sort()), [
      "high",
      "low",
      "master.m3u8",
      "stream.json",
    ]);
    const written = JSON.parse(await readFile(join(outDir, "stream.json"), "utf8")) as {
      skipped: { name: string; reason: string }[];
    };
    assert.deepEqual(
      written.skipped.map((r) => `${r.name}:${r.reason}`),
      ["top:above_source"],
    );

    // Progress rises above 0 inside the first rung (before its "done"), and again inside
    // the second; it only grows and stays below 1 until the job publishes.
    const rungAt = (phase: string, name: string) =>
      events.findIndex((e) => e.kind === "rung" && e.phase === phase && e.name === name);
    const progressBetween = (from: number, to: number) =>
      events.slice(from + 1, to).filter((e) => e.kind === "progress");
    assert.ok(rungAt("started", "low") === 0, JSON.stringify(events));
    assert.ok(progressBetween(rungAt("started", "low"), rungAt("done", "low")).length > 0);
    assert.ok(progressBetween(rungAt("started", "high"), rungAt("done", "high")).length > 0);
    const fractions = events.flatMap((e) => (e.kind === "progress" ? [e.fraction] : []));
    assert.ok(fractions[0] !== undefined && fractions[0] > 0);
    assert.ok(fractions.every((f, i) => f < 1 && (i === 0 || f > (fractions[i - 1] ?? 0))));
  });
});
