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
import type { Request, RequestHandler, Response, Router } from "express";
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
import { RGBD_CONTENT_TYPE, UploadError } from "../media/reconstruction/upload-format.ts";
import type { ReconstructionLimits } from "../media/reconstruction/reconstructor.ts";
import { hasRoom } from "../store/disk.ts";
import { fail } from "./errors.ts";
import { isClientAbort, readPng, readRgbd, refuse } from "./scene-upload.ts";
import { sendFileFailed } from "./send-file-error.ts";

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

/** What the handlers share: the deps, the scene store, its job queue and the upload count. */
interface SceneRoutes {
  readonly deps: ReconstructionRouteDeps;
  readonly store: SceneStore;
  readonly jobs: SceneJobs;
  /** URL path of the scenes, e.g. `/api/media/scenes`. */
  readonly prefix: string;
  /** Starts telling `onJobChange` how an accepted job moves on. */
  readonly watch: (job: SceneJob) => void;
  /** Uploads being received now. */
  inFlight: number;
}

/**
 * Mounts the routes on `router` and returns the job queue (close it on shutdown; add more
 * `onSceneReady` hooks on it).
 */
export function mountReconstructionRoutes(
  router: Router,
  deps: ReconstructionRouteDeps,
): SceneJobs {
  const routes = sceneRoutes(deps);
  router.post("/media/scenes", uploadScene(routes));
  router.get("/media/scenes/jobs/:id", readJob(routes));
  router.get("/media/scenes/:sceneId", latestScene(routes));
  router.get("/media/scenes/:sceneId/:file", sceneAsset(routes));
  return routes.jobs;
}

/** The store and job queue of `deps.dir`, and the watcher of accepted jobs. */
function sceneRoutes(deps: ReconstructionRouteDeps): SceneRoutes {
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
  return { deps, store, jobs, prefix, watch: jobWatcher(deps, jobs), inFlight: 0 };
}

/**
 * Tells `deps.onJobChange` each status an accepted job goes through: at once, then polled
 * every {@link JOB_POLL_MS} while any watched job is unfinished.
 */
function jobWatcher(deps: ReconstructionRouteDeps, jobs: SceneJobs): (job: SceneJob) => void {
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
  const tick = () => {
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
  };
  return (job) => {
    if (!deps.onJobChange) return;
    watched.set(job.id, job.status);
    tell(job);
    poll ??= setInterval(tick, JOB_POLL_MS);
    poll.unref?.();
  };
}

/** Why an upload is refused before its body is read. */
interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** Bytes of the body still read and dropped before the connection is cut. */
  readonly drainBytes: number;
  /** `Retry-After`, s, when trying again later may succeed. */
  readonly retryAfterS?: number;
}

/** `POST /media/scenes?sceneId=`: receives an upload and queues its reconstruction (202). */
function uploadScene(routes: SceneRoutes): RequestHandler {
  const { deps } = routes;
  return async (req, res) => {
    // Bounded: uploads in flight are capped, and one that stalls is dropped.
    if (routes.inFlight >= (deps.maxInFlight ?? 2)) {
      res.set("Retry-After", "5");
      refuse(req, res, 503, "busy", "too many uploads in progress, try again shortly", 0);
      return;
    }
    routes.inFlight += 1;
    res.once("close", () => {
      routes.inFlight -= 1;
      req.setTimeout(0);
    });
    req.setTimeout(deps.idleTimeoutMs ?? 30_000, () => {
      deps.logger.warn({ sceneId: req.query.sceneId }, "scene upload idle; dropped");
      req.destroy();
    });
    const sceneId = typeof req.query.sceneId === "string" ? req.query.sceneId : "";
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    const refusal = await uploadRefusal(routes, req, sceneId, type);
    if (refusal) {
      if (refusal.retryAfterS !== undefined) res.set("Retry-After", String(refusal.retryAfterS));
      refuse(req, res, refusal.status, refusal.code, refusal.message, refusal.drainBytes);
      return;
    }
    await receiveAndSubmit(routes, req, res, sceneId, type);
  };
}

/**
 * Why an upload for `sceneId` of content `type` cannot be taken (checked in this order:
 * scene id, content type, backend, declared length, free disk, queue), or undefined.
 */
