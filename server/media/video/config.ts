/**
 * Options of the 360° video pipeline: a plain object the composition root fills (from the
 * environment, see `videoOptionsFromEnv` in server/config-video.ts), checked once by `resolveVideoConfig` into a
 * complete, frozen `VideoConfig`. ffmpeg and ffprobe are found on PATH unless configured;
 * a missing one is a startup error that names the variable to set.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { z } from "zod";
import { VIDEO_LADDER, type VideoRung } from "../../../shared/video-ladder.ts";
import {
  DEFAULT_ACCEPTED_CODECS,
  type ProjectionMapping,
  type SegmentFormat,
  type VideoPipelineOptions,
  type X264Preset,
  X264_PRESETS,
} from "../../config-video.ts";
import { FfmpegMissingError, VideoConfigError } from "./errors.ts";

/** A tiny ladder for tests and smoke runs (seconds per clip on two slow cores). */
export const TEST_LADDER: readonly VideoRung[] = Object.freeze([
  { name: "low", width: 256, height: 128, bitrateBps: 300e3 },
  { name: "high", width: 512, height: 256, bitrateBps: 800e3 },
]);

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
  readonly threads: number;
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
  ladder: LadderSchema.default(() => VIDEO_LADDER.map((r) => ({ ...r }))),
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
  threads: int(0, 256).default(0),
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
