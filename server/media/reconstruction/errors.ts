/**
 * Typed errors of the reconstruction agent. Every error carries a stable `code` that the
 * HTTP layer turns into a status and a JSON `{ error: { code, message } }`, and (where one
 * exists) the frame it was about and the underlying error as `cause`.
 */

/** Every code a reconstruction error may carry. */
export const ReconstructionErrorCode = {
  /** `depthM` length ≠ width·height, `rgb` length ≠ width·height·3, or a bad width/height. */
  BadDimensions: "bad_dimensions",
  /** fx, fy, cx or cy is not a finite number, or fx/fy ≤ 0. */
  BadIntrinsics: "bad_intrinsics",
  /** A camera pose with a non-finite value or a zero quaternion. */
  BadPose: "bad_pose",
  /** No frames at all. */
  NoFrames: "no_frames",
  /** More frames than the configured limit. */
  TooManyFrames: "too_many_frames",
  /** The volume would hold more voxels than the configured limit (memory bound). */
  TooManyVoxels: "too_many_voxels",
  /** A volume with an empty or inverted box, or a voxel size outside the limits. */
  BadVolume: "bad_volume",
  /** The frames produced no surface inside the volume (nothing seen, all depth invalid). */
  EmptyResult: "empty_result",
  /** The backend cannot reconstruct this kind of input (e.g. RGB-D frames sent to SF3D). */
  UnsupportedInput: "unsupported_input",
  /** The caller's signal aborted the job. */
  Aborted: "aborted",
  /** The job, or the remote service, took longer than its time limit. */
  Timeout: "timeout",
  /** The remote service answered with an HTTP error status. */
  HttpError: "http_error",
  /** The remote service could not be reached (connection refused, reset, DNS). */
  Unreachable: "unreachable",
  /** The remote service answered with more bytes than allowed. */
  ResponseTooLarge: "response_too_large",
  /** Bytes that are not a valid glTF 2.0 binary (magic, version, length, chunks, JSON). */
  InvalidGlb: "invalid_glb",
} as const;
export type ReconstructionErrorCode =
  (typeof ReconstructionErrorCode)[keyof typeof ReconstructionErrorCode];

/** Options of {@link ReconstructionError} beyond the standard `cause`. */
export interface ReconstructionErrorOptions extends ErrorOptions {
  /** Index of the offending frame in the input, when the error is about one frame. */
  readonly frameIndex?: number;
}

/** Base class of every error the reconstruction agent throws on purpose. */
export class ReconstructionError extends Error {
  /** Stable machine-readable reason. */
  readonly code: ReconstructionErrorCode;
  /** Index of the offending frame, when the error is about one frame. */
  readonly frameIndex: number | undefined;
  constructor(
    code: ReconstructionErrorCode,
    message: string,
    options?: ReconstructionErrorOptions,
  ) {
    super(options?.frameIndex === undefined ? message : `frame ${options.frameIndex}: ${message}`, {
      ...(options?.cause !== undefined && { cause: options.cause }),
    });
    this.name = new.target.name;
    this.code = code;
    this.frameIndex = options?.frameIndex;
  }
}

/** An error of the SF3D-style HTTP backend; `status` is the HTTP status when there was one. */
export class Sf3dError extends ReconstructionError {
  /** HTTP status of the service's answer, when it answered. */
  readonly status: number | undefined;
  constructor(
    code: ReconstructionErrorCode,
    message: string,
    options?: ReconstructionErrorOptions & { readonly status?: number },
  ) {
    super(code, message, options);
    this.status = options?.status;
  }
}

/** True for errors that a client caused (bad input), as opposed to the server or a backend. */
export function isInputError(err: unknown): err is ReconstructionError {
  if (!(err instanceof ReconstructionError)) return false;
  const input: readonly ReconstructionErrorCode[] = [
    ReconstructionErrorCode.BadDimensions,
    ReconstructionErrorCode.BadIntrinsics,
    ReconstructionErrorCode.BadPose,
    ReconstructionErrorCode.NoFrames,
    ReconstructionErrorCode.TooManyFrames,
    ReconstructionErrorCode.TooManyVoxels,
    ReconstructionErrorCode.BadVolume,
    ReconstructionErrorCode.UnsupportedInput,
  ];
  return input.includes(err.code);
}

/**
 * Throws the right error when `signal` has fired: {@link ReconstructionErrorCode.Timeout}
 * for a `TimeoutError` reason (as `AbortSignal.timeout` gives), else `Aborted`.
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (!signal?.aborted) return;
  throw abortError(signal, what);
}

/** The error to throw for a fired `signal` (see {@link throwIfAborted}). */
export function abortError(signal: AbortSignal, what: string): ReconstructionError {
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  return new ReconstructionError(
    timedOut ? ReconstructionErrorCode.Timeout : ReconstructionErrorCode.Aborted,
    `${what} ${timedOut ? "timed out" : "was aborted"}`,
    { cause: reason },
  );
}
