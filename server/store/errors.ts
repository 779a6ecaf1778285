/**
 * Typed failures of the recording store. Only {@link SessionRecorder.open} throws one to
 * its caller; later failures (a full disk, a removed folder) are logged as one of these and
 * end the recording while the session goes on.
 */

/** What went wrong, as a stable machine-readable tag. */
export const RecordingErrorCode = {
  /** Bad options given to the recorder (a caller bug). */
  InvalidOptions: "invalid_options",
  /** The folder or the file could not be created, or the MCAP header not written. */
  OpenFailed: "open_failed",
  /** Writing a message failed; recording stopped. */
  WriteFailed: "write_failed",
  /** Writing the summary, syncing, closing or renaming the finished file failed. */
  CloseFailed: "close_failed",
} as const;
export type RecordingErrorCode = (typeof RecordingErrorCode)[keyof typeof RecordingErrorCode];

/** A recording could not be opened, written or finished. */
export class RecordingError extends Error {
  constructor(
    readonly code: RecordingErrorCode,
    /** Absolute path of the recording (or of its folder when no file exists yet). */
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RecordingError";
  }
}
