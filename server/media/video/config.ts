/**
 * Options of the 360° video pipeline: a plain object the composition root fills (from the
 * environment, see `videoOptionsFromEnv`), checked once by `resolveVideoConfig` into a
 * complete, frozen `VideoConfig`. ffmpeg and ffprobe are found on PATH unless configured;
 * a missing one is a startup error that names the variable to set.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { FfmpegMissingError, VideoConfigError } from "./errors.ts";

/** One rendition of the equirectangular ladder. */
export interface VideoRung {
  /** Path-safe name, also the rendition name clients see, e.g. `4k`. */
  readonly name: string;
  /** Frame width, px (equirectangular: twice the height). */
  readonly width: number;
  /** Frame height, px. */
  readonly height: number;
  /** Nominal bitrate, bit/s: the encoder's maxrate (the VBV buffer holds 2 s of it). */
  readonly bitrateBps: number;
}

/** The product ladder: 2:1 equirectangular, 1080p to 8K. */
export const PRODUCT_LADDER: readonly VideoRung[] = Object.freeze([
  { name: "1080p", width: 1920, height: 960, bitrateBps: 8e6 },
  { name: "1440p", width: 2560, height: 1280, bitrateBps: 14e6 },
  { name: "4k", width: 3840, height: 1920, bitrateBps: 25e6 },
  { name: "6k", width: 5760, height: 2880, bitrateBps: 45e6 },
  { name: "8k", width: 7680, height: 3840, bitrateBps: 80e6 },
]);

/** A tiny ladder for tests and smoke runs (seconds per clip on two slow cores). */
export const TEST_LADDER: readonly VideoRung[] = Object.freeze([
  { name: "low", width: 256, height: 128, bitrateBps: 300e3 },
  { name: "high", width: 512, height: 256, bitrateBps: 800e3 },
]);

/** Video codecs (ffprobe `codec_name`) accepted for ingest. */
export const DEFAULT_ACCEPTED_CODECS: readonly string[] = Object.freeze([
  "h264",
  "hevc",
  "vp8",
  "vp9",
  "av1",
  "mpeg4",
  "mjpeg",
]);

/** libx264 presets, fastest first. */
export const X264_PRESETS = [
  "ultrafast",
  "superfast",
  "veryfast",
  "faster",
  "fast",
  "medium",
  "slow",
  "slower",
  "veryslow",
] as const;
export type X264Preset = (typeof X264_PRESETS)[number];

/**
 * How the 2D picture is put into the 360° frame.
 *  - `flat`: geometrically correct. The picture is a flat screen in front of the viewer
 *    (yaw 0, pitch 0, the centre of the equirectangular frame) spanning `fovDeg`
 *    horizontally (vertical from the picture's aspect), reprojected with ffmpeg's `v360`
 *    (`input=flat` → `output=equirect`); the rest of the sphere is black.
 *  - `pad`: fast approximation. The picture is scaled into the same angular window and
 *    padded; straight lines bend towards the window's edges (fine for small FOVs).
 */
export type ProjectionMapping = "flat" | "pad";

/** HLS segment container: fMP4 (`.m4s` + `init.mp4`, HLS v7) or MPEG-TS (`.ts`). */
export type SegmentFormat = "fmp4" | "mpegts";

