/**
 * Typed errors of the video pipeline. Each carries a stable `code` (what HTTP answers and
 * the room's scene show) and, where one exists, the underlying `cause`.
 */

/** Stable error codes (the `error.code` of JSON answers and job snapshots). */
export const VIDEO_ERROR_CODES = [
  "bad_config",
  "ffmpeg_missing",
  "not_media",
  "no_video_stream",
  "unsupported_codec",
  "corrupt_media",
  "too_long",
  "probe_failed",
  "probe_timeout",
  "too_large",
  "queue_full",
  "transcode_failed",
  "transcode_timeout",
  "cancelled",
  "live_failed",
  "live_state",
] as const;
export type VideoErrorCode = (typeof VIDEO_ERROR_CODES)[number];

/** Base class: every error of `server/media/video` is one of these. */
export class VideoError extends Error {
  readonly code: VideoErrorCode;
  constructor(code: VideoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The options do not make a working pipeline (bad ladder, bad number, …). */
export class VideoConfigError extends VideoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("bad_config", message, options);
  }
}

/** ffmpeg or ffprobe is not installed (not on PATH, not executable) or lacks a feature. */
export class FfmpegMissingError extends VideoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ffmpeg_missing", message, options);
  }
}

/** The file is not a container ffprobe recognises (random bytes, a text file, …). */
export class NotMediaError extends VideoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("not_media", message, options);
  }
}

/** A media file without a video stream (audio only, subtitles, …). */
export class NoVideoStreamError extends VideoError {
  constructor(message: string) {
    super("no_video_stream", message);
  }
}

/** The video stream's codec is not on the accepted list. */
export class UnsupportedCodecError extends VideoError {
  /** ffprobe's `codec_name`, e.g. `ffv1`, `prores`. */
  readonly codec: string;
  constructor(codec: string, accepted: readonly string[]) {
    super(
      "unsupported_codec",
      `video codec "${codec}" is not supported (accepted: ${accepted.join(", ")})`,
    );
    this.codec = codec;
  }
}

/** A media file that is cut short or damaged (no index, partial data, zero duration). */
export class CorruptMediaError extends VideoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("corrupt_media", message, options);
  }
}

/** The clip is longer than the configured maximum. */
export class TooLongError extends VideoError {
  /** Clip duration, s. */
  readonly durationS: number;
  /** Configured maximum, s. */
  readonly maxDurationS: number;
  constructor(durationS: number, maxDurationS: number) {
    super("too_long", `clip is ${durationS.toFixed(1)} s long; the maximum is ${maxDurationS} s`);
    this.durationS = durationS;
    this.maxDurationS = maxDurationS;
  }
}

/** ffprobe failed for a reason that says nothing about the file (crash, bad output). */
export class ProbeFailedError extends VideoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("probe_failed", message, options);
  }
}

/** ffprobe did not answer within its timeout (it was killed). */
export class ProbeTimeoutError extends VideoError {
  constructor(timeoutMs: number) {
    super("probe_timeout", `ffprobe did not finish within ${timeoutMs} ms`);
  }
}

/** An upload larger than the configured limit (the partial file is removed). */
export class UploadTooLargeError extends VideoError {
  /** The limit, bytes. */
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super("too_large", `upload exceeds the limit of ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

/** The transcode queue holds its maximum of waiting jobs. */
export class QueueFullError extends VideoError {
  constructor(maxQueued: number) {
    super("queue_full", `the transcode queue is full (${maxQueued} waiting); retry later`);
  }
}

/** ffmpeg failed or produced output that is not a complete, aligned ladder. */
export class TranscodeError extends VideoError {
  /** ffmpeg's exit code (null when it was killed or never ran). */
  readonly exitCode: number | null;
  /** The last part of ffmpeg's stderr (bounded), "" when none. */
  readonly stderrTail: string;
  constructor(
    message: string,
    details: { exitCode?: number | null; stderrTail?: string; cause?: unknown } = {},
  ) {
    super("transcode_failed", message, { cause: details.cause });
    this.exitCode = details.exitCode ?? null;
    this.stderrTail = details.stderrTail ?? "";
  }
}

/** A job ran past the configured job timeout; ffmpeg was killed. */
export class TranscodeTimeoutError extends VideoError {
  constructor(timeoutMs: number) {
    super("transcode_timeout", `transcode did not finish within ${timeoutMs} ms`);
  }
}

/** A job was cancelled (queued or running); its ffmpeg was killed. */
export class JobCancelledError extends VideoError {
  constructor(message = "job cancelled") {
    super("cancelled", message);
  }
}

/** The live ingest's ffmpeg failed (exited early, could not start). */
export class LiveIngestError extends VideoError {
  /** The last part of ffmpeg's stderr (bounded), "" when none. */
  readonly stderrTail: string;
  constructor(message: string, details: { stderrTail?: string; cause?: unknown } = {}) {
    super("live_failed", message, { cause: details.cause });
    this.stderrTail = details.stderrTail ?? "";
  }
}

/** A live-ingest call made in the wrong state (start twice, push before start). */
export class LiveStateError extends VideoError {
  constructor(message: string) {
    super("live_state", message);
  }
}
