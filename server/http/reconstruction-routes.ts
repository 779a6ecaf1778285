/**
 * Scene reconstruction over HTTP (the reconstruction agent's REST face):
 *
 *   POST /media/scenes?sceneId=<id>     upload → 202 { jobId, sceneId, statusUrl }
 *        Content-Type: application/x-agenttwin-rgbd   RGB-D frames (`upload-format.ts`),
 *                                                     fused on the CPU
 *        Content-Type: image/png                      one image, sent to the SF3D-style
 *                                                     service (415 when none is configured)
 *   GET  /media/scenes/jobs/:id         the job: status, and the asset URL and figures when done
 *   GET  /media/scenes/:sceneId         the scene's latest version { sceneId, version, url, bytes }
 *   GET  /media/scenes/:sceneId/v<n>.glb  the asset, `model/gltf-binary`, Range requests (206),
 *                                       immutable (a new reconstruction is a new version)
 *
 * The upload is checked while it streams in: a `Content-Length` over the limit is refused at
 * once (413), and so is a body whose header announces more than the limit or that grows past
 * it; a malformed container is 400 `bad_upload`; frames that cannot be reconstructed (wrong
 * depth or colour length, bad intrinsics or poses, no frames, too many frames or voxels) are
 * 422 with the reconstruction error's code. Nothing is queued or written for a refused upload.
 * A full queue is 503 with `Retry-After`. A job that fails leaves the previous version served.
 * Errors are JSON `{ error: { code, message } }`. Nothing here checks tokens: the caller
 * gates the routes (routes.ts: a token to read, an operator's to upload).
 */
import type { Request, Response, Router } from "express";
import type { Logger } from "pino";
import { ReconstructionError } from "../media/reconstruction/errors.ts";
import type { Reconstructor } from "../media/reconstruction/reconstructor.ts";
import {
  QueueFullError,
  type SceneJob,
  SceneJobs,
  SceneStore,
  type ReconstructionJobMetrics,
  type SceneReadyHook,
} from "../media/reconstruction/scene-jobs.ts";
import {
  RGBD_CONTENT_TYPE,
  RgbdUploadParser,
  UploadError,
  type ParsedUpload,
} from "../media/reconstruction/upload-format.ts";
import type { ReconstructionLimits } from "../media/reconstruction/reconstructor.ts";
import { hasRoom } from "../store/disk.ts";
import { fail } from "./errors.ts";

/** What the routes need. */
export interface ReconstructionRouteDeps {
  /** Folder of the scenes (`<dir>/<sceneId>/v<n>.glb`), e.g. `<DATA_DIR>/media/scenes`. */
  readonly dir: string;
  /** Backend for RGB-D uploads (the CPU reconstructor). */
  readonly rgbd: Reconstructor & { readonly limits?: ReconstructionLimits };
  /** Backend for PNG uploads (SF3D client), if configured. */
  readonly image?: Reconstructor;
  /** Largest upload, bytes. */
  readonly maxUploadBytes: number;
  /** Jobs waiting beyond the running one (default 4). */
  readonly maxQueue?: number;
  /** Time limit of one job, ms (default 120 000). */
  readonly jobTimeoutMs?: number;
  /** Uploads being received at once; more are refused 503 (default 2). */
  readonly maxInFlight?: number;
  /** An upload that sends nothing for this long is dropped, ms (default 30 000). */
  readonly idleTimeoutMs?: number;
  /** Uploads are refused 507 when the scenes' disk has less free, bytes (default 0: no check). */
  readonly minFreeBytes?: number;
  /** Where the router is mounted, so job results carry full asset paths (default ""). */
  readonly mountPath?: string;
  readonly logger: Logger;
  /** Called after each new scene version is stored. */
  readonly onSceneReady?: SceneReadyHook;
  /** Where finished jobs are counted (the process's metrics). */
  readonly metrics?: ReconstructionJobMetrics;
  /**
   * A job's status as it changes (queued, running, then succeeded or failed), read about
   * twice a second, so the scene it works on can show it. Errors thrown are logged.
   */
  readonly onJobChange?: (job: SceneJob) => void;
}

/** How often accepted jobs are read for {@link ReconstructionRouteDeps.onJobChange}, ms. */
const JOB_POLL_MS = 500;

const PNG_CONTENT_TYPE = "image/png";

/**
 * Mounts the routes on `router` and returns the job queue (close it on shutdown; add more
 * `onSceneReady` hooks on it).
 */
