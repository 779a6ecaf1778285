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
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { IRouter, Request, RequestHandler } from "express";
import type { Logger } from "pino";
import { UploadTooLargeError, VideoError } from "../media/video/errors.ts";
import type { VideoPipeline } from "../media/video/pipeline.ts";
import { probeVideo } from "../media/video/probe.ts";
import { STREAM_ID, type VideoJob } from "../media/video/transcode.ts";
import { fail } from "./errors.ts";
import { ClientAbortError, NoFileError, receiveUpload } from "./media-upload.ts";
import { drainRefused } from "./refused-body.ts";
import { sendFileFailed } from "./send-file-error.ts";
import { RoomUploads, type TellUploadProgress } from "./upload-progress.ts";

export type { UploadProgress } from "./upload-progress.ts";

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
   * (`onJobDone` says how a job ended). `key` is stable for one upload (upload-progress.ts).
   */
  readonly onUploadProgress?: TellUploadProgress;
}

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

/** After a refused upload, the rest of the body is read and discarded for at most this, ms. */
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

/** What the handlers share: the deps, the pipeline's config, the rooms' uploads, the count. */
interface MediaRoutes {
  readonly deps: MediaRoutesDeps;
  readonly config: VideoPipeline["config"];
  /** Where the router is mounted, without a trailing slash. */
  readonly base: string;
  readonly uploads: RoomUploads;
  /** Uploads being received now. */
  uploading: number;
}

/** Mounts the media routes on `router`. Returns a function that detaches `onJobDone`. */
export function mountMediaRoutes(router: IRouter, deps: MediaRoutesDeps): () => void {
  const { pipeline, logger } = deps;
  const routes: MediaRoutes = {
    deps,
    config: pipeline.config,
    base: (deps.mountPath ?? "").replace(/\/+$/, ""),
    uploads: new RoomUploads(pipeline, logger, deps.onUploadProgress),
    uploading: 0,
  };
  const unsubscribeDone = pipeline.queue.onJobDone((job) => {
    const room = routes.uploads.ended(job);
    deps.onJobDone?.(publicJob(routes, job), room);
  });

  router.post("/media/video", uploadVideo(routes));
  router.get("/media/jobs/:id", readJob(routes));
  router.delete("/media/jobs/:id", cancelJob(routes));
  router.get(
    "/media/video/:streamId/*file",
    serveStreamFile(routes.config.videoDir, false, logger),
  );
  router.get("/media/live/:streamId/*file", serveStreamFile(routes.config.liveDir, true, logger));
  // Folders (`/media/video/<id>`, `/media/video/<id>/`) are not listed.
  router.get(["/media/video/:streamId", "/media/live/:streamId"], noListing());

  return () => {
    unsubscribeDone();
    routes.uploads.stop();
  };
}

/** URL of `file` in finished stream `streamId`. */
function streamUrl(routes: MediaRoutes, streamId: string, file: string): string {
  return `${routes.base}/media/video/${streamId}/${file}`;
}

/** A job as clients see it: URLs instead of paths, server paths out of messages. */
function publicJob(routes: MediaRoutes, job: VideoJob): PublicJob {
  const url = (file: string) => streamUrl(routes, job.streamId, file);
  /** Strips server paths out of messages that reach clients. */
  const sanitize = (message: string) => message.split(routes.config.mediaDir).join("<media>");
  return {
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
    streamUrl: job.result ? url(job.result.master) : null,
    renditions:
      job.result?.renditions.map((r) => ({
        name: r.name,
        width: r.width,
        height: r.height,
        bitrateBps: r.nominalBitrateBps,
        bandwidthBps: r.bandwidthBps,
        playlistUrl: url(r.playlist),
        mp4Url: r.progressive ? url(r.progressive) : null,
      })) ?? [],
    durationS: job.result?.durationS ?? null,
  };
}

/** `POST /media/video[?room=]`: receives a clip, probes it and queues its transcode (202). */
function uploadVideo(routes: MediaRoutes): RequestHandler {
  const { config } = routes;
  return async (req, res) => {
    const room = typeof req.query.room === "string" ? req.query.room : undefined;
    const type = (req.headers["content-type"] ?? "").toLowerCase();
    const multipart = type.startsWith("multipart/form-data");
    const early = await refusalBeforeBody(routes, req, room, type, multipart);
    if (early) {
      drainRefused(req, { maxMs: DRAIN_MS });
      if (early.retryAfterS) res.set("Retry-After", String(early.retryAfterS));
      return fail(res, early.status, early.code, early.message);
    }
    routes.uploading++;
    const uploadId = randomUUID();
    const file = join(config.uploadsDir, `${uploadId}.upload`);
    const key = `video:${uploadId}`;
    if (room !== undefined) {
      routes.uploads.tell(room, key, {
        stage: "ingesting",
        progress: 0,
        detail: "receiving the upload",
      });
    }
    let answer: Refusal | { job: VideoJob } | null | undefined;
    try {
      answer = await receiveAndQueue(routes, req, file, multipart, room);
    } finally {
      routes.uploading--;
      // A refused upload's file is gone before the answer leaves: nothing is kept.
      if (!answer || !("job" in answer)) await rm(file, { force: true }).catch(() => undefined);
      if (room !== undefined && (!answer || !("job" in answer)))
        routes.uploads.tell(room, key, null);
    }
    if (answer === null) return; // the client went away: nobody to answer
    if (!("job" in answer)) {
      if (answer.retryAfterS) res.set("Retry-After", String(answer.retryAfterS));
      return fail(res, answer.status, answer.code, answer.message);
    }
    const { job } = answer;
    if (room !== undefined) routes.uploads.follow(job, room, key);
    res.status(202).json({
      jobId: job.id,
      streamId: job.streamId,
      statusUrl: `${routes.base}/media/jobs/${job.id}`,
      streamUrl: streamUrl(routes, job.streamId, "master.m3u8"),
    });
  };
}

