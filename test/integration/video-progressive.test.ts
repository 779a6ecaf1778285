/**
 * Progressive MP4 per rendition (server/media/video/progressive.ts), with real ffmpeg: a VOD
 * job publishes `<rung>/progressive.mp4` beside each playlist — H.264, the `moov` index before
 * the media (plays while downloading), as long as the HLS rendition — recorded in
 * `stream.json` and in the job's public renditions (`mp4Url`), and served over HTTP with Range
 * support (what Unity's VideoPlayer on a PICO 4 fetches). For both segment formats and with audio. A rendition whose remux fails
 * stays HLS only and the job still succeeds.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import express from "express";
import { pino } from "pino";
import { mountMediaRoutes, type PublicJob } from "../../server/http/media-routes.ts";
import type { SegmentFormat } from "../../server/config-video.ts";
import { createVideoPipeline, type VideoPipeline } from "../../server/media/video/pipeline.ts";
import {
  addProgressive,
  isFaststart,
  PROGRESSIVE_FILE,
  remuxArgs,
  topLevelBoxes,
} from "../../server/media/video/progressive.ts";
import type { StreamManifest, VideoJob } from "../../server/media/video/transcode.ts";
import {
  type Clips,
  makeClips,
  skipWithoutFfmpeg,
  testVideoOptions,
} from "../fixtures/video/clips.ts";
import { probeVideo } from "../../server/media/video/probe.ts";

const run = promisify(execFile);

/** ffprobe's view of a file: codec of each stream and the container duration, s. */
async function ffprobe(file: string): Promise<{ codecs: string[]; durationS: number }> {
  const { stdout } = await run("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "stream=codec_name:format=duration",
    "-of",
    "json",
    file,
  ]);
  const j = JSON.parse(stdout) as {
    streams: { codec_name: string }[];
    format: { duration: string };
  };
  return { codecs: j.streams.map((s) => s.codec_name), durationS: Number(j.format.duration) };
}

