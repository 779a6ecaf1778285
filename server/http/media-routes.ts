/**
 * Media over HTTP (mount on the app or a router; paths below are relative to it):
 *
 *   POST   /media/video                 upload a clip: raw body (`Content-Type: video/*` or
 *                                       `application/octet-stream`) or multipart/form-data
 *                                       (the first file part). Streamed to disk with the size
 *                                       limit enforced while streaming; probed; queued.
 *                                       202 { jobId, streamId, statusUrl, streamUrl }
 *   GET    /media/jobs/:id              job status: queued | running | succeeded | failed |
 *                                       cancelled, progress 0..1, error, the stream when done
 *   DELETE /media/jobs/:id              cancel a queued or running job
 *   GET    /media/video/:streamId/…     finished streams: master.m3u8, stream.json,
 *                                       <rung>/index.m3u8, init.mp4, seg_*.m4s | seg_*.ts
 *   GET    /media/live/:streamId/…      live streams (same layout, playlists not cached)
 *
 * Errors are JSON `{ error: { code, message } }`: 400 (not media, corrupt or truncated, no
 * video stream, too long, empty body), 413 (larger than the upload limit; nothing is kept),
 * 415 (a content type that is not video, or an unsupported codec), 404, 416, 503 (queue
 * full or too many uploads at once; `Retry-After`).
 *
 * Nothing here checks tokens: the caller gates the routes (routes.ts: a token to read, an
 * operator's to upload or cancel) before they are reached.
 *
 * Files are served with `res.sendFile` under a fixed root (Range → 206, ETag,
 * Last-Modified); names are checked against a strict pattern first, so there is no
 * traversal, no dotfile, no directory listing and nothing half-written (jobs write to
 * `video/.tmp/` and publish by rename; live segments are renamed when complete). Segments and
 * init segments never change under a URL and are `immutable`; VOD playlists are too
 * (stream ids are never reused) but get a shorter max-age; live playlists `no-cache`.
 */
import { randomUUID } from "node:crypto";
import { hasRoom } from "../store/disk.ts";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import busboy from "busboy";
import type { IRouter, Request, Response } from "express";
import type { Logger } from "pino";
import { UploadTooLargeError, VideoError } from "../media/video/errors.ts";
import type { VideoPipeline } from "../media/video/pipeline.ts";
import { probeVideo } from "../media/video/probe.ts";
import { STREAM_ID, type VideoJob } from "../media/video/transcode.ts";
import { fail } from "./errors.ts";