/**
 * Why an upload is refused before any of its body is read (checked in this order: unknown
 * room, content type, declared length, uploads at once, free disk), or undefined.
 */
async function refusalBeforeBody(
  routes: MediaRoutes,
  req: Request,
  room: string | undefined,
  type: string,
  multipart: boolean,
): Promise<Refusal | undefined> {
  const { config, deps } = routes;
  if (room !== undefined && !((await deps.roomExists?.(room)) ?? false)) {
    return refusal(404, "unknown_room", `no metaverse room "${room.slice(0, 64)}" here`);
  }
  if (!multipart && !/^(video\/[\w.+-]+|application\/octet-stream)\s*(;|$)/.test(type)) {
    return refusal(
      415,
      "unsupported_media_type",
      `send the clip as video/* or application/octet-stream, or as multipart/form-data (got ${type || "none"})`,
    );
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > config.maxUploadBytes) {
    return refusal(413, "too_large", new UploadTooLargeError(config.maxUploadBytes).message);
  }
  if (routes.uploading >= config.maxConcurrentUploads) {
    return { ...refusal(503, "busy", "too many uploads in progress; retry later"), retryAfterS: 5 };
  }
  // The upload, its stream and the ladder need room: refuse before taking any of it.
  const need = Number.isFinite(declared) ? declared : 0;
  if (!(await hasRoom(config.uploadsDir, deps.minFreeBytes ?? 0, need))) {
    return refusal(507, "insufficient_storage", "not enough free disk for the upload");
  }
  return undefined;
}

/**
 * Receives an upload into `file`, probes it and queues its job, or says why not (null when
 * the client went away).
 */
async function receiveAndQueue(
  routes: MediaRoutes,
  req: Request,
  file: string,
  multipart: boolean,
  room: string | undefined,
): Promise<Refusal | { job: VideoJob } | null> {
  const { config, deps } = routes;
  let bytes: number;
  try {
    bytes = await receiveUpload(req, file, config.maxUploadBytes, multipart);
  } catch (err) {
    if (err instanceof ClientAbortError) return null;
    drainRefused(req, { maxMs: DRAIN_MS });
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
    deps.logger.error({ err }, "probing an upload failed");
    return refusal(500, "probe_failed", "could not inspect the upload");
  }
  try {
    const job = deps.pipeline.queue.enqueue({ inputPath: file, probe, deleteInput: true });
    deps.logger.info(
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

/** `GET /media/jobs/:id`: the job, not cached. */
function readJob(routes: MediaRoutes): RequestHandler<{ id: string }> {
  return (req, res) => {
    const job = routes.deps.pipeline.queue.get(req.params.id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    res.set("Cache-Control", "no-store").json(publicJob(routes, job));
  };
}

/** `DELETE /media/jobs/:id`: cancels a queued or running job and answers it once it ended. */
function cancelJob(routes: MediaRoutes): RequestHandler<{ id: string }> {
  const { queue } = routes.deps.pipeline;
  return async (req, res) => {
    const job = queue.get(req.params.id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    if (!queue.cancel(job.id)) {
      return fail(res, 409, "finished", `job is already ${job.status}`);
    }
    const done = await queue.whenDone(job.id);
    res.json(publicJob(routes, done ?? job));
  };
}

/**
 * `GET /media/{video,live}/:streamId/[<rung>/]<file>`: a stream's file under `root`, its name
 * checked first; playlists of `live` streams are not cached.
 */
function serveStreamFile(root: string, live: boolean, logger: Logger): RequestHandler {
  return (req, res) => {
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
      sendFileFailed(
        res,
        err,
        { notFound: "no such file", internal: "could not send the file" },
        () => logger.error({ err, rel }, "sending a media file failed"),
      );
    });
  };
}

/** A stream folder itself: 404, never a listing. */
function noListing(): RequestHandler {
  return (_req, res) => fail(res, 404, "not_found", "no such file");
}
