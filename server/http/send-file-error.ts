/**
 * Answering a file that `res.sendFile` could not send (media-routes.ts, reconstruction-routes.ts).
 */
import type { Response } from "express";
import { fail } from "./errors.ts";

/** What the route calls the file, for its 404 and 500 answers. */
export interface SendFileWords {
  /** Message of the 404, e.g. "no such file". */
  readonly notFound: string;
  /** Message of the 500, e.g. "could not send the file". */
  readonly internal: string;
}

/**
 * Answers `err` of `res.sendFile`: while nothing has gone out, the file's headers are removed
 * and the answer is JSON — 404, 416, another 4xx as `bad_request`, else 500 after
 * `logInternal` (the route's log line); once bytes went out, or when the client went away,
 * the response is just closed.
 */
export function sendFileFailed(
  res: Response,
  err: Error,
  words: SendFileWords,
  logInternal: () => void,
): void {
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
    return fail(res, 404, "not_found", words.notFound);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return fail(res, status, "bad_request", e.message);
  }
  logInternal();
  fail(res, 500, "internal", words.internal);
}