/** What the composition root passes in; everything but `mediaDir` has a default. */
export interface VideoPipelineOptions {
  /** Root of the media folder (`DATA_DIR/media`); the pipeline uses `video/` and `live/`. */
  readonly mediaDir: string;
  /** ffmpeg executable (absolute path or a name looked up on PATH). Default `ffmpeg`. */
  readonly ffmpegPath?: string;
  /** ffprobe executable (absolute path or a name looked up on PATH). Default `ffprobe`. */
  readonly ffprobePath?: string;
  /** Largest accepted upload, bytes. Default 512 MiB. */
  readonly maxUploadBytes?: number;
  /** Uploads received at once; more get 503. Default 4. */
  readonly maxConcurrentUploads?: number;
  /** Rungs of the VOD ladder. Default `PRODUCT_LADDER`. */
  readonly ladder?: readonly VideoRung[];
  /** Rungs of the live ladder. Default: the two lowest rungs of `ladder`. */
  readonly liveLadder?: readonly VideoRung[];
  /** HLS segment duration, s (every rendition has a keyframe exactly there). Default 2. */
  readonly segmentDurationS?: number;
  /** HLS segment container. Default `fmp4`. */
  readonly segmentFormat?: SegmentFormat;
  /** libx264 preset of VOD jobs. Default `veryfast`. */
  readonly preset?: X264Preset;
  /** libx264 preset of live ingest (always with `-tune zerolatency`). Default `ultrafast`. */
  readonly livePreset?: X264Preset;
  /** libx264 constant rate factor (quality target under the rung's maxrate). Default 23. */
  readonly crf?: number;
  /** Highest output frame rate, frames/s; faster sources are reduced. Default 60. */
  readonly maxFps?: number;
  /** Horizontal field of view the 2D picture covers on the sphere, degrees. Default 90. */
  readonly fovDeg?: number;
  /** How the picture is put on the sphere (see `ProjectionMapping`). Default `flat`. */
  readonly mapping?: ProjectionMapping;
  /** Transcode jobs run at once. Default 1. */
  readonly maxConcurrentJobs?: number;
  /** Jobs waiting beyond the running ones; more are refused (`queue_full`). Default 8. */
  readonly maxQueuedJobs?: number;
  /** Finished jobs remembered for `GET /media/jobs/:id`. Default 100. */
  readonly keepFinishedJobs?: number;
  /** A job running longer is killed and failed, ms. Default 30 min. */
  readonly jobTimeoutMs?: number;
  /** ffprobe deadline, ms (it scans every packet to find truncation). Default 30 s. */
  readonly probeTimeoutMs?: number;
  /** Longest accepted clip, s. Default 600 (10 min). */
  readonly maxDurationS?: number;
  /** Accepted video codecs (ffprobe names). Default `DEFAULT_ACCEPTED_CODECS`. */
  readonly acceptedCodecs?: readonly string[];
  /** Keep the clip's first audio track (AAC in every rendition). Default true. */
  readonly audio?: boolean;
  /** AAC bitrate, bit/s. Default 128 000. */
  readonly audioBitrateBps?: number;
  /** Largest live JPEG frame, bytes; larger frames are rejected. Default 2 MiB. */
  readonly liveMaxFrameBytes?: number;
  /** Output frame rate of live streams, frames/s. Default 30. */
  readonly liveFps?: number;
  /** Segments kept in a live playlist (sliding window). Default 6. */
  readonly liveWindowSegments?: number;
  /** A live stream with no frame for this long stops itself, ms. Default 30 s. */
  readonly liveIdleTimeoutMs?: number;
}

/** The resolved configuration: every option present, executables absolute. */
export interface VideoConfig {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  readonly mediaDir: string;
  /** Finished VOD streams: `<videoDir>/<streamId>/master.m3u8`. */
  readonly videoDir: string;
  /** Live streams: `<liveDir>/<streamId>/master.m3u8`. */
  readonly liveDir: string;
  /** Uploads being received or waiting for their job (`video/.uploads`, never served). */
  readonly uploadsDir: string;
  /** Jobs' output while it is written (`video/.tmp`, never served). */
  readonly tmpDir: string;
  readonly maxUploadBytes: number;
  readonly maxConcurrentUploads: number;
  readonly ladder: readonly VideoRung[];
  readonly liveLadder: readonly VideoRung[];
  readonly segmentDurationS: number;
  readonly segmentFormat: SegmentFormat;
  readonly preset: X264Preset;
  readonly livePreset: X264Preset;
  readonly crf: number;
  readonly maxFps: number;
  readonly fovDeg: number;
  readonly mapping: ProjectionMapping;
  readonly maxConcurrentJobs: number;
  readonly maxQueuedJobs: number;
  readonly keepFinishedJobs: number;
  readonly jobTimeoutMs: number;
  readonly probeTimeoutMs: number;
  readonly maxDurationS: number;
  readonly acceptedCodecs: readonly string[];
  readonly audio: boolean;
  readonly audioBitrateBps: number;
  readonly liveMaxFrameBytes: number;
  readonly liveFps: number;
  readonly liveWindowSegments: number;
  readonly liveIdleTimeoutMs: number;
}

