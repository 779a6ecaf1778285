/**
 * What is in an uploaded file, from ffprobe's JSON: duration, picture size, frame rate and
 * codec of the first video stream. ffprobe also demuxes every packet (`-count_packets`)
 * so that a file cut short is caught here even when its index (a `moov` at the front)
 * claims the full length. Every way a file can be unusable is a typed error.
 */
import { z } from "zod";
import {
  CorruptMediaError,
  NoVideoStreamError,
  NotMediaError,
  ProbeFailedError,
  ProbeTimeoutError,
  TooLongError,
  UnsupportedCodecError,
  type VideoError,
} from "./errors.ts";
import { runProcess, SpawnError } from "./process.ts";

/** A usable video clip, as ffprobe saw it. */
export interface VideoProbe {
  /** Duration of the video stream (else of the container), s. */
  readonly durationS: number;
  /** Displayed width, px (after the rotation in the file's metadata). */
  readonly width: number;
  /** Displayed height, px. */
  readonly height: number;
  /** Average frame rate, frames/s. */
  readonly fps: number;
  /** ffprobe's `codec_name` of the video stream, e.g. `h264`. */
  readonly codec: string;
  /** Always true for a result (a file without video is an error); kept for callers' checks. */
  readonly hasVideo: true;
  /** Whether there is an audio stream. */
  readonly hasAudio: boolean;
  /** `codec_name` of the first audio stream, or null. */
  readonly audioCodec: string | null;
  /** Container, ffprobe's `format_name`, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  readonly formatName: string;
  /** Display rotation from the metadata, degrees (0, 90, 180, 270). */
  readonly rotationDeg: number;
  /** Video packets actually read, or null when unknown. */
  readonly frames: number | null;
  /** Container bitrate, bit/s, or null. */
  readonly bitRateBps: number | null;
}

/** What the probe accepts. */
export interface ProbePolicy {
  /** Accepted video codecs (ffprobe names). */
  readonly acceptedCodecs: readonly string[];
  /** Longest accepted clip, s. */
  readonly maxDurationS: number;
}

/** How to run ffprobe. */
export interface ProbeOptions extends ProbePolicy {
  readonly ffprobePath: string;
  /** ffprobe is killed after this, ms. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const numeric = z.union([z.string(), z.number()]).optional();

const StreamSchema = z.looseObject({
  index: z.number().optional(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  duration: numeric,
  nb_frames: numeric,
  nb_read_packets: numeric,
  disposition: z.looseObject({ attached_pic: z.number().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z.array(z.looseObject({ rotation: z.number().optional() })).optional(),
});

const ProbeJsonSchema = z.looseObject({
  streams: z.array(StreamSchema).default([]),
  format: z
    .looseObject({
      format_name: z.string().optional(),
      duration: numeric,
      bit_rate: numeric,
    })
    .optional(),
});

/** ffprobe's `-print_format json` output (the fields the probe reads). */
export type ProbeJson = z.infer<typeof ProbeJsonSchema>;

/** Containers that hold still images: a single picture is not a clip. */
const STILL_IMAGE_FORMATS = /^(image2|.*_pipe|apng|gif|webp|png|bmp|tiff)$/;

/** stderr lines that mean the data ends before the container says it should. */
const TRUNCATION = /partial file|ended prematurely|moov atom not found|truncat|end of file/i;

function toNumber(v: string | number | undefined): number {
  if (v === undefined) return Number.NaN;
  return typeof v === "number" ? v : Number(v);
}

/** Parses `30000/1001` or `25` into frames/s; NaN when absent, zero or absurd. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return Number.NaN;
  const [n, d] = rate.split("/");
  const value = d === undefined ? Number(n) : Number(n) / Number(d);
  return Number.isFinite(value) && value > 0 && value <= 1000 ? value : Number.NaN;
}

/** The first stderr line worth showing a user (without ffmpeg's `[demuxer @ 0x…]` prefix). */
function firstLine(stderr: string): string {
  const line = stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return (line ?? "").replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, "").slice(0, 300);
}

/**
 * Turns ffprobe's JSON (and whatever it wrote to stderr) into a `VideoProbe`, or the typed
 * error that says why the file cannot be used. Pure; `probeVideo` runs ffprobe.
 * @throws NotMediaError, NoVideoStreamError, UnsupportedCodecError, CorruptMediaError,
 *   TooLongError
 */