async function uploadRefusal(
  routes: SceneRoutes,
  req: Request,
  sceneId: string,
  type: string,
): Promise<Refusal | undefined> {
  const { deps, jobs } = routes;
  // A refused upload's remaining bytes are read and dropped up to this much, then cut off.
  const drain = deps.maxUploadBytes;
  if (!SceneStore.isSceneId(sceneId)) {
    const message = "query parameter sceneId must match [A-Za-z0-9_-]{1,64}";
    return { status: 400, code: "bad_request", message, drainBytes: drain };
  }
  if (type !== RGBD_CONTENT_TYPE && type !== PNG_CONTENT_TYPE) {
    const message = `send ${RGBD_CONTENT_TYPE} or ${PNG_CONTENT_TYPE}`;
    return { status: 415, code: "unsupported_media_type", message, drainBytes: drain };
  }
  if (!jobs.accepts(type === PNG_CONTENT_TYPE ? "image" : "rgbd")) {
    const message = "no single-image backend is configured";
    return { status: 415, code: "unsupported_media_type", message, drainBytes: drain };
  }
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > deps.maxUploadBytes) {
    return {
      status: 413,
      code: "too_large",
      message: `upload of ${declared} bytes exceeds the limit of ${deps.maxUploadBytes}`,
      drainBytes: declared > 2 * deps.maxUploadBytes ? 0 : drain,
    };
  }
  const need = Number.isFinite(declared) ? declared : 0;
  if (!(await hasRoom(deps.dir, deps.minFreeBytes ?? 0, need))) {
    const message = "not enough free disk for the upload";
    return { status: 507, code: "insufficient_storage", message, drainBytes: 0 };
  }
  if (jobs.waiting >= (deps.maxQueue ?? 4)) {
    const message = "reconstruction queue is full, try again later";
    return { status: 503, code: "queue_full", message, drainBytes: drain, retryAfterS: 10 };
  }
  return undefined;
}

/** Reads an admitted upload's body, submits its job and answers 202, or the reason not. */
async function receiveAndSubmit(
  routes: SceneRoutes,
  req: Request,
  res: Response,
  sceneId: string,
  type: string,
): Promise<void> {
  const { deps, jobs } = routes;
  const drain = deps.maxUploadBytes;
  try {
    const job =
      type === PNG_CONTENT_TYPE
        ? jobs.submit(sceneId, { kind: "image", png: await readPng(req, deps.maxUploadBytes) })
        : jobs.submit(sceneId, {
            kind: "rgbd",
            ...(await readRgbd(req, deps.rgbd.limits, deps.maxUploadBytes)),
          });
    routes.watch(job);
    const statusUrl = `${routes.prefix}/jobs/${job.id}`;
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
}

/** `GET /media/scenes/jobs/:id`: the job, not cached. */
function readJob(routes: SceneRoutes): RequestHandler<{ id: string }> {
  return (req, res) => {
    const job = routes.jobs.get(req.params.id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    res.set("Cache-Control", "no-store").json(job);
  };
}

/** `GET /media/scenes/:sceneId`: the latest version `{ sceneId, version, url, bytes }`. */
function latestScene(routes: SceneRoutes): RequestHandler<{ sceneId: string }> {
  return async (req, res) => {
    const { sceneId } = req.params;
    if (!SceneStore.isSceneId(sceneId)) return fail(res, 404, "not_found", "no such scene");
    try {
      const latest = await routes.store.latest(sceneId);
      if (!latest) return fail(res, 404, "not_found", "no such scene");
      res.set("Cache-Control", "no-store").json({
        sceneId,
        version: latest.version,
        url: `${routes.prefix}/${sceneId}/${latest.file}`,
        bytes: latest.bytes,
      });
    } catch (err) {
      routes.deps.logger.error({ err, sceneId }, "reading a scene failed");
      fail(res, 500, "internal", "could not read the scene");
    }
  };
}

/** `GET /media/scenes/:sceneId/v<n>.glb`: the asset, immutable, with Range support. */
function sceneAsset(routes: SceneRoutes): RequestHandler<{ sceneId: string; file: string }> {
  return (req, res) => {
    const { sceneId, file } = req.params;
    if (!SceneStore.isSceneId(sceneId) || !SceneStore.isVersionFile(file)) {
      return fail(res, 404, "not_found", "no such asset");
    }
    res.type("model/gltf-binary");
    res.sendFile(
      `${sceneId}/${file}`,
      {
        root: routes.store.dir,
        dotfiles: "deny",
        acceptRanges: true,
        // A version never changes once written.
        maxAge: 365 * 24 * 3600 * 1000,
        immutable: true,
        headers: { "Content-Type": "model/gltf-binary" },
      },
      (err?: Error) => {
        if (!err) return;
        sendFileFailed(
          res,
          err,
          { notFound: "no such asset", internal: "could not send the asset" },
          () => routes.deps.logger.error({ err, sceneId, file }, "sending a scene asset failed"),
        );
      },
    );
  };
}