/** A rendition as clients see it. */
export interface PublicRendition {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Nominal bitrate, bit/s (the rung's). */
  readonly bitrateBps: number;
  /** Measured peak bitrate, bit/s (HLS BANDWIDTH). */
  readonly bandwidthBps: number;
  /** URL of its media playlist. */
  readonly playlistUrl: string;
  /** URL of the same media as one faststart MP4 (for players without HLS), or null when none. */
  readonly mp4Url: string | null;
}

/** A job as `GET /media/jobs/:id` and `onJobDone` show it. */
export interface PublicJob {
  readonly id: string;
  readonly streamId: string;
  readonly status: VideoJob["status"];
  readonly progress: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly source: {
    durationS: number;
    width: number;
    height: number;
    fps: number;
    codec: string;
  };
  readonly error: { code: string; message: string } | null;
  /** Master playlist URL (succeeded jobs), else null. */
  readonly streamUrl: string | null;
  /** Lowest first (succeeded jobs), else []. */
  readonly renditions: readonly PublicRendition[];
  /** Renditions' duration, s (succeeded jobs), else null. */
  readonly durationS: number | null;
}

export interface MediaRoutesDeps {
  readonly pipeline: VideoPipeline;
  readonly logger: Logger;
  /** Where the router is mounted (e.g. "" or "/api"), to build URLs. Default "". */
  readonly mountPath?: string;
  /**
   * Called once per job when it ends (check `status`: only `succeeded` has a stream), with
   * the room the upload named (`?room=`), if any.
   */
  readonly onJobDone?: (job: PublicJob, room: string | undefined) => void;
  /**
   * Whether `?room=` names a room (or a space: server/metaverse/space-scenes.ts) that can take
   * the stream; absent: `?room=` is refused.
   */
  readonly roomExists?: (roomId: string) => boolean | Promise<boolean>;
  /** Uploads are refused 507 when the media disk has less free, bytes (default 0: no check). */
  readonly minFreeBytes?: number;
  /**
   * Where an upload for a room (`?room=`) is, for the room to show: `ingesting` while the
   * clip comes in and is probed, `transcoding` once queued (progress 0) and while ffmpeg runs
   * (its progress, read about twice a second), then `null` when it ends or was refused
   * (`onJobDone` says how a job ended). `key` is stable for one upload.
   */
  readonly onUploadProgress?: (room: string, key: string, upload: UploadProgress | null) => void;
}

/** An upload for a room as it goes (see {@link MediaRoutesDeps.onUploadProgress}). */
export interface UploadProgress {
  readonly stage: "ingesting" | "transcoding";
  /** 0..1 of the transcode; 0 while receiving, queued, or before ffmpeg reports. */
  readonly progress: number;
  readonly detail: string;
}

/** How often running jobs' progress is read for their rooms, ms. */
const PROGRESS_POLL_MS = 500;

const CONTENT_TYPES: Record<string, string> = {
  ".m3u8": "application/vnd.apple.mpegurl",
  ".ts": "video/mp2t",
  ".m4s": "video/iso.segment",
  ".mp4": "video/mp4",
  ".json": "application/json; charset=utf-8",
};

/** A file name inside a stream folder: no dotfiles, no separators, a known extension. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.(m3u8|ts|m4s|mp4|json)$/;
const DIR_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/;

/** After a refused upload, the rest of the body is read and discarded for at most this. */
const DRAIN_MS = 10_000;

/** The HTTP status of a pipeline error. */
export function statusOf(err: VideoError): number {
  switch (err.code) {
    case "too_large":
      return 413;
    case "unsupported_codec":
      return 415;
    case "queue_full":
      return 503;
    case "not_media":
    case "no_video_stream":
    case "corrupt_media":
    case "too_long":
      return 400;
    default:
      return 500;
  }
}

class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) cb(new UploadTooLargeError(this.max));
    else cb(null, chunk);
  }
}

/** Thrown when the client went away mid-upload (nothing to answer). */
class ClientAbortError extends Error {}

/** Thrown for a multipart body without a file part. */
class NoFileError extends Error {}

/**
 * Writes `source` to `file` (created exclusively), failing with UploadTooLargeError past
 * `max` bytes and with ClientAbortError when `signal` aborts. On failure `source` is
 * unpiped, not destroyed, so the answer can still go out on the same socket.
 */
function streamToFile(
  source: NodeJS.ReadableStream,
  file: string,
  max: number,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const limit = new ByteLimit(max);
    const out = createWriteStream(file, { flags: "wx" });
    let settled = false;
    const onAbort = () => done(new ClientAbortError("client aborted the upload"));
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (err) {
        source.unpipe(limit);
        limit.unpipe(out);
        limit.destroy();
        out.destroy();
        reject(err);
      } else resolve(limit.bytes);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    limit.on("error", done);
    out.on("error", done);
    out.on("finish", () => done(null));
    source.pipe(limit).pipe(out);
  });
}

/**
 * Receives the request body into `file`: raw, or the first file part of a multipart body
 * (other parts are skipped).
 * @throws UploadTooLargeError, ClientAbortError, NoFileError, Error (malformed multipart)
 */
