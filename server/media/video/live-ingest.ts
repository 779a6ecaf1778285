/**
 * Live ingest: JPEG frames pushed one by one (e.g. from a socket.io namespace) are piped
 * into one ffmpeg (`-f image2pipe -c:v mjpeg`) that writes a live HLS ladder — the same
 * equirectangular projection and aligned keyframes as VOD, a sliding-window playlist per
 * rendition, segments written under a temporary name and renamed when complete.
 *
 * Frames carry no timestamps of their own: by default ffmpeg stamps each with the wall
 * clock when it reads it and the `fps` filter turns that into a constant rate (frames
 * arriving late are repeated, early ones dropped), so playback runs at real time
 * whatever the sender's rate. `timestamps: "sequence"` instead takes every frame as
 * 1/fps after the previous one (for senders that replay recorded frames).
 *
 * Back-pressure: when ffmpeg's stdin has not drained the previous frame, a new frame is
 * dropped (and counted) rather than queued, so memory stays bounded by one frame and the
 * stream stays live. `stop()` ends stdin (ffmpeg flushes and closes the playlists) and
 * kills ffmpeg if it has not exited within `stopTimeoutMs`.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { killGroup, spawnGrouped } from "./process-group.ts";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { VideoRung } from "../../../shared/video-ladder.ts";
import type { VideoConfig } from "./config.ts";
import { LiveIngestError, LiveStateError, VideoConfigError } from "./errors.ts";
import {
  hlsArgs,
  ladderFilterGraph,
  MASTER_PLAYLIST,
  MEDIA_PLAYLIST,
  outputFps,
  videoEncodeArgs,
  type EncodeSettings,
} from "./ffmpeg-args.ts";
import { renderMasterPlaylist } from "./hls.ts";
import { LineSplitter, TailBuffer } from "./process.ts";
import { newStreamId, STREAM_ID } from "./transcode.ts";

/** Options of one live stream; unset ones come from the pipeline's config. */
export interface LiveIngestOptions {
  /** Stream id (a fresh one when absent); its folder must not exist yet. */
  readonly streamId?: string;
  /** Rungs (lowest first). Default `config.liveLadder`. */
  readonly rungs?: readonly VideoRung[];
  /** Output frame rate, frames/s. Default `config.liveFps`. */
  readonly fps?: number;
  /** `wallclock` (default) or `sequence` (each frame 1/fps after the previous). */
  readonly timestamps?: "wallclock" | "sequence";
  /** Segment duration, s. Default `config.segmentDurationS`. */
  readonly segmentDurationS?: number;
  /** Segments in each sliding-window playlist. Default `config.liveWindowSegments`. */
  readonly windowSegments?: number;
  /** Largest accepted frame, bytes. Default `config.liveMaxFrameBytes`. */
  readonly maxFrameBytes?: number;
  /** No frame for this long stops the stream, ms. Default `config.liveIdleTimeoutMs`. */
  readonly idleTimeoutMs?: number;
  /** ffmpeg gets this long to flush after stdin ends before it is killed, ms. Default 5000. */
  readonly stopTimeoutMs?: number;
}

/** Where a live stream is. */
export type LiveState = "idle" | "waiting" | "running" | "stopping" | "stopped" | "failed";

/** Counters of a live stream. */
export interface LiveStats {
  readonly streamId: string;
  readonly state: LiveState;
  /** Frames handed to ffmpeg. */
  readonly framesWritten: number;
  /** Frames dropped because ffmpeg had not taken the previous one (back-pressure). */
  readonly framesDropped: number;
  /** Frames refused: too large, not a JPEG, or pushed while not running. */
  readonly framesRejected: number;
  /** Bytes handed to ffmpeg. */
  readonly bytesWritten: number;
  /** Frames ffmpeg has encoded (per rendition), from its progress report. */
  readonly framesEncoded: number;
  /** Media time encoded so far, s. */
  readonly encodedS: number;
  /** ISO time of the first frame, or null. */
  readonly startedAt: string | null;
  /** Why it stopped: `stop`, `idle`, or the failure; null while live. */
  readonly endReason: string | null;
}

