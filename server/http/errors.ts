/**
 * The one vocabulary of `error.code` in JSON answers of the HTTP API
 * (`{ "error": { "code": "…", "message": "…" } }`). Clients switch on these strings; the
 * message is for people. General codes first, then the ones a media job or upload adds
 * (the video pipeline's and the reconstruction agent's own codes, which the HTTP layer
 * passes on unchanged). test/unit/http-errors.test.ts checks that every literal code in
 * server/http is listed here; the OpenAPI document enumerates the list.
 *
 * A malformed request is `bad_request` (never `invalid_request`): one word per meaning.
 * Room messages and the socket.io streams (live ingest, agent decisions) use the room list
 * (shared/messages/common.ts `ErrorCode`).
 */
import type { Response } from "express";
import { ReconstructionErrorCode } from "../media/reconstruction/errors.ts";
import { VIDEO_ERROR_CODES } from "../media/video/errors.ts";

/** Codes any route may answer with, by meaning. */
export const HttpErrorCode = {
  /** The request is malformed: bad JSON, a body or query parameter that fails its schema. */
  BadRequest: "bad_request",
  /** No token, or a bad or expired one (401, with `WWW-Authenticate: Bearer`). */
  Unauthorized: "unauthorized",
  /** A valid token whose role may not do this (403). */
  Forbidden: "forbidden",
  /** No such route, room, plan, recording, job or file (404). */
  NotFound: "not_found",
  /** The path exists, the method does not (405, with `Allow`). */
  MethodNotAllowed: "method_not_allowed",
  /** The request conflicts with the current state (409). */
  Conflict: "conflict",
  /** A job that already ended cannot be cancelled (409). */
  Finished: "finished",
  /** The byte range lies outside the file (416). */
  RangeNotSatisfiable: "range_not_satisfiable",
  /** Too many uploads or jobs at once: retry later (503, `Retry-After`). */
  Busy: "busy",
  /** Starting or shutting down (503 from `/readyz`). */
  NotReady: "not_ready",
  /** The video pipeline is off (no ffmpeg, or `VIDEO=false`) (503). */
  VideoOff: "video_off",
  /** `?room=` names no metaverse room of this process (404). */
  UnknownRoom: "unknown_room",
  /** An upload with no bytes (400). */
  Empty: "empty",
  /** A multipart upload without a file part (400). */
  NoFile: "no_file",
  /** A body whose type the route does not take (415). */
  UnsupportedMediaType: "unsupported_media_type",
  /** Larger than the route's limit (413); nothing of it is kept. */
  TooLarge: "too_large",
  /** An upload whose content fails its format, e.g. a malformed RGB-D capture (400). */
  BadUpload: "bad_upload",
  /** Too little free disk for the upload (`MIN_FREE_DISK_BYTES`) (507). */
  InsufficientStorage: "insufficient_storage",
  /** Unexpected server fault (500); details are in the server log only. */
  Internal: "internal",
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** Every code an HTTP answer may carry: the general ones and the media jobs' own. */
export const HTTP_ERROR_CODES: readonly string[] = [
  ...new Set<string>([
    ...Object.values(HttpErrorCode),
    ...VIDEO_ERROR_CODES,
    ...Object.values(ReconstructionErrorCode),
  ]),
];

/**
 * Answers `{ error: { code, message } }` with `status`; does nothing when an answer has
 * already begun (a stream that failed half-way is cut by its caller instead).
 */
export function fail(res: Response, status: number, code: string, message: string): void {
  if (res.headersSent) return;
  res.status(status).json({ error: { code, message } });
}
