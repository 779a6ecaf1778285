/**
 * The video pipeline's options as configuration sees them: their types and defaults'
 * vocabularies, and `videoOptionsFromEnv`, which turns the `VIDEO_*` variables into those
 * options. It sits beside `config.ts` (read by every layer, importing only `shared/`) so
 * that config.ts need not import the pipeline; the pipeline (`server/media/video/config.ts`)
 * range-checks the options and applies the defaults when it starts.
 */
import { isAbsolute, join, resolve } from "node:path";
import { LadderSpecError, parseLadderSpec, type VideoRung } from "../shared/video-ladder.ts";

/** Video codecs (ffprobe `codec_name`) accepted for ingest by default. */
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
  /**
   * Rungs of the VOD ladder. Default the product ladder (`VIDEO_LADDER` of
   * shared/video-ladder.ts). A clip gets only the rungs its own resolution fills.
   */
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
  /**
   * Threads one VOD ffmpeg uses for decoding, filtering and encoding each, 0 for ffmpeg's
   * own choice (libx264: about 1.5 per core). Bounds a job's memory on many-core hosts,
   * where each libx264 frame thread holds its own frames. Default 0.
   */
  readonly threads?: number;
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

/** A `VIDEO_*` variable that is not a number, boolean or ladder spec; names the variable. */
export class VideoOptionsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VideoOptionsError";
  }
}

/**
 * The environment variables of the video pipeline, as options (unset ones are left to
 * the defaults). `dataDir` is the server's resolved `DATA_DIR`; the media folder is
 * `MEDIA_DIR` (relative to the cwd) or `<dataDir>/media`.
 *
 * FFMPEG_PATH, FFPROBE_PATH, MEDIA_DIR, VIDEO_MAX_UPLOAD_BYTES, VIDEO_MAX_CONCURRENT_UPLOADS,
 * VIDEO_LADDER, VIDEO_LIVE_LADDER, VIDEO_SEGMENT_S, VIDEO_SEGMENT_FORMAT, VIDEO_PRESET,
 * VIDEO_LIVE_PRESET, VIDEO_CRF, VIDEO_MAX_FPS, VIDEO_FOV_DEG, VIDEO_MAPPING,
 * VIDEO_MAX_CONCURRENT_JOBS, VIDEO_THREADS, VIDEO_MAX_QUEUED_JOBS, VIDEO_JOB_TIMEOUT_S,
 * VIDEO_PROBE_TIMEOUT_MS, VIDEO_MAX_DURATION_S, VIDEO_CODECS, VIDEO_AUDIO,
 * VIDEO_LIVE_MAX_FRAME_BYTES, VIDEO_LIVE_FPS, VIDEO_LIVE_WINDOW_SEGMENTS,
 * VIDEO_LIVE_IDLE_S.
 *
 * Numbers are converted here; ranges are checked by the pipeline (`resolveVideoConfig`).
 * @throws VideoOptionsError naming the variable of a value that is not a number, boolean
 *   or ladder spec.
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
    if (!Number.isFinite(n)) throw new VideoOptionsError(`${k}: "${v}" is not a number`);
    return n * scale;
  };
  const bool = (k: string): boolean | undefined => {
    const v = get(k)?.toLowerCase();
    if (v === undefined) return undefined;
    if (["true", "1", "yes"].includes(v)) return true;
    if (["false", "0", "no"].includes(v)) return false;
    throw new VideoOptionsError(`${k}: "${v}" is not a boolean`);
  };
  const ladder = (k: string): VideoRung[] | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    try {
      return parseLadderSpec(v);
    } catch (err) {
      if (err instanceof LadderSpecError) {
        throw new VideoOptionsError(`${k}: ${err.message}`, { cause: err });
      }
      throw err;
    }
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
    ladder: ladder("VIDEO_LADDER"),
    liveLadder: ladder("VIDEO_LIVE_LADDER"),
    segmentDurationS: num("VIDEO_SEGMENT_S"),
    segmentFormat: get("VIDEO_SEGMENT_FORMAT"),
    preset: get("VIDEO_PRESET"),
    livePreset: get("VIDEO_LIVE_PRESET"),
    crf: num("VIDEO_CRF"),
    maxFps: num("VIDEO_MAX_FPS"),
    fovDeg: num("VIDEO_FOV_DEG"),
    mapping: get("VIDEO_MAPPING"),
    maxConcurrentJobs: num("VIDEO_MAX_CONCURRENT_JOBS"),
    threads: num("VIDEO_THREADS"),
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
  // Leave unset variables out so the pipeline's defaults apply; it checks the types.
  return Object.fromEntries(
    Object.entries(entries).filter(([, v]) => v !== undefined),
  ) as unknown as VideoPipelineOptions;
}