/** What `start` tells the caller. */
export interface LiveStreamInfo {
  readonly streamId: string;
  /** The stream's folder (`<liveDir>/<streamId>`). */
  readonly dir: string;
  /** Master playlist, relative to the folder. */
  readonly master: string;
  readonly renditions: readonly {
    name: string;
    width: number;
    height: number;
    bitrateBps: number;
    /** Media playlist, relative to the folder. */
    playlist: string;
  }[];
}

/** What `pushFrame` did with a frame. */
export type PushResult = "written" | "dropped" | "rejected";

/** Reads width/height from a JPEG's SOFn marker; null when it is not a JPEG. */
export function jpegSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1] ?? 0;
    if (marker === 0xff) {
      i++;
      continue;
    }
    // Standalone markers without a length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = buf.readUInt16BE(i + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isSof) {
      const height = buf.readUInt16BE(i + 5);
      const width = buf.readUInt16BE(i + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    if (marker === 0xda || length < 2) return null;
    i += 2 + length;
  }
  return null;
}

/**
 * One live stream: `start(options)`, `pushFrame(jpeg)` per frame, `stop()`. Single use.
 */
export class LiveIngest {
  private state: LiveState = "idle";
  private opts: (Required<Omit<LiveIngestOptions, "streamId">> & { streamId: string }) | null =
    null;
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly stderr = new TailBuffer(8 * 1024);
  private counters = {
    framesWritten: 0,
    framesDropped: 0,
    framesRejected: 0,
    bytesWritten: 0,
    framesEncoded: 0,
    encodedS: 0,
  };
  private startedAt: string | null = null;
  private endReason: string | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<LiveStats> | null = null;
  private exited: Promise<void> | null = null;
  private readonly endListeners = new Set<
    (stats: LiveStats, error: LiveIngestError | null) => void
  >();
  private dir = "";

