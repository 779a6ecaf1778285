/**
 * The video pipeline over real HTTP (express on a loopback port, fetch): upload → probe →
 * transcode with real ffmpeg (tiny ladder) → the HLS ladder served with the right types,
 * caching and Range support; bad uploads get 4xx JSON with a reason and leave no file; a
 * failed job leaves the previous stream served.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { pino } from "pino";
import { mountMediaRoutes, type PublicJob } from "../../server/http/media-routes.ts";
import { parseMasterPlaylist, parseMediaPlaylist } from "../../server/media/video/hls.ts";
import { createVideoPipeline, type VideoPipeline } from "../../server/media/video/pipeline.ts";
import { type Clips, makeClips, testVideoOptions } from "../fixtures/video/clips.ts";

const MAX_UPLOAD = 300_000;

interface ErrorBody {
  error: { code: string; message: string };
}

/** GET with a raw, unnormalised path (fetch would resolve `..` before sending). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("video over http (real ffmpeg)", () => {
  let dir: string;
  let clips: Clips;
  let pipeline: VideoPipeline;
  let server: ReturnType<express.Application["listen"]>;
  let base: string;
  let port: number;
  const finished: PublicJob[] = [];
  let firstStream: PublicJob;

  const upload = (file: Buffer | string, type = "video/mp4") =>
    fetch(`${base}/media/video`, {
      method: "POST",
      headers: { "content-type": type },
      body: typeof file === "string" ? file : new Uint8Array(file),
    });

  const waitForJob = async (statusUrl: string): Promise<PublicJob> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${base}${statusUrl}`);
      assert.equal(res.status, 200);
      const job = (await res.json()) as PublicJob;
      if (!["queued", "running"].includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job still ${job.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const uploadsLeft = async () =>
    (await readdir(pipeline.config.uploadsDir)).filter((n) => n.endsWith(".upload"));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "video-http-"));
    clips = await makeClips(join(dir, "clips"));
    pipeline = await createVideoPipeline(
      testVideoOptions(join(dir, "media"), { maxUploadBytes: MAX_UPLOAD }),
      pino({ level: "silent" }),
    );
    const app = express();
    mountMediaRoutes(app, {
      pipeline,
      logger: pino({ level: "silent" }),
      onJobDone: (job) => finished.push(job),
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await pipeline.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("turns an uploaded H.264 clip into a served, aligned 360° HLS ladder", async () => {
    const res = await upload(await readFile(clips.h264));
    assert.equal(res.status, 202);
    const accepted = (await res.json()) as {
      jobId: string;
      streamId: string;
      statusUrl: string;
      streamUrl: string;
    };
    assert.match(accepted.streamId, /^[\w-]+$/);
    assert.equal(accepted.statusUrl, `/media/jobs/${accepted.jobId}`);
    const job = await waitForJob(accepted.statusUrl);
    assert.equal(job.status, "succeeded", JSON.stringify(job.error));
    assert.equal(job.progress, 1);
    assert.equal(job.streamUrl, `/media/video/${accepted.streamId}/master.m3u8`);
    assert.equal(job.streamUrl, accepted.streamUrl);
    assert.deepEqual(
      job.renditions.map((r) => [r.name, r.width, r.height, r.playlistUrl]),
      [
        ["low", 256, 128, `/media/video/${accepted.streamId}/low/index.m3u8`],
        ["high", 512, 256, `/media/video/${accepted.streamId}/high/index.m3u8`],
      ],
    );
    firstStream = job;
    assert.ok(finished.some((j) => j.id === job.id && j.status === "succeeded"));

    const master = await fetch(`${base}${job.streamUrl}`);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get("content-type"), "application/vnd.apple.mpegurl");
    assert.equal(master.headers.get("cache-control"), "public, max-age=60");
    const variants = parseMasterPlaylist(await master.text());
    assert.equal(variants.length, pipeline.config.ladder.length);
    for (const [i, rung] of pipeline.config.ladder.entries()) {
      const v = variants[i];
      assert.equal(v?.uri, `${rung.name}/index.m3u8`);
      assert.equal(v?.attributes.RESOLUTION, `${rung.width}x${rung.height}`);
      assert.ok(Number(v?.attributes.BANDWIDTH) > 0);
    }

    const perRung: number[][] = [];
    for (const v of variants) {
      const url = `${base}/media/video/${accepted.streamId}/${v.uri}`;
      const pl = await fetch(url);
      assert.equal(pl.headers.get("content-type"), "application/vnd.apple.mpegurl");
      const playlist = parseMediaPlaylist(await pl.text());
      assert.equal(playlist.endList, true);
      const folder = url.slice(0, url.lastIndexOf("/"));
      const init = await fetch(`${folder}/${playlist.map}`);
      assert.equal(init.status, 200);
      assert.equal(init.headers.get("content-type"), "video/mp4");
      await init.arrayBuffer();
      for (const s of playlist.segments) {
        const seg = await fetch(`${folder}/${s.uri}`);
        assert.equal(seg.status, 200);
        assert.equal(seg.headers.get("content-type"), "video/iso.segment");
        assert.equal(seg.headers.get("cache-control"), "public, max-age=31536000, immutable");
        assert.ok((await seg.arrayBuffer()).byteLength > 0);
      }
      perRung.push(playlist.segments.map((s) => s.durationS));
    }
    assert.equal(perRung[0]?.length, 3);
    assert.deepEqual(perRung[0], perRung[1], "segments aligned across renditions");

    const segUrl = `${base}/media/video/${accepted.streamId}/high/seg_00000.m4s`;
    const ranged = await fetch(segUrl, { headers: { range: "bytes=0-99" } });
    assert.equal(ranged.status, 206);
    assert.match(ranged.headers.get("content-range") ?? "", /^bytes 0-99\/\d+$/);
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);
    const beyond = await fetch(segUrl, { headers: { range: "bytes=99999999-" } });
    assert.equal(beyond.status, 416);
    assert.equal(((await beyond.json()) as ErrorBody).error.code, "range_not_satisfiable");
    const head = await fetch(segUrl, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get("content-length")) > 100);

    const manifest = await fetch(`${base}/media/video/${accepted.streamId}/stream.json`);
    assert.match(manifest.headers.get("content-type") ?? "", /^application\/json/);
    const m = (await manifest.json()) as { projection: { type: string; hFovDeg: number } };
    assert.equal(m.projection.type, "equirectangular");
    assert.equal(m.projection.hFovDeg, 90);
    assert.deepEqual(await uploadsLeft(), []);
  });

  it("accepts a multipart upload (MPEG-4 with audio)", async () => {
    const form = new FormData();
    form.append("note", "a field before the file is skipped");
    form.append(
      "file",
      new Blob([await readFile(clips.mpeg4Audio)], { type: "video/mp4" }),
      "clip.mp4",
    );
    const res = await fetch(`${base}/media/video`, { method: "POST", body: form });
    assert.equal(res.status, 202, await res.clone().text());
    const { statusUrl } = (await res.json()) as { statusUrl: string };
    const job = await waitForJob(statusUrl);
    assert.equal(job.status, "succeeded", JSON.stringify(job.error));
    assert.equal(job.source.codec, "mpeg4");
    const master = await (await fetch(`${base}${job.streamUrl}`)).text();
    assert.match(master, /CODECS="avc1\.[0-9A-F]{6},mp4a\.40\.2"/);
  });

  it("refuses bad files with a 4xx JSON reason and keeps no file", async () => {
    const cases: [string, string, number, string, RegExp][] = [
      [clips.random, "application/octet-stream", 400, "not_media", /not a media file/],
      [clips.truncated, "video/mp4", 400, "corrupt_media", /truncated|damaged/],
      [clips.truncatedFaststart, "video/mp4", 400, "corrupt_media", /truncated|damaged/],
      [clips.ffv1, "video/x-matroska", 415, "unsupported_codec", /"ffv1"/],
      [clips.prores, "video/quicktime", 415, "unsupported_codec", /"prores"/],
      [clips.audioOnly, "video/mp4", 400, "no_video_stream", /no video stream/],
    ];
    for (const [file, type, status, code, message] of cases) {
      const res = await upload(await readFile(file), type);
      const body = (await res.json()) as ErrorBody;
      assert.equal(res.status, status, `${file}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, code, file);
      assert.match(body.error.message, message, file);
    }
    const text = await upload("hello", "text/plain");
    assert.equal(text.status, 415);
    assert.equal(((await text.json()) as ErrorBody).error.code, "unsupported_media_type");
    const empty = await upload(Buffer.alloc(0));
    assert.equal(empty.status, 400);
    assert.equal(((await empty.json()) as ErrorBody).error.code, "empty");
    const form = new FormData();
    form.append("only", "fields");
    const noFile = await fetch(`${base}/media/video`, { method: "POST", body: form });
    assert.equal(noFile.status, 400);
    assert.equal(((await noFile.json()) as ErrorBody).error.code, "no_file");
    assert.deepEqual(await uploadsLeft(), []);
  });

  it("answers 413 past the upload limit, however it is sent, and keeps no partial file", async () => {
    const big = Buffer.alloc(MAX_UPLOAD + 100_000, 7);
    // Declared length: refused before reading.
    const declared = await upload(big);
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as ErrorBody).error.code, "too_large");

    // Chunked, no length: refused while streaming.
    const chunks = Array.from({ length: 40 }, () => new Uint8Array(10_000));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const c = chunks.shift();
        if (c) controller.enqueue(c);
        else controller.close();
      },
    });
    const streamed = await fetch(`${base}/media/video`, {
      method: "POST",
      headers: { "content-type": "video/mp4" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.equal(((await streamed.json()) as ErrorBody).error.code, "too_large");

    const form = new FormData();
    form.append("file", new Blob([big], { type: "video/mp4" }), "big.mp4");
    const multipart = await fetch(`${base}/media/video`, { method: "POST", body: form });
    assert.equal(multipart.status, 413);
    assert.deepEqual(await uploadsLeft(), []);

    // The server is still fine.
    const ok = await fetch(`${base}/media/jobs/${firstStream.id}`);
    assert.equal(ok.status, 200);
  });

  it("keeps serving the previous stream when a job fails", async () => {
    const res = await upload(await readFile(clips.garbagePayload));
    assert.equal(res.status, 202, "it probes fine; only decoding fails");
    const { statusUrl, streamUrl } = (await res.json()) as { statusUrl: string; streamUrl: string };
    const job = await waitForJob(statusUrl);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.code, "transcode_failed");
    assert.match(job.error?.message ?? "", /ffmpeg failed/);
    assert.doesNotMatch(job.error?.message ?? "", new RegExp(pipeline.config.mediaDir));
    assert.equal(job.streamUrl, null);
    assert.ok(finished.some((j) => j.id === job.id && j.status === "failed"));

    assert.equal((await fetch(`${base}${streamUrl}`)).status, 404);
    const previous = await fetch(`${base}${firstStream.streamUrl}`);
    assert.equal(previous.status, 200);
    assert.equal(parseMasterPlaylist(await previous.text()).length, 2);
    assert.deepEqual(await readdir(pipeline.config.tmpDir), []);
    assert.deepEqual(await uploadsLeft(), []);
  });

  it("serves nothing outside the streams and lists no folders", async () => {
    const id = firstStream.streamId;
    const paths = [
      `/media/video/${id}`,
      `/media/video/${id}/`,
      `/media/video/${id}/low/`,
      `/media/video/${id}/../../../etc/passwd`,
      `/media/video/${id}/..%2F..%2F..%2Fetc%2Fpasswd`,
      `/media/video/${id}/%2e%2e/%2e%2e/x.m3u8`,
      `/media/video/${id}/low/..%2Fmaster.m3u8`,
      `/media/video/${id}/.hidden.m3u8`,
      `/media/video/${id}/master.txt`,
      `/media/video/${id}/a/b/seg_00000.m4s`,
      `/media/video/.tmp/x/master.m3u8`,
      `/media/video/.uploads/x.upload`,
      `/media/video/nope/master.m3u8`,
      `/media/live/${id}/master.m3u8`,
    ];
    for (const p of paths) {
      const res = await rawGet(port, p);
      assert.equal(res.status, 404, p);
      assert.equal((JSON.parse(res.body) as ErrorBody).error.code, "not_found", p);
    }
  });

  it("reports unknown jobs and refuses to cancel finished ones", async () => {
    assert.equal((await fetch(`${base}/media/jobs/nope`)).status, 404);
    const res = await fetch(`${base}/media/jobs/${firstStream.id}`, { method: "DELETE" });
    assert.equal(res.status, 409);
  });
});
