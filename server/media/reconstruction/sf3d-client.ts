/**
 * The real reconstruction backend: an HTTP client for an SF3D-style single-image-to-3D
 * service (Stable Fast 3D or alike, on a GPU, deployed beside the server).
 *
 * Wire contract (the service is ours to deploy, so this is the whole of it):
 *
 *   POST <baseUrl>/reconstruct
 *     Content-Type: image/png          body: the PNG file
 *     Accept: model/gltf-binary
 *   → 200, body: a glTF 2.0 binary (y up, metres; textured or vertex coloured)
 *   → any other status: failure; a short text or JSON body says why
 *
 * The client sends each request once (no retries: a GPU job is expensive and the caller's
 * job queue decides whether to try again), bounds it by a timeout, refuses answers larger
 * than `maxResponseBytes` while they stream in, and checks the answer is a valid GLB
 * (magic `glTF`, version 2, length header, chunks, parseable document) before returning it.
 */
import { deadline } from "../../deadline.ts";
import { Sf3dError, ReconstructionErrorCode, abortError } from "./errors.ts";
import { summarizeGlb } from "./glb.ts";
import type { ReconstructionInput, ReconstructionResult, Reconstructor } from "./reconstructor.ts";
import { ReconstructionError } from "./errors.ts";

/** Options of the {@link Sf3dReconstructor}. */
export interface Sf3dOptions {
  /** Service root, e.g. `http://sf3d:8000` (`/reconstruct` is appended). */
  readonly baseUrl: string;
  /** Time limit of one call (request, GPU work and response), ms (default 120 000). */
  readonly timeoutMs?: number;
  /** Largest accepted answer, bytes (default 64 MiB). */
  readonly maxResponseBytes?: number;
  /** Largest PNG sent, bytes (default 16 MiB). */
  readonly maxImageBytes?: number;
}

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** Single PNG → GLB through an SF3D-style service. */
export class Sf3dReconstructor implements Reconstructor {
  readonly name = "sf3d";
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #maxImageBytes: number;

  constructor(options: Sf3dOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new RangeError(`SF3D base URL must be http(s), got ${base.protocol}`);
    }
    this.#url = `${base.href.replace(/\/+$/, "")}/reconstruct`;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.#maxImageBytes = options.maxImageBytes ?? 16 * 1024 * 1024;
  }

  /** The endpoint called. */
  get url(): string {
    return this.#url;
  }

  async reconstruct(
    input: ReconstructionInput,
    signal?: AbortSignal,
  ): Promise<ReconstructionResult> {
    if (input.kind !== "image") {
      throw new ReconstructionError(
        ReconstructionErrorCode.UnsupportedInput,
        `${this.name} reconstructs a single PNG image, not ${input.kind} frames`,
      );
    }
    const png = input.png;
    if (png.length < 8 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) {
      throw new ReconstructionError(ReconstructionErrorCode.UnsupportedInput, "image is not a PNG");
    }
    if (png.length > this.#maxImageBytes) {
      throw new ReconstructionError(
        ReconstructionErrorCode.UnsupportedInput,
        `PNG of ${png.length} bytes exceeds the limit of ${this.#maxImageBytes}`,
      );
    }
    const limit = deadline(this.#timeoutMs, signal);
    const combined = limit.signal;
    // The reason decides the error: the caller's own (followed), or our timeout.
    const fired = (): ReconstructionError => abortError(combined, "SF3D call");

    const t0 = performance.now();
    let res: Response;
    let body: Uint8Array;
    try {
      try {
        res = await fetch(this.#url, {
          method: "POST",
          headers: { "content-type": "image/png", accept: "model/gltf-binary" },
          body: png,
          signal: combined,
          redirect: "error",
        });
      } catch (err) {
        if (combined.aborted) throw withStatus(fired());
        throw new Sf3dError(
          ReconstructionErrorCode.Unreachable,
          `SF3D service at ${this.#url} unreachable`,
          {
            cause: err,
          },
        );
      }
      try {
        if (!res.ok) {
          const text = (await readCapped(res, 2048, true)).toString();
          throw new Sf3dError(
            ReconstructionErrorCode.HttpError,
            `SF3D service answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
            { status: res.status },
          );
        }
        const declared = Number(res.headers.get("content-length") ?? Number.NaN);
        if (declared > this.#maxResponseBytes) {
          await res.body?.cancel();
          throw tooLarge(declared, this.#maxResponseBytes, res.status);
        }
        const buf = await readCapped(res, this.#maxResponseBytes, false);
        body = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        if (err instanceof ReconstructionError) throw err;
        if (combined.aborted) throw withStatus(fired(), res.status);
        throw new Sf3dError(ReconstructionErrorCode.Unreachable, "SF3D response broke off", {
          cause: err,
          status: res.status,
        });
      }
    } finally {
      limit.clear();
    }
    const meshMs = performance.now() - t0;
    const t1 = performance.now();
    let summary;
    try {
      summary = await summarizeGlb(body);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Sf3dError(
        ReconstructionErrorCode.InvalidGlb,
        `SF3D answer is not a valid GLB: ${message}`,
        {
          cause: err,
          status: res.status,
        },
      );
    }
    if (summary.triangles === 0) {
      throw new Sf3dError(ReconstructionErrorCode.EmptyResult, "SF3D answer holds no triangles", {
        status: res.status,
      });
    }
    return {
      glb: body,
      vertices: summary.vertices,
      triangles: summary.triangles,
      boundsM: summary.boundsM,
      stats: { integrateMsPerFrame: 0, meshMs, encodeMs: performance.now() - t1 },
    };
  }
}

function withStatus(err: ReconstructionError, status?: number): Sf3dError {
  return new Sf3dError(err.code, err.message, {
    cause: err.cause,
    ...(status !== undefined && { status }),
  });
}

function tooLarge(bytes: number, max: number, status: number): Sf3dError {
  return new Sf3dError(
    ReconstructionErrorCode.ResponseTooLarge,
    `SF3D answer of ${bytes}+ bytes exceeds the limit of ${max}`,
    { status },
  );
}

/**
 * Reads a response body up to `max` bytes. Beyond it: `truncate` keeps the first `max`
 * bytes and drops the rest; otherwise the stream is cancelled with `response_too_large`.
 */
async function readCapped(res: Response, max: number, truncate: boolean): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > max) {
      await reader.cancel();
      if (truncate) {
        chunks.push(value.subarray(0, max - total));
        total = max;
        break;
      }
      throw tooLarge(total + value.byteLength, max, res.status);
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return Buffer.concat(chunks, total);
}
