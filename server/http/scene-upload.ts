/**
 * Reading a scene upload's body as it streams in, and answering a refused one (for
 * reconstruction-routes.ts): the RGB-D container is parsed chunk by chunk, a PNG collected
 * up to the limit; either fails as soon as a chunk breaks a limit.
 */
import type { Request, Response } from "express";
import {
  RgbdUploadParser,
  UploadError,
  type ParsedUpload,
} from "../media/reconstruction/upload-format.ts";
import type { ReconstructionLimits } from "../media/reconstruction/reconstructor.ts";
import { fail } from "./errors.ts";
import { drainRefused } from "./refused-body.ts";

/**
 * Answers an upload early. The rest of the body is read and dropped (so the client, still
 * sending, gets the answer instead of a reset) up to `drainBytes` more; past that the
 * connection is cut.
 */
export function refuse(
  req: Request,
  res: Response,
  status: number,
  code: string,
  message: string,
  drainBytes: number,
): void {
  fail(res, status, code, message);
  drainRefused(req, { maxBytes: drainBytes });
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

/** Whether `err` says the client went away mid-upload (nobody to answer). */
export function isClientAbort(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNABORTED";
}

/**
 * Parses an RGB-D upload (`upload-format.ts`) as it arrives, within the reconstructor's
 * `limits` and `maxUploadBytes`.
 * @throws UploadError (malformed, too large), ReconstructionError, a client abort
 */
export async function readRgbd(
  req: Request,
  limits: ReconstructionLimits | undefined,
  maxUploadBytes: number,
): Promise<ParsedUpload> {
  const parser = new RgbdUploadParser({ ...limits, maxUploadBytes });
  await consume(req, (chunk) => parser.push(chunk));
  return parser.finish();
}

/**
 * The whole body as one PNG's bytes, refused past `maxBytes`.
 * @throws UploadError `too_large`, a client abort
 */
export async function readPng(req: Request, maxBytes: number): Promise<Uint8Array> {
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
