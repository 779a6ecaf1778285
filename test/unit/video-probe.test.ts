/**
 * ffprobe on real files made by ffmpeg: accepted clips come back with their figures, and
 * every unusable file is the typed error that says why.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ACCEPTED_CODECS } from "../../server/config-video.ts";
import { resolveVideoConfig } from "../../server/media/video/config.ts";
import {
  CorruptMediaError,
  NoVideoStreamError,
  NotMediaError,
  ProbeTimeoutError,
  TooLongError,
  UnsupportedCodecError,
} from "../../server/media/video/errors.ts";
import { probeVideo, type ProbeOptions } from "../../server/media/video/probe.ts";
import { type Clips, makeClips } from "../fixtures/video/clips.ts";

describe("probeVideo (real ffprobe)", () => {
  let dir: string;
  let clips: Clips;
  let opts: ProbeOptions;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "video-probe-"));
    clips = await makeClips(dir);
    const config = resolveVideoConfig({ mediaDir: dir });
    opts = {
      ffprobePath: config.ffprobePath,
      timeoutMs: 10_000,
      acceptedCodecs: DEFAULT_ACCEPTED_CODECS,
      maxDurationS: 600,
    };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads an H.264 clip", async () => {
    const p = await probeVideo(clips.h264, opts);
    assert.equal(p.codec, "h264");
    assert.equal(p.width, 320);
    assert.equal(p.height, 240);
    assert.equal(p.fps, 30);
    assert.ok(Math.abs(p.durationS - 3) < 0.05);
    assert.equal(p.hasVideo, true);
    assert.equal(p.hasAudio, false);
    assert.equal(p.frames, 90);
  });

  it("reads an MPEG-4 clip with audio", async () => {
    const p = await probeVideo(clips.mpeg4Audio, opts);
    assert.equal(p.codec, "mpeg4");
    assert.equal(p.fps, 25);
    assert.equal(p.hasAudio, true);
    assert.equal(p.audioCodec, "aac");
  });

  it("calls random bytes not media", async () => {
    await assert.rejects(probeVideo(clips.random, opts), NotMediaError);
  });

  it("calls a still picture not a clip", async () => {
    await assert.rejects(probeVideo(clips.still, opts), (err: unknown) => {
      assert.ok(err instanceof NotMediaError);
      assert.match(err.message, /still image/);
      return true;
    });
  });

  it("finds both kinds of truncation", async () => {
    // Index at the end: the index is gone.
    await assert.rejects(probeVideo(clips.truncated, opts), (err: unknown) => {
      assert.ok(err instanceof CorruptMediaError);
      assert.match(err.message, /truncated|damaged/);
      return true;
    });
    // Index at the front: it promises 90 frames, half the data is there.
    await assert.rejects(probeVideo(clips.truncatedFaststart, opts), CorruptMediaError);
  });

  it("names the unsupported codec", async () => {
    await assert.rejects(probeVideo(clips.ffv1, opts), (err: unknown) => {
      assert.ok(err instanceof UnsupportedCodecError);
      assert.equal(err.codec, "ffv1");
      assert.match(err.message, /"ffv1" is not supported \(accepted: h264, hevc/);
      return true;
    });
    await assert.rejects(probeVideo(clips.prores, opts), {
      code: "unsupported_codec",
      codec: "prores",
    });
  });

  it("refuses audio without video", async () => {
    await assert.rejects(probeVideo(clips.audioOnly, opts), (err: unknown) => {
      assert.ok(err instanceof NoVideoStreamError);
      assert.match(err.message, /streams: audio/);
      return true;
    });
  });

  it("refuses a clip over the maximum duration", async () => {
    await assert.rejects(probeVideo(clips.h264, { ...opts, maxDurationS: 2 }), (err: unknown) => {
      assert.ok(err instanceof TooLongError);
      assert.equal(err.maxDurationS, 2);
      return true;
    });
  });

  it("kills ffprobe at its timeout", async () => {
    // A FIFO nobody writes to: ffprobe blocks opening it until it is killed.
    const fifo = join(dir, "blocked.fifo");
    const { execFileSync } = await import("node:child_process");
    execFileSync("mkfifo", [fifo]);
    const started = performance.now();
    await assert.rejects(probeVideo(fifo, { ...opts, timeoutMs: 300 }), ProbeTimeoutError);
    assert.ok(performance.now() - started < 5000);
  });
});