  constructor(
    private readonly config: VideoConfig,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates the stream's folder and master playlist; ffmpeg starts with the first frame
   * (its size fixes the projection).
   * @throws LiveStateError when called twice; VideoConfigError for a bad id or a folder
   *   that exists
   */
  async start(options: LiveIngestOptions = {}): Promise<LiveStreamInfo> {
    if (this.state !== "idle") throw new LiveStateError(`cannot start: stream is ${this.state}`);
    const streamId = options.streamId ?? newStreamId();
    if (!STREAM_ID.test(streamId)) throw new VideoConfigError(`bad stream id "${streamId}"`);
    const rungs = options.rungs ?? this.config.liveLadder;
    if (rungs.length === 0) throw new VideoConfigError("live ladder is empty");
    this.opts = {
      streamId,
      rungs,
      fps: options.fps ?? this.config.liveFps,
      timestamps: options.timestamps ?? "wallclock",
      segmentDurationS: options.segmentDurationS ?? this.config.segmentDurationS,
      windowSegments: options.windowSegments ?? this.config.liveWindowSegments,
      maxFrameBytes: options.maxFrameBytes ?? this.config.liveMaxFrameBytes,
      idleTimeoutMs: options.idleTimeoutMs ?? this.config.liveIdleTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs ?? 5000,
    };
    this.state = "waiting";
    this.dir = join(this.config.liveDir, streamId);
    try {
      await mkdir(this.config.liveDir, { recursive: true });
      // Non-recursive: fails when the folder exists (a live id is never reused).
      await mkdir(this.dir);
      for (const r of rungs) await mkdir(join(this.dir, r.name));
    } catch (err) {
      this.state = "failed";
      throw new VideoConfigError(`cannot create live stream folder ${streamId}`, { cause: err });
    }
    const fps = outputFps(this.opts.fps, this.config.maxFps).value;
    const master = renderMasterPlaylist(
      rungs.map((r) => ({
        uri: `${r.name}/${MEDIA_PLAYLIST}`,
        bandwidthBps: r.bitrateBps,
        averageBandwidthBps: null,
        width: r.width,
        height: r.height,
        frameRate: fps,
        codecs: null,
      })),
      { version: this.config.segmentFormat === "fmp4" ? 7 : 3 },
    );
    await writeFile(join(this.dir, MASTER_PLAYLIST), master);
    this.armIdle();
    return {
      streamId,
      dir: this.dir,
      master: MASTER_PLAYLIST,
      renditions: rungs.map((r) => ({
        name: r.name,
        width: r.width,
        height: r.height,
        bitrateBps: r.bitrateBps,
        playlist: `${r.name}/${MEDIA_PLAYLIST}`,
      })),
    };
  }

  /**
   * Hands one JPEG frame to ffmpeg. Never blocks and never queues more than the frame
   * ffmpeg is reading: `dropped` when it is still busy, `rejected` when the frame is too
   * large, not a JPEG, or the stream is not live.
   */
  pushFrame(frame: Buffer): PushResult {
    const o = this.opts;
    if (!o || (this.state !== "waiting" && this.state !== "running")) {
      this.counters.framesRejected++;
      return "rejected";
    }
    if (
      frame.length > o.maxFrameBytes ||
      frame.length < 4 ||
      frame[0] !== 0xff ||
      frame[1] !== 0xd8
    ) {
      this.counters.framesRejected++;
      return "rejected";
    }
    this.armIdle();
    if (this.state === "waiting") {
      const size = jpegSize(frame);
      if (!size) {
        this.counters.framesRejected++;
        return "rejected";
      }
      this.spawnFfmpeg(size);
    }
    const stdin = this.child?.stdin;
    if (!stdin || !stdin.writable) {
      this.counters.framesRejected++;
      return "rejected";
    }
    if (stdin.writableNeedDrain || stdin.writableLength > o.maxFrameBytes) {
      this.counters.framesDropped++;
      return "dropped";
    }
    stdin.write(frame);
    this.counters.framesWritten++;
    this.counters.bytesWritten += frame.length;
    return "written";
  }

  /** The stream's counters and state (a copy). */
  stats(): LiveStats {
    return {
      streamId: this.opts?.streamId ?? "",
      state: this.state,
      ...this.counters,
      startedAt: this.startedAt,
      endReason: this.endReason,
    };
  }

  /** Subscribes to the end of the stream (stopped or failed); returns the unsubscribe. */
  onEnd(listener: (stats: LiveStats, error: LiveIngestError | null) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /**
   * Ends the stream: ffmpeg gets end-of-input, finishes the last segment and the playlists
   * (`#EXT-X-ENDLIST`), and is killed if it takes longer than `stopTimeoutMs`. With
   * `removeFiles` the stream's folder is deleted afterwards. Idempotent.
   */
  stop(options: { removeFiles?: boolean; reason?: string } = {}): Promise<LiveStats> {
    this.stopping ??= this.doStop(options.reason ?? "stop");
    return this.stopping.then(async (stats) => {
      if (options.removeFiles && this.dir) await rm(this.dir, { recursive: true, force: true });
      return stats;
    });
  }

  private async doStop(reason: string): Promise<LiveStats> {
    this.clearIdle();
    if (this.state === "idle") {
      this.state = "stopped";
      this.endReason = reason;
      return this.stats();
    }
    if (this.state === "waiting" || this.state === "running") {
      this.state = "stopping";
      this.endReason = reason;
    }
    const child = this.child;
    if (child && this.exited) {
      child.stdin.end();
      const timeoutMs = this.opts?.stopTimeoutMs ?? 5000;
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          killGroup(child, "SIGKILL");
          resolve();
        }, timeoutMs);
      });
      await Promise.race([this.exited, killed]);
      clearTimeout(timer);
      await this.exited;
    }
    if (this.state === "stopping") this.state = "stopped";
    const stats = this.stats();
    this.notifyEnd(stats, null);
    return stats;
  }

  private spawnFfmpeg(source: { width: number; height: number }): void {
    const o = this.opts;
    if (!o) return;
    const fps = outputFps(o.fps, this.config.maxFps);
    const graph = ladderFilterGraph(o.rungs, source, {
      fpsExpr: fps.expr,
      fovDeg: this.config.fovDeg,
      mapping: this.config.mapping,
    });
    const settings: EncodeSettings = {
      preset: this.config.livePreset,
      crf: this.config.crf,
      fps: fps.value,
      segmentDurationS: o.segmentDurationS,
      segmentFormat: this.config.segmentFormat,
      audioBitrateBps: null,
      zeroLatency: true,
    };
    const input =
      o.timestamps === "wallclock"
        ? ["-use_wallclock_as_timestamps", "1"]
        : ["-framerate", fps.expr];
    const args = [
      "-hide_banner",
      "-y",
      // Errors only: the mjpeg decoder's per-frame "deprecated pixel format" warnings
      // would otherwise fill the stderr tail.
      "-v",
      "error",
      "-nostats",
      "-progress",
      "pipe:1",
      // Start at the first frame instead of buffering seconds of input to probe it.
      "-probesize",
      "32",
      "-analyzeduration",
      "0",
      "-fflags",
      "nobuffer",
      ...input,
      "-f",
      "image2pipe",
      "-c:v",
      "mjpeg",
      "-i",
      "pipe:0",
      "-filter_complex",
      graph,
    ];
    o.rungs.forEach((rung, i) => {
      args.push(
        "-map",
        `[v${i}]`,
        ...videoEncodeArgs(rung, settings),
        ...hlsArgs(join(this.dir, rung.name), settings, {
          kind: "live",
          windowSegments: o.windowSegments,
        }),
      );
    });
    const child = spawnGrouped(this.config.ffmpegPath, args, {
      stdio: ["pipe", "pipe", "pipe"],
    }) as ChildProcessWithoutNullStreams;
    this.child = child;
    this.state = "running";
    this.startedAt = new Date().toISOString();
    const log = this.logger.child({ liveStreamId: o.streamId });
    log.info({ source, rungs: o.rungs.map((r) => r.name) }, "live ingest started");
    // EPIPE when ffmpeg has gone; the exit handler reports it.
    child.stdin.on("error", () => undefined);
    child.stderr.on("data", (c: Buffer) => this.stderr.push(c));
    const lines = new LineSplitter((line) => {
      if (line.startsWith("frame=")) this.counters.framesEncoded = Number(line.slice(6)) || 0;
      else if (line.startsWith("out_time_us=")) {
        const us = Number(line.slice(12));
        if (Number.isFinite(us) && us >= 0) this.counters.encodedS = us / 1e6;
      }
    });
    child.stdout.on("data", (c: Buffer) => lines.push(c));
    this.exited = new Promise<void>((resolve) => {
      child.once("error", (err) => {
        this.fail(new LiveIngestError(`cannot start ffmpeg: ${err.message}`, { cause: err }));
        resolve();
      });
      child.once("close", (code, signal) => {
        if (this.state === "running") {
          const tail = this.stderr.toString().trim();
          this.fail(
            new LiveIngestError(
              `ffmpeg exited during the live stream (${code ?? signal})` +
                (tail ? `: ${tail.split("\n").slice(-2).join(" | ")}` : ""),
              { stderrTail: tail },
            ),
          );
        } else if (code !== 0 && this.state === "stopping") {
          log.warn({ code, signal, stderr: this.stderr.toString() }, "live ffmpeg ended uncleanly");
        }
        log.info({ ...this.stats() }, "live ingest ended");
        resolve();
      });
    });
  }

  private fail(err: LiveIngestError): void {
    if (this.state === "failed" || this.state === "stopped") return;
    this.clearIdle();
    this.state = "failed";
    this.endReason = err.message;
    this.logger.warn({ err, liveStreamId: this.opts?.streamId }, "live ingest failed");
    const child = this.child;
    if (child) killGroup(child, "SIGKILL");
    this.notifyEnd(this.stats(), err);
  }

  private notifyEnd(stats: LiveStats, err: LiveIngestError | null): void {
    const listeners = [...this.endListeners];
    this.endListeners.clear();
    for (const l of listeners) {
      try {
        l(stats, err);
      } catch (listenerErr) {
        this.logger.error({ err: listenerErr }, "live onEnd listener threw");
      }
    }
  }

  private armIdle(): void {
    this.clearIdle();
    const ms = this.opts?.idleTimeoutMs;
    if (!ms) return;
    this.idleTimer = setTimeout(() => void this.stop({ reason: "idle" }), ms);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