export function interpretProbe(json: ProbeJson, stderr: string, policy: ProbePolicy): VideoProbe {
  const format = json.format;
  const formatName = format?.format_name ?? "";
  if (!format || !formatName) throw new NotMediaError("not a media file (no container found)");
  if (STILL_IMAGE_FORMATS.test(formatName)) {
    throw new NotMediaError(`a still image (${formatName}), not a video clip`);
  }
  const video = json.streams.find(
    (s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1,
  );
  if (!video) {
    const kinds = json.streams.map((s) => s.codec_type ?? "unknown");
    throw new NoVideoStreamError(
      kinds.length > 0
        ? `the file has no video stream (streams: ${kinds.join(", ")})`
        : "the file has no streams",
    );
  }
  const codec = video.codec_name ?? "unknown";
  if (!policy.acceptedCodecs.includes(codec)) {
    throw new UnsupportedCodecError(codec, policy.acceptedCodecs);
  }
  if (TRUNCATION.test(stderr)) {
    throw new CorruptMediaError(`the file is truncated or damaged: ${firstLine(stderr)}`);
  }
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width <= 0 || height <= 0) {
    throw new CorruptMediaError("the video stream has no picture size (damaged header)");
  }
  const streamDuration = toNumber(video.duration);
  const durationS =
    Number.isFinite(streamDuration) && streamDuration > 0
      ? streamDuration
      : toNumber(format.duration);
  if (!Number.isFinite(durationS) || durationS <= 0) {
    throw new CorruptMediaError("the clip has no duration (truncated or damaged)");
  }
  const read = toNumber(video.nb_read_packets);
  const declared = toNumber(video.nb_frames);
  // The container's index promises `declared` frames; fewer on disk means a cut file.
  if (Number.isFinite(read) && Number.isFinite(declared) && declared > 0 && read < 0.9 * declared) {
    throw new CorruptMediaError(
      `the file is truncated: ${read} of ${declared} video frames are present`,
    );
  }
  if (durationS > policy.maxDurationS) throw new TooLongError(durationS, policy.maxDurationS);

  let fps = parseRate(video.avg_frame_rate);
  if (!Number.isFinite(fps)) fps = parseRate(video.r_frame_rate);
  if (!Number.isFinite(fps) && Number.isFinite(read) && read > 0) fps = read / durationS;
  if (!Number.isFinite(fps) || fps <= 0) fps = 30;

  const sideRotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const rotation = sideRotation ?? Number(video.tags?.rotate ?? 0);
  const rotationDeg = (((Math.round(rotation / 90) * 90) % 360) + 360) % 360;
  const swap = rotationDeg === 90 || rotationDeg === 270;
  const audio = json.streams.find((s) => s.codec_type === "audio");
  const bitRate = toNumber(format.bit_rate);
  return {
    durationS,
    width: swap ? height : width,
    height: swap ? width : height,
    fps,
    codec,
    hasVideo: true,
    hasAudio: audio !== undefined,
    audioCodec: audio?.codec_name ?? null,
    formatName,
    rotationDeg,
    frames: Number.isFinite(read) ? read : null,
    bitRateBps: Number.isFinite(bitRate) ? bitRate : null,
  };
}

/**
 * Classifies a failed ffprobe run: a recognised container that could not be read is
 * truncated/corrupt; input no demuxer recognises is not media.
 */
function probeFailure(stderr: string, exitCode: number | null): VideoError {
  const line = firstLine(stderr);
  if (TRUNCATION.test(stderr)) {
    return new CorruptMediaError(`the file is truncated or damaged: ${line}`);
  }
  // ffmpeg prefixes messages of a demuxer that accepted the file with `[name @ 0x…]`.
  if (/^\[(?!NULL|AVIOContext)[^\]]+ @ 0x[0-9a-f]+\]/im.test(stderr)) {
    return new CorruptMediaError(`the file is damaged: ${line}`);
  }
  if (/Invalid data found when processing input/i.test(stderr)) {
    return new NotMediaError("not a media file (no demuxer recognises the data)");
  }
  return new ProbeFailedError(`ffprobe failed (exit ${exitCode ?? "signal"}): ${line}`);
}

/**
 * Probes `file` with ffprobe (JSON output, every packet demuxed, killed after
 * `timeoutMs`) and checks it against the policy.
 * @throws NotMediaError, NoVideoStreamError, UnsupportedCodecError, CorruptMediaError,
 *   TooLongError, ProbeTimeoutError, ProbeFailedError
 */
export async function probeVideo(file: string, options: ProbeOptions): Promise<VideoProbe> {
  const args = [
    "-hide_banner",
    "-v",
    "error",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    "-count_packets",
    "-i",
    file,
  ];
  let result;
  try {
    result = await runProcess(options.ffprobePath, args, {
      timeoutMs: options.timeoutMs,
      maxStdoutBytes: 4 * 1024 * 1024,
      stderrTailBytes: 8 * 1024,
      ...(options.signal && { signal: options.signal }),
    });
  } catch (err) {
    if (err instanceof SpawnError) throw new ProbeFailedError(err.message, { cause: err });
    throw err;
  }
  if (result.timedOut) throw new ProbeTimeoutError(options.timeoutMs);
  if (result.aborted) throw new ProbeFailedError("probe aborted");
  if (result.stdoutOverflow) throw new ProbeFailedError("ffprobe output is unreasonably large");
  if (result.exitCode !== 0) throw probeFailure(result.stderrTail, result.exitCode);
  let json: ProbeJson;
  try {
    json = ProbeJsonSchema.parse(JSON.parse(result.stdout));
  } catch (err) {
    throw new ProbeFailedError("ffprobe printed no valid JSON", { cause: err });
  }
  return interpretProbe(json, result.stderrTail, options);
}
