/**
 * VOD transcoding: a clip becomes the 360° equirectangular HLS ladder (see ffmpeg-args.ts
 * for the graph and the projection), and a bounded, cancellable job queue runs the jobs.
 * A clip gets only the rungs its resolution fills (rung-selection.ts), and they are encoded
 * one ffmpeg process after another, lowest first: a job's memory is that of its largest
 * rung, not of the whole ladder at once, and progress rises from the first rung on.
 *
 * A job writes into `video/.tmp/<jobId>/`; only when ffmpeg succeeded and the output checks out
 * (every rendition complete, as long as the clip, segments aligned across renditions)
 * are the master playlist and `stream.json` written and the folder renamed to
 * `video/<streamId>/` in one step. Anything else removes the temporary folder; streams
 * already served are never touched (stream ids are fresh per job, so segment URLs never
 * change meaning and may be cached as immutable).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { VideoRung } from "../../../shared/video-ladder.ts";
import type { SegmentFormat } from "../../config-video.ts";
import type { VideoConfig } from "./config.ts";
import {
  CorruptMediaError,
  JobCancelledError,
  QueueFullError,
  TranscodeError,
  TranscodeTimeoutError,
  VideoError,
} from "./errors.ts";
import { MASTER_PLAYLIST, MEDIA_PLAYLIST, pictureFov, transcodeArgs } from "./ffmpeg-args.ts";
import {
  AAC_LC_CODEC,
  avcCodecFromAnnexB,
  avcCodecFromInit,
  parseMediaPlaylist,
  renderMasterPlaylist,
} from "./hls.ts";
import { LadderProgress } from "./ffmpeg-progress.ts";
import { runProcess, SpawnError } from "./process.ts";
import { addProgressive } from "./progressive.ts";
import { type RenditionInfo, type StreamManifest, writeManifest } from "./manifest.ts";
import type { VideoProbe } from "./probe.ts";
import { selectRungs } from "./rung-selection.ts";

/** Stream ids: path-safe, and what `video/<streamId>/` is named. */
export const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A fresh stream id (96 random bits, URL-safe). */
export function newStreamId(): string {
  return randomBytes(12).toString("base64url");
}

export type { ProjectionInfo, RenditionInfo, StreamManifest } from "./manifest.ts";

/** What `transcodeLadder` needs. */
export interface TranscodeRequest {
  readonly config: Pick<
    VideoConfig,
    | "ffmpegPath"
    | "segmentDurationS"
    | "segmentFormat"
    | "preset"
    | "crf"
    | "maxFps"
    | "fovDeg"
    | "mapping"
    | "audio"
    | "audioBitrateBps"
    | "threads"
  >;
  readonly input: string;
  readonly probe: VideoProbe;
  /**
   * The ladder (lowest first); the clip gets the rungs not above its own resolution, and
   * the manifest lists the others as skipped.
   */
  readonly rungs: readonly VideoRung[];
  /** Empty or absent folder that receives the stream. */
  readonly outDir: string;
  readonly streamId: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Fraction of the job done so far, 0..0.99, each time it rises (rungs weighted by pixels). */
  readonly onProgress?: (fraction: number) => void;
  /** A rung's encode started or finished (`index` among the rungs encoded). */
  readonly onRung?: (event: RungEvent) => void;
}

/** A rung's encode starting or finishing. */
export interface RungEvent {
  readonly phase: "started" | "done";
  readonly name: string;
  /** Position among the rungs encoded, 0 = lowest. */
  readonly index: number;
  /** How many rungs are encoded. */
  readonly count: number;
}