export function mountReconstructionRoutes(
  router: Router,
  deps: ReconstructionRouteDeps,
): SceneJobs {
  const prefix = `${(deps.mountPath ?? "").replace(/\/+$/, "")}/media/scenes`;
  const store = new SceneStore(deps.dir);
  const jobs = new SceneJobs({
    store,
    rgbd: deps.rgbd,
    ...(deps.image && { image: deps.image }),
    ...(deps.maxQueue !== undefined && { maxQueue: deps.maxQueue }),
    ...(deps.jobTimeoutMs !== undefined && { jobTimeoutMs: deps.jobTimeoutMs }),
    urlPrefix: prefix,
    logger: deps.logger,
    ...(deps.onSceneReady && { onSceneReady: deps.onSceneReady }),
    ...(deps.metrics && { metrics: deps.metrics }),
  });

  /** Jobs whose changes are still to be told, with the status told last. */
  const watched = new Map<string, string>();
  let poll: ReturnType<typeof setInterval> | undefined;
  const tell = (job: SceneJob) => {
    try {
      deps.onJobChange?.(job);
    } catch (err) {
      deps.logger.error({ err, jobId: job.id }, "onJobChange threw");
    }
  };
  const watch = (job: SceneJob) => {
    if (!deps.onJobChange) return;
    watched.set(job.id, job.status);
    tell(job);
    poll ??= setInterval(() => {
      for (const [id, last] of watched) {
        const now = jobs.get(id);
        if (now && now.status !== last) {
          watched.set(id, now.status);
          tell(now);
        }
        // Finished (closing the queue finishes every job too) or forgotten: stop watching.
        if (!now || now.status === "succeeded" || now.status === "failed") watched.delete(id);
      }
      if (watched.size === 0) {
        clearInterval(poll);
        poll = undefined;
      }
    }, JOB_POLL_MS);
    poll.unref?.();
  };

  // A refused upload's remaining bytes are read and dropped up to this much, then cut off.
  const drain = deps.maxUploadBytes;
  let inFlight = 0;
  router.post("/media/scenes", async (req, res) => {
    // Bounded: uploads in flight are capped, and one that stalls is dropped.
    if (inFlight >= (deps.maxInFlight ?? 2)) {
      res.set("Retry-After", "5");
      refuse(req, res, 503, "busy", "too many uploads in progress, try again shortly", 0);
      return;
    }
    inFlight += 1;
    res.once("close", () => {
      inFlight -= 1;
      req.setTimeout(0);
    });
    req.setTimeout(deps.idleTimeoutMs ?? 30_000, () => {
      deps.logger.warn({ sceneId: req.query.sceneId }, "scene upload idle; dropped");
      req.destroy();
    });
    const sceneId = typeof req.query.sceneId === "string" ? req.query.sceneId : "";
    if (!SceneStore.isSceneId(sceneId)) {
      refuse(
        req,
        res,
        400,
        "bad_request",
        "query parameter sceneId must match [A-Za-z0-9_-]{1,64}",
        drain,
      );
      return;
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== RGBD_CONTENT_TYPE && type !== PNG_CONTENT_TYPE) {
      refuse(
        req,
        res,
        415,
        "unsupported_media_type",
        `send ${RGBD_CONTENT_TYPE} or ${PNG_CONTENT_TYPE}`,
        drain,
      );
      return;
    }
    if (!jobs.accepts(type === PNG_CONTENT_TYPE ? "image" : "rgbd")) {
      refuse(
        req,
        res,
        415,
        "unsupported_media_type",
        "no single-image backend is configured",
        drain,
      );
      return;
    }
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (declared > deps.maxUploadBytes) {
      refuse(
        req,
        res,
        413,
        "too_large",
        `upload of ${declared} bytes exceeds the limit of ${deps.maxUploadBytes}`,
        declared > 2 * deps.maxUploadBytes ? 0 : drain,
      );
      return;
    }
    if (
      !(await hasRoom(deps.dir, deps.minFreeBytes ?? 0, Number.isFinite(declared) ? declared : 0))
    ) {
      refuse(req, res, 507, "insufficient_storage", "not enough free disk for the upload", 0);
      return;
    }
    if (jobs.waiting >= (deps.maxQueue ?? 4)) {
      res.set("Retry-After", "10");
      refuse(req, res, 503, "queue_full", "reconstruction queue is full, try again later", drain);
      return;
    }
    try {
      const job =
        type === PNG_CONTENT_TYPE
          ? jobs.submit(sceneId, { kind: "image", png: await readPng(req, deps.maxUploadBytes) })
          : jobs.submit(sceneId, { kind: "rgbd", ...(await readRgbd(req, deps)) });
      watch(job);
      const statusUrl = `${prefix}/jobs/${job.id}`;
      res.status(202).location(statusUrl).json({ jobId: job.id, sceneId, statusUrl });
    } catch (err) {
      if (err instanceof UploadError) {
        refuse(req, res, err.status, err.code, err.message, drain);
      } else if (err instanceof ReconstructionError) {
        refuse(req, res, 422, err.code, err.message, drain);
      } else if (err instanceof QueueFullError) {
        res.set("Retry-After", "10");
        fail(res, 503, "queue_full", err.message);
      } else if (isClientAbort(err)) {
        if (!res.writableEnded) res.destroy();
      } else {
        deps.logger.error({ err }, "scene upload failed");
        refuse(req, res, 500, "internal", "could not accept the upload", drain);
      }
    }
  });

  router.get("/media/scenes/jobs/:id", (req, res) => {
    const job = jobs.get(req.params.id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    res.set("Cache-Control", "no-store").json(job);
  });

  router.get("/media/scenes/:sceneId", async (req, res) => {
    const { sceneId } = req.params;
    if (!SceneStore.isSceneId(sceneId)) return fail(res, 404, "not_found", "no such scene");
    try {
      const latest = await store.latest(sceneId);
      if (!latest) return fail(res, 404, "not_found", "no such scene");
      res.set("Cache-Control", "no-store").json({
        sceneId,
        version: latest.version,
        url: `${prefix}/${sceneId}/${latest.file}`,
        bytes: latest.bytes,
      });
    } catch (err) {
      deps.logger.error({ err, sceneId }, "reading a scene failed");
      fail(res, 500, "internal", "could not read the scene");
    }
  });

  router.get("/media/scenes/:sceneId/:file", (req, res) => {
    const { sceneId, file } = req.params;
    if (!SceneStore.isSceneId(sceneId) || !SceneStore.isVersionFile(file)) {
      return fail(res, 404, "not_found", "no such asset");
    }
    res.type("model/gltf-binary");
    res.sendFile(
      `${sceneId}/${file}`,
      {
        root: store.dir,
        dotfiles: "deny",
        acceptRanges: true,
        // A version never changes once written.
        maxAge: 365 * 24 * 3600 * 1000,
        immutable: true,
        headers: { "Content-Type": "model/gltf-binary" },
      },
      (err?: Error) => {
        if (!err) return;
        const e = err as Error & { status?: number; statusCode?: number; code?: string };
        const status = e.status ?? e.statusCode;
        if (res.headersSent || e.code === "ECONNABORTED" || e.code === "ECONNRESET") {
          if (!res.writableEnded) res.destroy();
          return;
        }
        for (const h of ["Content-Type", "Cache-Control", "ETag", "Last-Modified"])
          res.removeHeader(h);
        if (status === 404) return fail(res, 404, "not_found", "no such asset");
        if (status === 416) {
          return fail(res, 416, "range_not_satisfiable", "requested range is outside the file");
        }
        deps.logger.error({ err, sceneId, file }, "sending a scene asset failed");
        fail(res, 500, "internal", "could not send the asset");
      },
    );
  });

  return jobs;
}

/**
 * Answers an upload early. The rest of the body is read and dropped (so the client, still
 * sending, gets the answer instead of a reset) up to `drainBytes` more; past that the
 * connection is cut.
 */
function refuse(
  req: Request,
  res: Response,
  status: number,
  code: string,
  message: string,
  drainBytes: number,
): void {
  fail(res, status, code, message);
  if (req.complete || req.destroyed) return;
  let drained = 0;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.byteLength;
    if (drained > drainBytes) req.destroy();
  });
  req.resume();
}

/**
 * Feeds the body's chunks to `onChunk` as they arrive; resolves at the end. When `onChunk`
 * throws, reading pauses and the promise rejects with that error (the caller answers).
 */
function consume(req: Request, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer) => {
      try {
        onChunk(chunk);
      } catch (err) {
        cleanup();
        req.pause();
        reject(err);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () =>
      onError(Object.assign(new Error("client aborted"), { code: "ECONNRESET" }));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("aborted", onAborted);
  });
}

function isClientAbort(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNABORTED";
}

async function readRgbd(req: Request, deps: ReconstructionRouteDeps): Promise<ParsedUpload> {
  const parser = new RgbdUploadParser({
    ...deps.rgbd.limits,
    maxUploadBytes: deps.maxUploadBytes,
  });
  await consume(req, (chunk) => parser.push(chunk));
  return parser.finish();
}

async function readPng(req: Request, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  await consume(req, (chunk) => {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new UploadError("too_large", `upload exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  });
  const buf = Buffer.concat(chunks, total);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