describe("progressive MP4 per rendition (real ffmpeg)", { skip: skipWithoutFfmpeg() }, () => {
  let dir: string;
  let clips: Clips;
  const pipelines: VideoPipeline[] = [];
  let server: ReturnType<express.Application["listen"]>;
  let base: string;

  const pipelineFor = async (segmentFormat: SegmentFormat) => {
    const p = await createVideoPipeline(
      testVideoOptions(join(dir, `media-${segmentFormat}`), { segmentFormat }),
      pino({ level: "silent" }),
    );
    pipelines.push(p);
    return p;
  };

  const transcode = async (p: VideoPipeline, clip: string): Promise<VideoJob> => {
    const { config } = p;
    const probe = await probeVideo(clip, {
      ffprobePath: config.ffprobePath,
      timeoutMs: config.probeTimeoutMs,
      acceptedCodecs: config.acceptedCodecs,
      maxDurationS: config.maxDurationS,
    });
    const job = p.queue.enqueue({ inputPath: clip, probe });
    const done = await p.queue.whenDone(job.id);
    assert.ok(done);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    return done;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "video-progressive-"));
    clips = await makeClips(join(dir, "clips"));
  });

  after(async () => {
    await Promise.all(pipelines.map((p) => p.close()));
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("remuxes with stream copy and faststart", () => {
    const args = remuxArgs("in/index.m3u8", "out.mp4");
    assert.deepEqual(args.slice(args.indexOf("-c"), args.indexOf("-c") + 2), ["-c", "copy"]);
    assert.deepEqual(args.slice(args.indexOf("-movflags"), args.indexOf("-movflags") + 2), [
      "-movflags",
      "+faststart",
    ]);
    assert.equal(args.at(-1), "out.mp4");
  });

  for (const format of ["fmp4", "mpegts"] as const) {
    it(`a ${format} VOD job publishes a faststart H.264 MP4 beside every playlist`, async () => {
      const p = await pipelineFor(format);
      const job = await transcode(p, format === "fmp4" ? clips.mpeg4Audio : clips.h264);
      const result = job.result;
      assert.ok(result);
      assert.equal(result.segmentFormat, format);
      const root = join(p.config.videoDir, job.streamId);
      const onDisk = JSON.parse(
        await readFile(join(root, "stream.json"), "utf8"),
      ) as StreamManifest;
      assert.deepEqual(onDisk.renditions, result.renditions, "stream.json = the job's result");
      assert.equal(result.renditions.length, p.config.ladder.length);
      for (const r of result.renditions) {
        assert.equal(r.progressive, `${r.name}/${PROGRESSIVE_FILE}`);
        const file = join(root, r.progressive);
        assert.ok(await isFaststart(file), `${r.progressive}: moov before mdat`);
        const types = (await topLevelBoxes(file)).map((b) => b.type);
        assert.equal(types[0], "ftyp");
        const probe = await ffprobe(file);
        assert.equal(probe.codecs[0], "h264");
        // The clip with audio keeps its AAC track.
        if (format === "fmp4") assert.deepEqual(probe.codecs, ["h264", "aac"]);
        assert.ok(
          Math.abs(probe.durationS - result.durationS) < 0.25,
          `${r.name}: mp4 ${probe.durationS} s vs HLS ${result.durationS} s`,
        );
      }
    });
  }

  it("serves the MP4 over HTTP as video/mp4 with Range (what VideoPlayer fetches)", async () => {
    const p = pipelines[0] ?? (await pipelineFor("fmp4"));
    const job = await transcode(p, clips.h264);
    const app = express();
    mountMediaRoutes(app, { pipeline: p, logger: pino({ level: "silent" }) });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = job.result?.renditions.at(-1);
    assert.ok(r?.progressive);
    // The job as clients see it names each rendition's MP4 next to its playlist.
    const publicJob = (await (await fetch(`${base}/media/jobs/${job.id}`)).json()) as PublicJob;
    assert.deepEqual(
      publicJob.renditions.map((x) => x.mp4Url),
      job.result?.renditions.map((x) => `/media/video/${job.streamId}/${x.name}/progressive.mp4`),
    );
    const url = `${base}/media/video/${job.streamId}/${r.progressive}`;
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-type"), "video/mp4");
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.equal(bytes.toString("latin1", 4, 8), "ftyp");
    const ranged = await fetch(url, { headers: { range: "bytes=0-1023" } });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 1024);
    // The half-written name is never served.
    const part = await fetch(`${url}.part`);
    assert.equal(part.status, 404);
  });

  it("a rendition whose remux fails stays HLS only; the others get their MP4", async () => {
    const p = pipelines[0] ?? (await pipelineFor("fmp4"));
    const job = await transcode(p, clips.h264);
    assert.ok(job.result);
    // A copy of the published stream with one rendition's playlist made unreadable.
    const copy = join(dir, "broken");
    await run("cp", ["-r", join(p.config.videoDir, job.streamId), copy]);
    const [first, ...rest] = job.result.renditions;
    assert.ok(first);
    await writeFile(
      join(copy, first.playlist),
      "#EXTM3U\n#EXTINF:1,\nmissing.m4s\n#EXT-X-ENDLIST\n",
    );
    const warnings: unknown[] = [];
    const stripped: StreamManifest = {
      ...job.result,
      renditions: job.result.renditions.map(({ progressive: _p, ...r }) => r),
    };
    const out = await addProgressive(copy, stripped, {
      ffmpegPath: p.config.ffmpegPath,
      timeoutMs: 30_000,
      logger: { warn: (o: unknown) => warnings.push(o), info: () => undefined } as never,
    });
    assert.equal(out.renditions[0]?.progressive, undefined);
    assert.equal(warnings.length, 1);
    for (const [i, r] of rest.entries()) {
      assert.equal(out.renditions[i + 1]?.progressive, `${r.name}/${PROGRESSIVE_FILE}`);
    }
    const onDisk = JSON.parse(await readFile(join(copy, "stream.json"), "utf8")) as StreamManifest;
    assert.deepEqual(onDisk.renditions, out.renditions);
  });
});
