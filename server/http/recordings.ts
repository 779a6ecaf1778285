/**
 * Session recordings over HTTP (mounted under `/api`):
 *
 *   GET /recordings         finished recordings, newest first (see `RecordingInfo`)
 *   GET /recordings/:name   the MCAP file as an attachment; Range requests (206) work, so
 *                           Foxglove and download tools can fetch parts of large files
 *
 * Unknown or unsafe names (`..%2F..%2Fetc%2Fpasswd`, `.part` files, deeper paths) get
 * 404 `{ error: { code: "not_found", message } }` and reveal nothing about the disk.
 */
import type express from "express";
import type { Response } from "express";
import type { Logger } from "pino";
import type { RecordingStore } from "../store/recording-store.ts";
import { fail } from "./errors.ts";

function notFound(res: Response): void {
  fail(res, 404, "not_found", "no such recording");
}

/** Adds the recording routes to `router` (the caller mounts it, e.g. under `/api`). */
export function mountRecordingRoutes(
  router: express.Router,
  store: RecordingStore,
  logger: Logger,
): void {
  router.get("/recordings", async (_req, res) => {
    try {
      const list = await store.list();
      res.set("Cache-Control", "no-store").json(list);
    } catch (err) {
      logger.error({ err, dir: store.dir }, "listing recordings failed");
      fail(res, 500, "internal", "could not list recordings");
    }
  });

  router.get("/recordings/:name", (req, res) => {
    const name = req.params.name;
    if (store.path(name) === null) return notFound(res);
    res.attachment(name);
    res.type("application/octet-stream");
    // `root` makes `send` refuse anything outside the folder as well (defence in depth).
    res.sendFile(name, { root: store.dir, dotfiles: "deny", maxAge: 0 }, (err?: Error) => {
      if (!err) return;
      const e = err as Error & { status?: number; statusCode?: number; code?: string };
      const status = e.status ?? e.statusCode;
      if (res.headersSent || e.code === "ECONNABORTED" || e.code === "ECONNRESET") {
        if (!res.writableEnded) res.destroy();
        return;
      }
      // The file's headers were set before `send` failed; the answer is JSON instead.
      for (const h of ["Content-Disposition", "Content-Type", "ETag", "Last-Modified"]) {
        res.removeHeader(h);
      }
      if (status === 404) return notFound(res);
      if (status === 416) {
        return fail(res, 416, "range_not_satisfiable", "requested range is outside the file");
      }
      if (status !== undefined && status >= 400 && status < 500) {
        return fail(res, status, "bad_request", e.message);
      }
      logger.error({ err, name }, "sending a recording failed");
      fail(res, 500, "internal", "could not send the recording");
    });
  });

  // Anything deeper (`/recordings/a/b`, an unencoded `../`) is no recording either.
  router.get("/recordings/*rest", (_req, res) => notFound(res));
}