/** Folder of a rendition's files inside the stream folder. */
function renditionDir(outDir: string, rung: VideoRung): string {
  return join(outDir, rung.name);
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Reads a rendition back: complete playlist, every segment on disk, bitrates, codecs. */
async function measureRendition(
  outDir: string,
  rung: VideoRung,
  segmentFormat: SegmentFormat,
  hasAudio: boolean,
): Promise<{ info: RenditionInfo; durations: number[] }> {
  const dir = renditionDir(outDir, rung);
  let text: string;
  try {
    text = await readFile(join(dir, MEDIA_PLAYLIST), "utf8");
  } catch (err) {
    throw new TranscodeError(`rendition ${rung.name} has no playlist`, { cause: err });
  }
  const pl = parseMediaPlaylist(text);
  if (!pl.endList || pl.segments.length === 0) {
    throw new TranscodeError(`rendition ${rung.name}: playlist is incomplete`);
  }
  let peak = 0;
  let bytes = 0;
  let seconds = 0;
  for (const seg of pl.segments) {
    if (!/^[\w.-]+$/.test(seg.uri)) {
      throw new TranscodeError(`rendition ${rung.name}: unexpected segment URI ${seg.uri}`);
    }
    const size = (await stat(join(dir, seg.uri))).size;
    if (!(seg.durationS > 0) || size === 0) {
      throw new TranscodeError(`rendition ${rung.name}: empty segment ${seg.uri}`);
    }
    bytes += size;
    seconds += seg.durationS;
    // A very short last segment would overstate the peak; it is judged by a full slot.
    peak = Math.max(peak, (8 * size) / Math.max(seg.durationS, 0.5));
  }
  let video: string | null = null;
  if (segmentFormat === "fmp4") {
    if (!pl.map) throw new TranscodeError(`rendition ${rung.name}: no init segment`);
    video = avcCodecFromInit(await readFile(join(dir, pl.map)));
  } else {
    const first = pl.segments[0];
    if (first) video = avcCodecFromAnnexB(await readHead(join(dir, first.uri), 64 * 1024));
  }
  const codecs = video ? (hasAudio ? `${video},${AAC_LC_CODEC}` : video) : null;
  return {
    info: {
      name: rung.name,
      width: rung.width,
      height: rung.height,
      nominalBitrateBps: rung.bitrateBps,
      bandwidthBps: Math.round(peak),
      averageBandwidthBps: Math.round((8 * bytes) / seconds),
      codecs,
      playlist: `${rung.name}/${MEDIA_PLAYLIST}`,
      segments: pl.segments.length,
    },
    durations: pl.segments.map((s) => s.durationS),
  };
}

/**
 * Runs one rung's ffmpeg with `timeoutMs` left of the job.
 * @returns ffmpeg's stderr tail
 * @throws TranscodeError, TranscodeTimeoutError, JobCancelledError
 */
async function runRung(
  req: TranscodeRequest,
  args: string[],
  timeoutMs: number,
  onLine: (line: string) => void,
): Promise<string> {
  if (req.signal?.aborted) throw new JobCancelledError();
  if (timeoutMs <= 0) throw new TranscodeTimeoutError(req.timeoutMs);
  let result;
  try {
    result = await runProcess(req.config.ffmpegPath, args, {
      timeoutMs,
      onStdoutLine: onLine,
      stderrTailBytes: 16 * 1024,
      tags: { stream: req.streamId },
      ...(req.signal && { signal: req.signal }),
    });
  } catch (err) {
    if (err instanceof SpawnError) throw new TranscodeError(err.message, { cause: err });
    throw err;
  }
  if (result.aborted) throw new JobCancelledError();
  if (result.timedOut) throw new TranscodeTimeoutError(req.timeoutMs);
  if (result.exitCode !== 0) {
    const tail = result.stderrTail.trim();
    const last = tail.split("\n").slice(-3).join(" | ");
    throw new TranscodeError(
      `ffmpeg failed (exit ${result.exitCode ?? result.signal ?? "?"})${last ? `: ${last}` : ""}`,
      { exitCode: result.exitCode, stderrTail: tail },
    );
  }
  return result.stderrTail;
}

/**
 * Transcodes `input` into the HLS ladder under `outDir` (created) — the rungs not above the
 * clip's resolution, one ffmpeg after another, lowest first — checks the result and
 * writes `master.m3u8` and `stream.json` (which lists the rungs skipped and why). Does not publish (rename) anything and does not
 * clean up on failure; `TranscodeQueue` does both.
 * @throws TranscodeError (ffmpeg failed or produced an incomplete/misaligned ladder, with
 *   ffmpeg's stderr tail), TranscodeTimeoutError, JobCancelledError, CorruptMediaError
 *   (the output is much shorter than the clip: the input is damaged part way through)
 */
export async function transcodeLadder(req: TranscodeRequest): Promise<StreamManifest> {
  const { config, probe } = req;
  const selection = selectRungs(req.rungs, probe, {
    kind: "flat",
    fovDeg: config.fovDeg,
    mapping: config.mapping,
  });
  const { rungs } = selection;
  for (const rung of rungs) await mkdir(renditionDir(req.outDir, rung), { recursive: true });
  const audio = config.audio && probe.hasAudio;
  const progress = new LadderProgress(rungs, probe.durationS, (f) => req.onProgress?.(f));
  const deadline = performance.now() + req.timeoutMs;
  let fps = 0;
  let stderrTail = "";
  for (const [index, rung] of rungs.entries()) {
    req.onRung?.({ phase: "started", name: rung.name, index, count: rungs.length });
    progress.startRung(index);
    const built = transcodeArgs({
      input: req.input,
      outDir: req.outDir,
      rungs: [rung],
      source: probe,
      maxFps: config.maxFps,
      fovDeg: config.fovDeg,
      mapping: config.mapping,
      preset: config.preset,
      crf: config.crf,
      segmentDurationS: config.segmentDurationS,
      segmentFormat: config.segmentFormat,
      audioBitrateBps: audio ? config.audioBitrateBps : null,
      threads: config.threads,
    });
    fps = built.fps;
    stderrTail = await runRung(req, built.args, deadline - performance.now(), (line) =>
      progress.line(line),
    );
    req.onRung?.({ phase: "done", name: rung.name, index, count: rungs.length });
  }

  const measured = [];
  for (const rung of rungs) {
    measured.push(await measureRendition(req.outDir, rung, config.segmentFormat, audio));
  }
  // Seamless switching needs every rendition cut at the same instants.
  const reference = measured[0];
  if (!reference) throw new TranscodeError("no renditions");
  const frame = 1 / fps;
  for (const m of measured.slice(1)) {
    const aligned =
      m.durations.length === reference.durations.length &&
      m.durations.every((d, i) => Math.abs(d - (reference.durations[i] ?? 0)) <= frame + 1e-3);
    if (!aligned) {
      throw new TranscodeError(
        `renditions are not aligned: ${reference.info.name} has ${reference.durations.length} ` +
          `segments, ${m.info.name} ${m.durations.length} (or their durations differ)`,
      );
    }
  }
  const durationS = reference.durations.reduce((a, b) => a + b, 0);
  const missing = probe.durationS - durationS;
  if (missing > Math.max(config.segmentDurationS, 0.1 * probe.durationS)) {
    throw new CorruptMediaError(
      `only ${durationS.toFixed(1)} s of the ${probe.durationS.toFixed(1)} s clip could be ` +
        "decoded: the file is damaged part way through",
      { cause: new TranscodeError("short output", { stderrTail }) },
    );
  }

  const capped = selection.capped;
  const renditions = measured.map((m) =>
    capped && m.info.name === capped.name
      ? {
          ...m.info,
          cappedFrom: { width: capped.fromWidth, height: capped.fromHeight, reason: capped.reason },
        }
      : m.info,
  );
  const master = renderMasterPlaylist(
    renditions.map((r) => ({
      uri: r.playlist,
      bandwidthBps: r.bandwidthBps,
      averageBandwidthBps: r.averageBandwidthBps,
      width: r.width,
      height: r.height,
      frameRate: fps,
      codecs: r.codecs,
    })),
    { version: config.segmentFormat === "fmp4" ? 7 : 3 },
  );
  const fov = pictureFov(probe, config.fovDeg);
  const manifest: StreamManifest = {
    streamId: req.streamId,
    kind: "vod",
    createdAt: new Date().toISOString(),
    master: MASTER_PLAYLIST,
    durationS,
    fps,
    segmentDurationS: config.segmentDurationS,
    segmentFormat: config.segmentFormat,
    projection: {
      type: "equirectangular",
      mapping: config.mapping,
      hFovDeg: fov.hFovDeg,
      vFovDeg: fov.vFovDeg,
    },
    source: {
      width: probe.width,
      height: probe.height,
      codec: probe.codec,
      durationS: probe.durationS,
      fps: probe.fps,
      pxPerDeg: selection.sourcePxPerDeg,
    },
    renditions,
    skipped: selection.skipped,
  };
  await writeFile(join(req.outDir, MASTER_PLAYLIST), master);
  await writeManifest(req.outDir, manifest);
  return manifest;
}

/** Where a job is. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** A snapshot of a job (a copy; it does not change under the caller). */
export interface VideoJob {
  readonly id: string;
  /** The stream the job publishes on success: `video/<streamId>/`. */
  readonly streamId: string;
  readonly status: JobStatus;
  /** Fraction done, 0..1 (1 only when succeeded). */
  readonly progress: number;
  /** ISO times. */
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly source: VideoProbe;
  /** Why it failed or was cancelled; `stderrTail` for ffmpeg failures. */
  readonly error: { code: string; message: string; stderrTail?: string } | null;
  /** The published stream (succeeded jobs). */
  readonly result: StreamManifest | null;
}

/** What to transcode. */
export interface EnqueueRequest {
  /** The clip on disk. */
  readonly inputPath: string;
  readonly probe: VideoProbe;
  /** Remove `inputPath` when the job ends, whatever the outcome (uploads). Default false. */
  readonly deleteInput?: boolean;
  /** Rungs to produce; default the configured ladder. */
  readonly rungs?: readonly VideoRung[];
}

interface JobRecord {
  job: {
    -readonly [K in keyof VideoJob]: VideoJob[K];
  };
  input: string;
  deleteInput: boolean;
  rungs: readonly VideoRung[];
  abort: AbortController;
  done: Promise<VideoJob>;
  resolveDone: (job: VideoJob) => void;
}

/** Called once per job when it ends (succeeded, failed or cancelled). */
export type JobDoneListener = (job: VideoJob) => void;

/**
 * The transcode job queue: at most `maxConcurrentJobs` ffmpeg processes, at most
 * `maxQueuedJobs` waiting (more are refused), the last `keepFinishedJobs` finished jobs
 * remembered. Every job ends in exactly one `onJobDone` call.
 */
export class TranscodeQueue {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly waiting: JobRecord[] = [];
  private running = 0;
  private readonly listeners = new Set<JobDoneListener>();
  private closed = false;

  constructor(
    private readonly config: VideoConfig,
    private readonly logger: Logger,
  ) {}

  /**
   * Adds a job and returns its snapshot (queued, or running when a slot was free).
   * @throws QueueFullError when `maxQueuedJobs` are already waiting (or the queue is closed)
   */
  enqueue(req: EnqueueRequest): VideoJob {
    if (this.closed) throw new QueueFullError(0);
    if (
      this.running >= this.config.maxConcurrentJobs &&
      this.waiting.length >= this.config.maxQueuedJobs
    ) {
      throw new QueueFullError(this.config.maxQueuedJobs);
    }
    let resolveDone!: (job: VideoJob) => void;
    const done = new Promise<VideoJob>((resolve) => (resolveDone = resolve));
    const rec: JobRecord = {
      job: {
        id: randomUUID(),
        streamId: newStreamId(),
        status: "queued",
        progress: 0,
        createdAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        source: req.probe,
        error: null,
        result: null,
      },
      input: req.inputPath,
      deleteInput: req.deleteInput ?? false,
      rungs: req.rungs ?? this.config.ladder,
      abort: new AbortController(),
      done,
      resolveDone,
    };
    this.jobs.set(rec.job.id, rec);
    this.waiting.push(rec);
    this.pump();
    return this.snapshot(rec);
  }

  /** A job's snapshot, or undefined when unknown (or forgotten). */
  get(id: string): VideoJob | undefined {
    const rec = this.jobs.get(id);
    return rec ? this.snapshot(rec) : undefined;
  }

  /** Every remembered job, oldest first. */
  list(): VideoJob[] {
    return [...this.jobs.values()].map((r) => this.snapshot(r));
  }

  /** Jobs waiting and running now. */
  load(): { queued: number; running: number } {
    return { queued: this.waiting.length, running: this.running };
  }

  /** Resolves with the job's final snapshot when it ends. Undefined for unknown ids. */
  whenDone(id: string): Promise<VideoJob> | undefined {
    return this.jobs.get(id)?.done;
  }

  /**
   * Cancels a queued or running job (a running one's ffmpeg is killed).
   * @returns false when the job is unknown or already finished
   */
  cancel(id: string): boolean {
    const rec = this.jobs.get(id);
    if (!rec) return false;
    if (rec.job.status === "queued") {
      const i = this.waiting.indexOf(rec);
      if (i >= 0) this.waiting.splice(i, 1);
      void this.finish(rec, new JobCancelledError("cancelled before it started"));
      return true;
    }
    if (rec.job.status === "running") {
      rec.abort.abort();
      return true;
    }
    return false;
  }

  /** Subscribes to finished jobs; returns the unsubscribe function. */
  onJobDone(listener: JobDoneListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refuses new jobs, cancels every queued and running one and waits for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.jobs.values()].filter(
      (r) => r.job.status === "queued" || r.job.status === "running",
    );
    for (const rec of pending) this.cancel(rec.job.id);
    await Promise.all(pending.map((r) => r.done));
  }

  private snapshot(rec: JobRecord): VideoJob {
    return { ...rec.job, error: rec.job.error ? { ...rec.job.error } : null };
  }

  private pump(): void {
    while (this.running < this.config.maxConcurrentJobs && this.waiting.length > 0) {
      const rec = this.waiting.shift();
      if (!rec) break;
      this.running++;
      void this.run(rec).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(rec: JobRecord): Promise<void> {
    const { job } = rec;
    job.status = "running";
    job.startedAt = new Date().toISOString();
    const tmp = join(this.config.tmpDir, job.id);
    const log = this.logger.child({ jobId: job.id, streamId: job.streamId });
    log.info({ source: job.source, rungs: rec.rungs.map((r) => r.name) }, "transcode started");
    try {
      await rm(tmp, { recursive: true, force: true });
      await mkdir(this.config.videoDir, { recursive: true });
      const ladder = await transcodeLadder({
        config: this.config,
        input: rec.input,
        probe: job.source,
        rungs: rec.rungs,
        outDir: tmp,
        streamId: job.streamId,
        timeoutMs: this.config.jobTimeoutMs,
        signal: rec.abort.signal,
        onProgress: (p) => (job.progress = p),
      });
      if (rec.abort.signal.aborted) throw new JobCancelledError();
      const manifest = await addProgressive(tmp, ladder, {
        ffmpegPath: this.config.ffmpegPath,
        timeoutMs: this.config.jobTimeoutMs,
        signal: rec.abort.signal,
        logger: log,
      });
      if (rec.abort.signal.aborted) throw new JobCancelledError();
      const target = join(this.config.videoDir, job.streamId);
      // rename() would replace an empty folder; a stream is never replaced.
      const exists = await stat(target).then(
        () => true,
        () => false,
      );
      if (exists) throw new TranscodeError(`stream ${job.streamId} already exists`);
      await rename(tmp, target);
      job.result = manifest;
      await this.finish(rec, null);
      log.info(
        {
          durationS: manifest.durationS,
          renditions: manifest.renditions.map((r) => r.name),
          skipped: manifest.skipped.map((r) => `${r.name} (${r.reason})`),
        },
        "transcode published",
      );
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      const level = err instanceof JobCancelledError ? "info" : "warn";
      log[level]({ err }, "transcode ended without a stream");
      await this.finish(rec, err);
    }
  }

  private async finish(rec: JobRecord, err: unknown): Promise<void> {
    const { job } = rec;
    // Clean up first: a client that sees the final status finds the listeners already told.
    if (rec.deleteInput) await rm(rec.input, { force: true }).catch(() => undefined);
    if (err === null) {
      job.status = "succeeded";
      job.progress = 1;
    } else {
      const e =
        err instanceof VideoError
          ? err
          : new TranscodeError(err instanceof Error ? err.message : String(err), { cause: err });
      job.status = e instanceof JobCancelledError ? "cancelled" : "failed";
      job.error = {
        code: e.code,
        message: e.message,
        ...(e instanceof TranscodeError && e.stderrTail && { stderrTail: e.stderrTail }),
      };
    }
    job.finishedAt = new Date().toISOString();
    const snap = this.snapshot(rec);
    for (const listener of this.listeners) {
      try {
        listener(snap);
      } catch (listenerErr) {
        this.logger.error({ err: listenerErr, jobId: job.id }, "onJobDone listener threw");
      }
    }
    rec.resolveDone(snap);
    this.forgetOld();
  }

  /** Drops the oldest finished jobs beyond `keepFinishedJobs`. */
  private forgetOld(): void {
    let finished = 0;
    for (const r of this.jobs.values()) if (isFinished(r.job.status)) finished++;
    for (const [id, r] of this.jobs) {
      if (finished <= this.config.keepFinishedJobs) break;
      if (isFinished(r.job.status)) {
        this.jobs.delete(id);
        finished--;
      }
    }
  }
}

function isFinished(s: JobStatus): boolean {
  return s === "succeeded" || s === "failed" || s === "cancelled";
}