function receiveUpload(
  req: IncomingMessage,
  file: string,
  max: number,
  multipart: boolean,
): Promise<number> {
  const abort = new AbortController();
  const aborted = new Promise<never>((_, reject) => {
    req.once("close", () => {
      if (req.complete) return;
      abort.abort();
      reject(new ClientAbortError("client aborted the upload"));
    });
  });
  aborted.catch(() => undefined);
  if (!multipart) return Promise.race([streamToFile(req, file, max, abort.signal), aborted]);

  const parsed = new Promise<number>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // One byte over the limit reaches the byte counter, which then refuses the upload.
      bb = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: max + 1, fields: 20, fieldSize: 4096, parts: 30 },
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    let writing: Promise<number> | null = null;
    bb.on("file", (_name, stream) => {
      if (writing) {
        stream.resume();
        return;
      }
      writing = streamToFile(stream, file, max, abort.signal);
      // Fail at once (the route then drains the rest) instead of after the whole body.
      writing.catch((err: unknown) => {
        stream.resume();
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
    bb.once("error", (err) => reject(err instanceof Error ? err : new Error(String(err))));
    bb.once("close", () => {
      if (!writing) reject(new NoFileError("the multipart body has no file part"));
      else writing.then(resolve, reject);
    });
    req.pipe(bb);
  });
  return Promise.race([parsed, aborted]);
}

/** Why an upload was refused. */
interface Refusal {
  status: number;
  code: string;
  message: string;
  retryAfterS?: number;
}

function refusal(status: number, code: string, message: string): Refusal {
  return { status, code, message };
}

/** Reads and drops the rest of a refused upload so the answer reaches the client. */
function drain(req: IncomingMessage): void {
  req.unpipe();
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  timer.unref();
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
}

/** Mounts the media routes on `router`. Returns a function that detaches `onJobDone`. */
export function mountMediaRoutes(router: IRouter, deps: MediaRoutesDeps): () => void {
  const { pipeline, logger } = deps;
  const config = pipeline.config;
  const base = (deps.mountPath ?? "").replace(/\/+$/, "");
  const streamUrl = (streamId: string, file: string) => `${base}/media/video/${streamId}/${file}`;
  let uploading = 0;

  /** Strips server paths out of messages that reach clients. */
  const sanitize = (message: string) => message.split(config.mediaDir).join("<media>");

  const toPublic = (job: VideoJob): PublicJob => ({
    id: job.id,
    streamId: job.streamId,
    status: job.status,
    progress: job.progress,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    source: {
      durationS: job.source.durationS,
      width: job.source.width,
      height: job.source.height,
      fps: job.source.fps,
      codec: job.source.codec,
    },
    error: job.error ? { code: job.error.code, message: sanitize(job.error.message) } : null,
    streamUrl: job.result ? streamUrl(job.streamId, job.result.master) : null,
    renditions:
      job.result?.renditions.map((r) => ({
        name: r.name,
        width: r.width,
        height: r.height,
        bitrateBps: r.nominalBitrateBps,
        bandwidthBps: r.bandwidthBps,
        playlistUrl: streamUrl(job.streamId, r.playlist),
        mp4Url: r.progressive ? streamUrl(job.streamId, r.progressive) : null,
      })) ?? [],
    durationS: job.result?.durationS ?? null,
  });

  /** Room named by each upload still running, by job id. */
  const rooms = new Map<string, string>();
  /** The upload key and the last progress told, of each room's job still running. */
  const told = new Map<string, { key: string; last: string }>();
  const tell = (room: string, key: string, upload: UploadProgress | null) => {
    try {
      deps.onUploadProgress?.(room, key, upload);
    } catch (err) {
      logger.error({ err, room }, "onUploadProgress threw");
    }
  };
  /**
   * What the room shows of a job. ffmpeg reports progress only once its encoders give out
   * their first frames, which on a large ladder takes tens of seconds: the seconds since the
   * job started say it is alive meanwhile.
   */
  const jobProgress = (job: VideoJob): UploadProgress => {
    if (job.status === "queued") {
      const ahead = pipeline.queue.load();
      return {
        stage: "transcoding",
        progress: 0,
        detail: `queued (${ahead.running} running, ${ahead.queued} waiting)`,
      };
    }
    const since = job.startedAt ? Math.max(0, (Date.now() - Date.parse(job.startedAt)) / 1000) : 0;
    return {
      stage: "transcoding",
      progress: job.progress,
      detail: `${job.source.durationS.toFixed(0)} s clip, ${since.toFixed(0)} s so far`,
    };
  };
  /** Tells each room how its job moves on; runs only while a room's job is under way. */
  let poll: ReturnType<typeof setInterval> | undefined;
  const watch = () => {
    poll ??= setInterval(() => {
      for (const [jobId, t] of told) {
        const room = rooms.get(jobId);
        const job = pipeline.queue.get(jobId);
        if (!room || !job) {
          told.delete(jobId);
          continue;
        }
        const p = jobProgress(job);
        const key = `${p.detail}|${p.progress.toFixed(3)}`;
        if (key === t.last) continue;
        t.last = key;
        tell(room, t.key, p);
      }
      if (told.size === 0) {
        clearInterval(poll);
        poll = undefined;
      }
    }, PROGRESS_POLL_MS);
    poll.unref?.();
  };
  const unsubscribeDone = pipeline.queue.onJobDone((job) => {
    const room = rooms.get(job.id);
    rooms.delete(job.id);
    const t = told.get(job.id);
    told.delete(job.id);
    if (room !== undefined && t) tell(room, t.key, null);
    deps.onJobDone?.(toPublic(job), room);
  });
  const unsubscribe = () => {
    unsubscribeDone();
    if (poll) clearInterval(poll);
    poll = undefined;
    told.clear();
  };

  router.post("/media/video", async (req, res) => {
    const room = typeof req.query.room === "string" ? req.query.room : undefined;
    if (room !== undefined && !((await deps.roomExists?.(room)) ?? false)) {
      drain(req);
      return fail(res, 404, "unknown_room", `no metaverse room "${room.slice(0, 64)}" here`);
    }
    const type = (req.headers["content-type"] ?? "").toLowerCase();
    const multipart = type.startsWith("multipart/form-data");
    if (!multipart && !/^(video\/[\w.+-]+|application\/octet-stream)\s*(;|$)/.test(type)) {
      drain(req);
      return fail(
        res,
        415,
        "unsupported_media_type",
        `send the clip as video/* or application/octet-stream, or as multipart/form-data (got ${type || "none"})`,
      );
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > config.maxUploadBytes) {
      drain(req);
      return fail(res, 413, "too_large", new UploadTooLargeError(config.maxUploadBytes).message);
    }
    if (uploading >= config.maxConcurrentUploads) {
      drain(req);
      res.set("Retry-After", "5");
      return fail(res, 503, "busy", "too many uploads in progress; retry later");
    }
    // The upload, its stream and the ladder need room: refuse before taking any of it.
    const need = Number.isFinite(declared) ? declared : 0;
    if (!(await hasRoom(config.uploadsDir, deps.minFreeBytes ?? 0, need))) {
      drain(req);
      return fail(res, 507, "insufficient_storage", "not enough free disk for the upload");
    }
    uploading++;
    const uploadId = randomUUID();
    const file = join(config.uploadsDir, `${uploadId}.upload`);
    const key = `video:${uploadId}`;
    if (room !== undefined) {
      tell(room, key, { stage: "ingesting", progress: 0, detail: "receiving the upload" });
    }
    let answer: Refusal | { job: VideoJob } | null | undefined;
    try {
      answer = await receiveAndQueue(req, file, multipart, room);
    } finally {
      uploading--;
      // A refused upload's file is gone before the answer leaves: nothing is kept.
      if (!answer || !("job" in answer)) await rm(file, { force: true }).catch(() => undefined);
      if (room !== undefined && (!answer || !("job" in answer))) tell(room, key, null);
    }
    if (answer === null) return; // the client went away: nobody to answer
    if (!("job" in answer)) {
      if (answer.retryAfterS) res.set("Retry-After", String(answer.retryAfterS));
      return fail(res, answer.status, answer.code, answer.message);
    }
    const { job } = answer;
    if (room !== undefined) {
      // Only I/O ends a job, so it is under way here; should it not be, the room just stops
      // showing the upload.
      const now = pipeline.queue.get(job.id);
      if (now && (now.status === "queued" || now.status === "running")) {
        rooms.set(job.id, room);
        told.set(job.id, { key, last: "" });
        tell(room, key, jobProgress(now));
        watch();
      } else tell(room, key, null);
    }
    res.status(202).json({
      jobId: job.id,
      streamId: job.streamId,
      statusUrl: `${base}/media/jobs/${job.id}`,
      streamUrl: streamUrl(job.streamId, "master.m3u8"),
    });
  });

  /**
   * Receives an upload into `file`, probes it and queues its job, or says why not (null when
   * the client went away).
   */
  async function receiveAndQueue(
    req: Request,
    file: string,
    multipart: boolean,
    room: string | undefined,
  ): Promise<Refusal | { job: VideoJob } | null> {
    let bytes: number;
    try {
      bytes = await receiveUpload(req, file, config.maxUploadBytes, multipart);
    } catch (err) {
      if (err instanceof ClientAbortError) return null;
      drain(req);
      if (err instanceof UploadTooLargeError) return refusal(413, err.code, err.message);
      if (err instanceof NoFileError) return refusal(400, "no_file", err.message);
      if (err instanceof Error && !(err instanceof VideoError)) {
        return refusal(400, "bad_request", `malformed upload: ${err.message}`);
      }
      throw err;
    }
    if (bytes === 0) return refusal(400, "empty", "the upload is empty");
    let probe;
    try {
      probe = await probeVideo(file, {
        ffprobePath: config.ffprobePath,
        timeoutMs: config.probeTimeoutMs,
        acceptedCodecs: config.acceptedCodecs,
        maxDurationS: config.maxDurationS,
      });
    } catch (err) {
      if (err instanceof VideoError && statusOf(err) < 500) {
        return refusal(statusOf(err), err.code, err.message);
      }
      logger.error({ err }, "probing an upload failed");
      return refusal(500, "probe_failed", "could not inspect the upload");
    }
    try {
      const job = pipeline.queue.enqueue({ inputPath: file, probe, deleteInput: true });
      logger.info(
        { jobId: job.id, streamId: job.streamId, room, bytes, probe },
        "video upload queued",
      );
      return { job };
    } catch (err) {
      if (err instanceof VideoError && err.code === "queue_full") {
        return { ...refusal(503, err.code, err.message), retryAfterS: 30 };
      }
      throw err;
    }
  }

  router.get("/media/jobs/:id", (req, res) => {
    const job = pipeline.queue.get(req.params.id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    res.set("Cache-Control", "no-store").json(toPublic(job));
  });

  router.delete("/media/jobs/:id", async (req, res) => {
    const job = pipeline.queue.get(req.params.id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    if (!pipeline.queue.cancel(job.id)) {
      return fail(res, 409, "finished", `job is already ${job.status}`);
    }
    const done = await pipeline.queue.whenDone(job.id);
    res.json(toPublic(done ?? job));
  });

  const serve = (root: string, live: boolean) => (req: Request, res: Response) => {
    const id = req.params.streamId;
    const raw = (req.params as Record<string, unknown>).file;
    const parts = Array.isArray(raw) ? raw.map(String) : [String(raw ?? "")];
    const name = parts[parts.length - 1] ?? "";
    const dirs = parts.slice(0, -1);
    if (
      typeof id !== "string" ||
      !STREAM_ID.test(id) ||
      dirs.length > 1 ||
      !dirs.every((d) => DIR_NAME.test(d)) ||
      !FILE_NAME.test(name)
    ) {
      return fail(res, 404, "not_found", "no such file");
    }
    const ext = name.slice(name.lastIndexOf("."));
    const playlist = ext === ".m3u8" || ext === ".json";
    res.type(CONTENT_TYPES[ext] ?? "application/octet-stream");
    res.set(
      "Cache-Control",
      !playlist ? "public, max-age=31536000, immutable" : live ? "no-cache" : "public, max-age=60",
    );
    res.set("X-Content-Type-Options", "nosniff");
    const rel = [id, ...dirs, name].join("/");
    res.sendFile(rel, { root, dotfiles: "deny", cacheControl: false }, (err?: Error) => {
      if (!err) return;
      const e = err as Error & { status?: number; statusCode?: number; code?: string };
      if (res.headersSent || e.code === "ECONNABORTED" || e.code === "ECONNRESET") {
        if (!res.writableEnded) res.destroy();
        return;
      }
      for (const h of ["Content-Type", "Cache-Control", "ETag", "Last-Modified"]) {
        res.removeHeader(h);
      }
      const status = e.status ?? e.statusCode;
      if (status === 416) {
        return fail(res, 416, "range_not_satisfiable", "requested range is outside the file");
      }
      if (status === 404 || e.code === "ENOENT" || e.code === "EISDIR") {
        return fail(res, 404, "not_found", "no such file");
      }
      if (status !== undefined && status >= 400 && status < 500) {
        return fail(res, status, "bad_request", e.message);
      }
      logger.error({ err, rel }, "sending a media file failed");
      fail(res, 500, "internal", "could not send the file");
    });
  };

  router.get("/media/video/:streamId/*file", serve(config.videoDir, false));
  router.get("/media/live/:streamId/*file", serve(config.liveDir, true));
  // Folders (`/media/video/<id>`, `/media/video/<id>/`) are not listed.
  router.get(["/media/video/:streamId", "/media/live/:streamId"], (_req, res) =>
    fail(res, 404, "not_found", "no such file"),
  );

  return unsubscribe;
}
