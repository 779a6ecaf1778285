/**
 * Receiving a video upload (for media-routes.ts): the request body, raw or the first file
 * part of a multipart/form-data body, streamed to a file with the size limit enforced while
 * it streams (a refused upload's rest is drained by refused-body.ts).
 */
import { createWriteStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import busboy from "busboy";
import { UploadTooLargeError } from "../media/video/errors.ts";

/** Passes bytes through, failing with UploadTooLargeError past `max`. */
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
export class ClientAbortError extends Error {}

/** Thrown for a multipart body without a file part. */
export class NoFileError extends Error {}

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
export function receiveUpload(
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
