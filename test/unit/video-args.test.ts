/**
 * The video pipeline's pure parts: options and ladder parsing, where the 2D picture lands
 * in each equirectangular rung, the ffmpeg command line (aligned keyframes, HLS options),
 * HLS playlists and codec strings, bounded output buffers, JPEG headers.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatLadderSpec, parseLadderSpec, VIDEO_LADDER } from "../../shared/video-ladder.ts";
import { VideoOptionsError, videoOptionsFromEnv } from "../../server/config-video.ts";
import {
  findExecutable,
  resolveVideoConfig,
  TEST_LADDER,
} from "../../server/media/video/config.ts";
import { FfmpegMissingError, VideoConfigError } from "../../server/media/video/errors.ts";
import {
  hlsArgs,
  keyint,
  ladderFilterGraph,
  outputFps,
  pictureFov,
  placement,
  transcodeArgs,
} from "../../server/media/video/ffmpeg-args.ts";
import {
  avcCodecFromAnnexB,
  avcCodecFromInit,
  parseMasterPlaylist,
  parseMediaPlaylist,
  renderMasterPlaylist,
} from "../../server/media/video/hls.ts";
import { jpegSize } from "../../server/media/video/live-ingest.ts";
import { LineSplitter, TailBuffer } from "../../server/media/video/process.ts";
import { interpretProbe, parseRate } from "../../server/media/video/probe.ts";

const rad = (d: number) => (d * Math.PI) / 180;

describe("video options", () => {
  it("defaults to the product ladder, sorted, with ffmpeg found on PATH", () => {
    const c = resolveVideoConfig({ mediaDir: "/tmp/media-x" });
    assert.deepEqual(
      c.ladder.map((r) => r.name),
      ["1080p", "1440p", "4k", "6k", "8k"],
    );
    assert.equal(c.ladder[4]?.width, 7680);
    assert.equal(c.ladder[4]?.bitrateBps, 80e6);
    assert.deepEqual(
      c.liveLadder.map((r) => r.name),
      ["1080p", "1440p"],
    );
    assert.match(c.ffmpegPath, /\/ffmpeg$/);
    assert.match(c.ffprobePath, /\/ffprobe$/);
    assert.equal(c.maxUploadBytes, 512 * 1024 * 1024);
    assert.equal(c.segmentDurationS, 2);
    assert.equal(c.maxConcurrentJobs, 1);
    assert.equal(c.videoDir, "/tmp/media-x/video");
    assert.equal(c.tmpDir, "/tmp/media-x/video/.tmp");
  });

  it("says which executable is missing and what to set", () => {
    assert.throws(
      () => resolveVideoConfig({ mediaDir: "/tmp/m" }, { PATH: "/nonexistent" }),
      (err: unknown) =>
        err instanceof FfmpegMissingError &&
        err.code === "ffmpeg_missing" &&
        /ffmpeg not found .*FFMPEG_PATH/.test(err.message),
    );
    assert.throws(
      () => resolveVideoConfig({ mediaDir: "/tmp/m", ffprobePath: "/no/such/ffprobe" }),
      /ffprobe not found \("\/no\/such\/ffprobe"\).*FFPROBE_PATH/,
    );
  });

  it("finds executables only when they are executable files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "video-exe-"));
    await writeFile(join(dir, "tool"), "#!/bin/sh\n");
    assert.equal(findExecutable("tool", dir), null);
    await chmod(join(dir, "tool"), 0o755);
    assert.equal(findExecutable("tool", `/nonexistent:${dir}`), join(dir, "tool"));
    assert.equal(findExecutable(dir, undefined), null);
  });

  it("refuses a bad ladder naming every problem", () => {
    assert.throws(
      () =>
        resolveVideoConfig({
          mediaDir: "/tmp/m",
          ladder: [
            { name: "a", width: 640, height: 480, bitrateBps: 1e6 },
            { name: "a", width: 513, height: 256, bitrateBps: 1e6 },
            { name: "../x", width: 512, height: 256, bitrateBps: 1e6 },
          ],
        }),
      (err: unknown) =>
        err instanceof VideoConfigError &&
        /not 2:1/.test(err.message) &&
        /duplicate/.test(err.message) &&
        /must be even/.test(err.message) &&
        /ladder\.2\.name/.test(err.message),
    );
    assert.throws(
      () => resolveVideoConfig({ mediaDir: "/tmp/m", segmentDurationS: 0 }),
      /segmentDurationS/,
    );
  });

  it("parses ladder specs and environment variables", () => {
    assert.deepEqual(parseLadderSpec("low:256x128:300k, high:512x256:0.8M"), [
      { name: "low", width: 256, height: 128, bitrateBps: 300e3 },
      { name: "high", width: 512, height: 256, bitrateBps: 800e3 },
    ]);
    assert.throws(() => parseLadderSpec("4k:3840*1920:25M"), /name:WIDTHxHEIGHT:BITRATE/);
    assert.deepEqual(parseLadderSpec(formatLadderSpec(VIDEO_LADDER)), VIDEO_LADDER);
    const opts = videoOptionsFromEnv(
      {
        VIDEO_LADDER: "a:512x256:1M",
        VIDEO_SEGMENT_S: "4",
        VIDEO_JOB_TIMEOUT_S: "90",
        VIDEO_AUDIO: "no",
        VIDEO_CODECS: "h264, HEVC",
        VIDEO_MAX_UPLOAD_BYTES: "",
      },
      "/srv/data",
    );
    assert.equal(opts.mediaDir, "/srv/data/media");
    assert.equal(opts.segmentDurationS, 4);
    assert.equal(opts.jobTimeoutMs, 90_000);
    assert.equal(opts.audio, false);
    assert.deepEqual(opts.acceptedCodecs, ["h264", "hevc"]);
    assert.equal("maxUploadBytes" in opts, false);
    assert.equal(resolveVideoConfig(opts).ladder[0]?.name, "a");
    assert.throws(() => videoOptionsFromEnv({ VIDEO_CRF: "high" }, "/d"), /VIDEO_CRF/);
    assert.throws(
      () => videoOptionsFromEnv({ VIDEO_LIVE_LADDER: "4k:3840*1920" }, "/d"),
      (err: unknown) =>
        err instanceof VideoOptionsError && /^VIDEO_LIVE_LADDER: bad/.test(err.message),
    );
  });
});

describe("projection of the 2D picture", () => {
  it("keeps a 4:3 picture at the configured FOV, centred in every product rung", () => {
    const fov = pictureFov({ width: 320, height: 240 }, 90);
    assert.ok(Math.abs(fov.hFovDeg - 90) < 1e-9);
    // Rectilinear: tan(v/2) = tan(h/2)·3/4.
    assert.ok(Math.abs(Math.tan(rad(fov.vFovDeg / 2)) - 0.75) < 1e-9);
    for (const rung of VIDEO_LADDER) {
      const p = placement(rung, { width: 320, height: 240 }, 90, "flat");
      assert.equal(p.x * 2 + p.windowWidth, rung.width, rung.name);
      assert.equal(p.y * 2 + p.windowHeight, rung.height, rung.name);
      for (const v of [p.x, p.y, p.windowWidth, p.windowHeight, p.contentWidth, p.canvasHeight]) {
        assert.equal(v % 2, 0, `${rung.name}: ${v} is odd`);
      }
      // The window covers the picture's angles to within a pixel.
      assert.ok(Math.abs(p.hFovDeg - 90) <= 360 / rung.width + 1e-9);
      assert.ok(Math.abs(p.vFovDeg - fov.vFovDeg) <= 360 / rung.height);
      // About one source pixel per output pixel at the centre: W·tan(h/2)/π.
      assert.ok(Math.abs(p.contentWidth - rung.width / Math.PI) <= 2);
      // The padded canvas reaches the window's corners (lon h/2, lat v/2).
      const needed = Math.tan(rad(p.vFovDeg / 2)) / Math.cos(rad(p.hFovDeg / 2));
      assert.ok(Math.tan(rad(p.inputVFovDeg / 2)) >= needed, rung.name);
    }
  });

  it("narrows a very tall picture to the vertical limit", () => {
    const fov = pictureFov({ width: 100, height: 1000 }, 120);
    assert.ok(Math.abs(fov.vFovDeg - 150) < 1e-9);
    // Same aspect: tan(h/2) = tan(75°)/10.
    assert.ok(Math.abs(Math.tan(rad(fov.hFovDeg / 2)) - Math.tan(rad(75)) / 10) < 1e-9);
  });

  it("pads (no v360) in the fast mapping", () => {
    const g = ladderFilterGraph(
      TEST_LADDER,
      { width: 320, height: 240 },
      {
        fpsExpr: "30",
        fovDeg: 90,
        mapping: "pad",
      },
    );
    assert.doesNotMatch(g, /v360/);
    const f = ladderFilterGraph(
      TEST_LADDER,
      { width: 320, height: 240 },
      {
        fpsExpr: "30",
        fovDeg: 90,
        mapping: "flat",
      },
    );
    assert.match(f, /^\[0:v:0\]fps=30,format=yuv420p,split=2\[s0\]\[s1\];/);
    assert.match(
      f,
      /\[s0\]scale=\d+:\d+:flags=bicubic,pad=[^;]*v360=input=flat:output=equirect:[^;]*w=64:h=52[^;]*pad=256:128:96:38/,
    );
  });
});

describe("ffmpeg command line", () => {
  it("keeps NTSC rates exact and caps the rate", () => {
    assert.deepEqual(outputFps(29.97002997, 60), { value: 30000 / 1001, expr: "30000/1001" });
    assert.deepEqual(outputFps(25, 60), { value: 25, expr: "25" });
    assert.deepEqual(outputFps(120, 60), { value: 60, expr: "60" });
    assert.equal(keyint(30, 2), 60);
    assert.equal(keyint(30000 / 1001, 2), 60);
  });

  it("gives every rendition the same keyframe schedule and no scene-cut keyframes", () => {
    const { args, fps } = transcodeArgs({
      input: "/in.mp4",
      outDir: "/out",
      rungs: VIDEO_LADDER,
      source: { width: 1920, height: 1080, fps: 30, hasAudio: true },
      maxFps: 60,
      fovDeg: 90,
      mapping: "flat",
      preset: "veryfast",
      crf: 23,
      segmentDurationS: 2,
      segmentFormat: "fmp4",
      audioBitrateBps: 128_000,
    });
    assert.equal(fps, 30);
    const all = args.join(" ");
    const count = (re: RegExp) => all.match(re)?.length ?? 0;
    assert.equal(count(/-c:v libx264/g), 5);
    assert.equal(count(/-g 60 -keyint_min 60 -sc_threshold 0/g), 5);
    assert.equal(count(/-force_key_frames expr:gte\(t,n_forced\*2\)/g), 5);
    assert.equal(count(/-hls_playlist_type vod/g), 5);
    assert.equal(count(/-map 0:a:0/g), 5);
    assert.match(all, /-maxrate 80000000 -bufsize 160000000/);
    assert.match(all, /-progress pipe:1/);
    assert.match(all, /-hls_segment_filename \/out\/8k\/seg_%05d\.m4s \/out\/8k\/index\.m3u8/);
  });

  it("writes live playlists as a sliding window of temp-file segments", () => {
    const a = hlsArgs(
      "/live/x",
      { segmentDurationS: 2, segmentFormat: "mpegts" },
      {
        kind: "live",
        windowSegments: 6,
      },
    ).join(" ");
    assert.match(a, /-hls_list_size 6/);
    assert.match(a, /delete_segments/);
    assert.match(a, /temp_file/);
    assert.doesNotMatch(a, /playlist_type/);
    assert.match(a, /seg_%05d\.ts/);
  });
});

describe("HLS text and bytes", () => {
  it("writes and reads back a master playlist", () => {
    const text = renderMasterPlaylist([
      {
        uri: "low/index.m3u8",
        bandwidthBps: 300_123.4,
        averageBandwidthBps: 200_000,
        width: 256,
        height: 128,
        frameRate: 30,
        codecs: "avc1.640015,mp4a.40.2",
      },
    ]);
    assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:7\n/);
    const [v] = parseMasterPlaylist(text);
    assert.equal(v?.uri, "low/index.m3u8");
    assert.deepEqual(v?.attributes, {
      BANDWIDTH: "300123",
      "AVERAGE-BANDWIDTH": "200000",
      RESOLUTION: "256x128",
      "FRAME-RATE": "30.000",
      CODECS: "avc1.640015,mp4a.40.2",
    });
  });

  it("parses a media playlist", () => {
    const pl = parseMediaPlaylist(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:4",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        '#EXT-X-MAP:URI="init.mp4"',
        "#EXTINF:2.000000,",
        "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000+0000",
        "seg_00000.m4s",
        "#EXTINF:1.5,",
        "seg_00001.m4s",
        "#EXT-X-ENDLIST",
      ].join("\n"),
    );
    assert.equal(pl.mediaSequence, 4);
    assert.equal(pl.map, "init.mp4");
    assert.equal(pl.endList, true);
    assert.deepEqual(pl.segments, [
      { uri: "seg_00000.m4s", durationS: 2 },
      { uri: "seg_00001.m4s", durationS: 1.5 },
    ]);
    assert.throws(() => parseMediaPlaylist("<html>"), /not an HLS playlist/);
  });

  it("reads the H.264 codec string from avcC and from an SPS", () => {
    const init = Buffer.concat([Buffer.from("....avcC"), Buffer.from([1, 0x64, 0x00, 0x1f, 0xff])]);
    assert.equal(avcCodecFromInit(init), "avc1.64001F");
    assert.equal(avcCodecFromInit(Buffer.from("nothing here")), null);
    const ts = Buffer.from([
      0x47, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x28, 0xaa,
    ]);
    assert.equal(avcCodecFromAnnexB(ts), "avc1.4D4028");
  });
});

describe("bounded buffers", () => {
  it("keeps only the tail of stderr, from a line start", () => {
    const t = new TailBuffer(32);
    for (let i = 0; i < 1000; i++) t.push(Buffer.from(`line ${i}\n`));
    const s = t.toString();
    assert.ok(s.length <= 32);
    assert.match(s, /^line \d+\n/);
    assert.match(s, /line 999\n$/);
    assert.equal(t.totalBytes > 5000, true);
  });

  it("splits lines across chunks and drops an endless line", () => {
    const lines: string[] = [];
    const ls = new LineSplitter((l) => lines.push(l), 16);
    ls.push(Buffer.from("a=1\r\nb="));
    ls.push(Buffer.from("2\n"));
    ls.push(Buffer.from("x".repeat(100)));
    ls.push(Buffer.from("yyy\nc=3\n"));
    assert.deepEqual(lines, ["a=1", "b=2", "c=3"]);
  });
});

describe("probe interpretation", () => {
  const policy = { acceptedCodecs: ["h264"], maxDurationS: 60 };
  const base = {
    format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "3.0" },
    streams: [
      {
        codec_type: "video",
        codec_name: "h264",
        width: 1920,
        height: 1080,
        avg_frame_rate: "30000/1001",
        duration: "3.0",
        nb_frames: "90",
        nb_read_packets: "90",
        side_data_list: [{ rotation: -90 }],
      },
    ],
  };

  it("reads size (rotated), rate and duration", () => {
    const p = interpretProbe(base, "", policy);
    assert.equal(p.width, 1080);
    assert.equal(p.height, 1920);
    assert.equal(p.rotationDeg, 270);
    assert.ok(Math.abs(p.fps - 29.97) < 0.01);
    assert.equal(p.hasAudio, false);
    assert.equal(parseRate("0/0"), Number.NaN);
  });

  it("ignores cover art and reports a cut file by its packet count", () => {
    const art = {
      ...base,
      streams: [{ codec_type: "video", codec_name: "mjpeg", disposition: { attached_pic: 1 } }],
    };
    assert.throws(() => interpretProbe(art, "", policy), { code: "no_video_stream" });
    const cut = { ...base, streams: [{ ...base.streams[0], nb_read_packets: "40" }] };
    assert.throws(() => interpretProbe(cut, "", policy), { code: "corrupt_media" });
  });
});

describe("JPEG header", () => {
  it("reads the frame size from SOF0 past other segments", () => {
    const app0 = [0xff, 0xe0, 0x00, 0x04, 0x00, 0x00];
    const sof0 = [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0xf0, 0x01, 0x40, 0x01, 0x01, 0x11, 0x00];
    const jpeg = Buffer.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
    assert.deepEqual(jpegSize(jpeg), { width: 320, height: 240 });
    assert.equal(jpegSize(Buffer.from("not a jpeg")), null);
  });
});