const RUNG_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/;

const RungSchema = z.object({
  name: z.string().regex(RUNG_NAME, "1–16 of A-Z a-z 0-9 _ -, starting with a letter or digit"),
  width: z.number().int().min(32).max(16384).multipleOf(2, "must be even"),
  height: z.number().int().min(16).max(8192).multipleOf(2, "must be even"),
  bitrateBps: z.number().min(10e3).max(1e9),
});

const LadderSchema = z
  .array(RungSchema)
  .min(1)
  .max(12)
  .superRefine((rungs, ctx) => {
    const seen = new Set<string>();
    for (const [i, r] of rungs.entries()) {
      if (seen.has(r.name)) ctx.addIssue({ code: "custom", path: [i], message: "duplicate name" });
      seen.add(r.name);
      if (r.width !== 2 * r.height) {
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `${r.name}: ${r.width}x${r.height} is not 2:1 equirectangular`,
        });
      }
    }
  });

const int = (min: number, max: number) => z.number().int().min(min).max(max);

const OptionsSchema = z.object({
  mediaDir: z.string().min(1),
  ffmpegPath: z.string().min(1).default("ffmpeg"),
  ffprobePath: z.string().min(1).default("ffprobe"),
  maxUploadBytes: int(1, 2 ** 46).default(512 * 1024 * 1024),
  maxConcurrentUploads: int(1, 256).default(4),
  ladder: LadderSchema.default(() => PRODUCT_LADDER.map((r) => ({ ...r }))),
  liveLadder: LadderSchema.optional(),
  segmentDurationS: z.number().min(0.5).max(30).default(2),
  segmentFormat: z.enum(["fmp4", "mpegts"]).default("fmp4"),
  preset: z.enum(X264_PRESETS).default("veryfast"),
  livePreset: z.enum(X264_PRESETS).default("ultrafast"),
  crf: z.number().min(0).max(51).default(23),
  maxFps: z.number().min(1).max(240).default(60),
  fovDeg: z.number().min(10).max(170).default(90),
  mapping: z.enum(["flat", "pad"]).default("flat"),
  maxConcurrentJobs: int(1, 64).default(1),
  maxQueuedJobs: int(0, 10_000).default(8),
  keepFinishedJobs: int(1, 100_000).default(100),
  jobTimeoutMs: int(1000, 24 * 3600 * 1000).default(30 * 60 * 1000),
  probeTimeoutMs: int(100, 600_000).default(30_000),
  maxDurationS: z
    .number()
    .min(0.1)
    .max(24 * 3600)
    .default(600),
  acceptedCodecs: z
    .array(z.string().regex(/^[a-z0-9_]+$/))
    .min(1)
    .default(() => [...DEFAULT_ACCEPTED_CODECS]),
  audio: z.boolean().default(true),
  audioBitrateBps: int(16_000, 512_000).default(128_000),
  liveMaxFrameBytes: int(1024, 64 * 1024 * 1024).default(2 * 1024 * 1024),
  liveFps: z.number().min(1).max(120).default(30),
  liveWindowSegments: int(2, 1000).default(6),
  liveIdleTimeoutMs: int(100, 24 * 3600 * 1000).default(30_000),
});

/**
 * Where an executable is: `name` itself when it contains a path separator (resolved
 * against the cwd), else the first executable file called `name` on `pathEnv`.
 * Null when there is none.
 */
export function findExecutable(name: string, pathEnv: string | undefined): string | null {
  const isFile = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes("/")) {
    const p = resolve(name);
    return isFile(p) ? p : null;
  }
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isFile(p)) return p;
  }
  return null;
}

/**
 * Checks `options`, applies the defaults and locates ffmpeg/ffprobe.
 * @throws VideoConfigError naming every bad option; FfmpegMissingError when an executable
 *   is not found (with the variable to set).
 */
export function resolveVideoConfig(
  options: VideoPipelineOptions,
  env: Record<string, string | undefined> = process.env,
): VideoConfig {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`);
    throw new VideoConfigError(`invalid video options:\n  ${lines.join("\n  ")}`, {
      cause: parsed.error,
    });
  }
  const o = parsed.data;
  const ffmpeg = findExecutable(o.ffmpegPath, env.PATH);
  if (!ffmpeg) {
    throw new FfmpegMissingError(
      `ffmpeg not found ("${o.ffmpegPath}"${o.ffmpegPath.includes("/") ? "" : " on PATH"}): ` +
        "install it (Debian: apt-get install ffmpeg) or set FFMPEG_PATH",
    );
  }
  const ffprobe = findExecutable(o.ffprobePath, env.PATH);
  if (!ffprobe) {
    throw new FfmpegMissingError(
      `ffprobe not found ("${o.ffprobePath}"${o.ffprobePath.includes("/") ? "" : " on PATH"}): ` +
        "install it (Debian: apt-get install ffmpeg) or set FFPROBE_PATH",
    );
  }
  const byWidth = (a: VideoRung, b: VideoRung) => a.width - b.width || a.bitrateBps - b.bitrateBps;
  const ladder = [...o.ladder].sort(byWidth);
  const liveLadder = [...(o.liveLadder ?? ladder.slice(0, 2))].sort(byWidth);
  const mediaDir = resolve(o.mediaDir);
  return Object.freeze({
    ...o,
    ffmpegPath: ffmpeg,
    ffprobePath: ffprobe,
    mediaDir,
    videoDir: join(mediaDir, "video"),
    liveDir: join(mediaDir, "live"),
    // Dot folders inside video/: on the same file system as the streams (publishing is a
    // rename), never served (stream ids cannot start with a dot), and apart from the
    // folders other media (reconstructed scenes) keep under the same media root.
    uploadsDir: join(mediaDir, "video", ".uploads"),
    tmpDir: join(mediaDir, "video", ".tmp"),
    ladder: Object.freeze(ladder.map((r) => Object.freeze({ ...r }))),
    liveLadder: Object.freeze(liveLadder.map((r) => Object.freeze({ ...r }))),
    acceptedCodecs: Object.freeze([...o.acceptedCodecs]),
  });
}

/**
 * Parses a ladder spec: comma-separated `name:WIDTHxHEIGHT:BITRATE`, the bitrate in bit/s
 * with an optional `k` or `M` suffix, e.g. `1080p:1920x960:8M,4k:3840x1920:25M`.
 * @throws VideoConfigError on a malformed entry (the shape of each rung is checked later
 *   by `resolveVideoConfig`).
 */
export function parseLadder(spec: string): VideoRung[] {
  const rungs: VideoRung[] = [];
  for (const raw of spec.split(",")) {
    const item = raw.trim();
    if (!item) continue;
    const m = /^([^:\s]+):(\d+)x(\d+):(\d+(?:\.\d+)?)([kKmM]?)$/.exec(item);
    if (!m) {
      throw new VideoConfigError(
        `bad ladder entry "${item}": expected name:WIDTHxHEIGHT:BITRATE (e.g. 4k:3840x1920:25M)`,
      );
    }
    const [, name = "", w = "0", h = "0", rate = "0", unit = ""] = m;
    const scale = unit.toLowerCase() === "k" ? 1e3 : unit.toLowerCase() === "m" ? 1e6 : 1;
    rungs.push({ name, width: Number(w), height: Number(h), bitrateBps: Number(rate) * scale });
  }
  if (rungs.length === 0) throw new VideoConfigError("ladder spec is empty");
  return rungs;
}

/**
 * The environment variables of the video pipeline, as options (unset ones are left to
 * the defaults). `dataDir` is the server's resolved `DATA_DIR`; the media folder is
 * `MEDIA_DIR` (relative to the cwd) or `<dataDir>/media`.
 *
 * FFMPEG_PATH, FFPROBE_PATH, MEDIA_DIR, VIDEO_MAX_UPLOAD_BYTES, VIDEO_MAX_CONCURRENT_UPLOADS,
 * VIDEO_LADDER, VIDEO_LIVE_LADDER, VIDEO_SEGMENT_S, VIDEO_SEGMENT_FORMAT, VIDEO_PRESET,
 * VIDEO_LIVE_PRESET, VIDEO_CRF, VIDEO_MAX_FPS, VIDEO_FOV_DEG, VIDEO_MAPPING,
 * VIDEO_MAX_CONCURRENT_JOBS, VIDEO_MAX_QUEUED_JOBS, VIDEO_JOB_TIMEOUT_S,
 * VIDEO_PROBE_TIMEOUT_MS, VIDEO_MAX_DURATION_S, VIDEO_CODECS, VIDEO_AUDIO,
 * VIDEO_LIVE_MAX_FRAME_BYTES, VIDEO_LIVE_FPS, VIDEO_LIVE_WINDOW_SEGMENTS,
 * VIDEO_LIVE_IDLE_S.
 *
 * Numbers are converted here; ranges are checked by `resolveVideoConfig`.
 * @throws VideoConfigError naming the variable of a value that is not a number/boolean.
 */
export function videoOptionsFromEnv(
  env: Record<string, string | undefined>,
  dataDir: string,
): VideoPipelineOptions {
  const get = (k: string) => {
    const v = env[k]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const num = (k: string, scale = 1): number | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new VideoConfigError(`${k}: "${v}" is not a number`);
    return n * scale;
  };
  const bool = (k: string): boolean | undefined => {
    const v = get(k)?.toLowerCase();
    if (v === undefined) return undefined;
    if (["true", "1", "yes"].includes(v)) return true;
    if (["false", "0", "no"].includes(v)) return false;
    throw new VideoConfigError(`${k}: "${v}" is not a boolean`);
  };
  const mediaDir = get("MEDIA_DIR");
  const entries: Record<string, unknown> = {
    mediaDir: mediaDir
      ? isAbsolute(mediaDir)
        ? mediaDir
        : resolve(mediaDir)
      : join(dataDir, "media"),
    ffmpegPath: get("FFMPEG_PATH"),
    ffprobePath: get("FFPROBE_PATH"),
    maxUploadBytes: num("VIDEO_MAX_UPLOAD_BYTES"),
    maxConcurrentUploads: num("VIDEO_MAX_CONCURRENT_UPLOADS"),
    ladder: get("VIDEO_LADDER") !== undefined ? parseLadder(get("VIDEO_LADDER") ?? "") : undefined,
    liveLadder:
      get("VIDEO_LIVE_LADDER") !== undefined
        ? parseLadder(get("VIDEO_LIVE_LADDER") ?? "")
        : undefined,
    segmentDurationS: num("VIDEO_SEGMENT_S"),
    segmentFormat: get("VIDEO_SEGMENT_FORMAT"),
    preset: get("VIDEO_PRESET"),
    livePreset: get("VIDEO_LIVE_PRESET"),
    crf: num("VIDEO_CRF"),
    maxFps: num("VIDEO_MAX_FPS"),
    fovDeg: num("VIDEO_FOV_DEG"),
    mapping: get("VIDEO_MAPPING"),
    maxConcurrentJobs: num("VIDEO_MAX_CONCURRENT_JOBS"),
    maxQueuedJobs: num("VIDEO_MAX_QUEUED_JOBS"),
    jobTimeoutMs: num("VIDEO_JOB_TIMEOUT_S", 1000),
    probeTimeoutMs: num("VIDEO_PROBE_TIMEOUT_MS"),
    maxDurationS: num("VIDEO_MAX_DURATION_S"),
    acceptedCodecs: get("VIDEO_CODECS")
      ?.split(",")
      .map((c) => c.trim().toLowerCase())
      .filter(Boolean),
    audio: bool("VIDEO_AUDIO"),
    liveMaxFrameBytes: num("VIDEO_LIVE_MAX_FRAME_BYTES"),
    liveFps: num("VIDEO_LIVE_FPS"),
    liveWindowSegments: num("VIDEO_LIVE_WINDOW_SEGMENTS"),
    liveIdleTimeoutMs: num("VIDEO_LIVE_IDLE_S", 1000),
  };
  // Leave unset variables out so the schema's defaults apply; the schema checks the types.
  return Object.fromEntries(
    Object.entries(entries).filter(([, v]) => v !== undefined),
  ) as unknown as VideoPipelineOptions;
}
