/**
 * Child processes for ffmpeg and ffprobe: bounded output capture, a line reader for
 * `-progress pipe:1`, and a hard deadline. A process that runs past its timeout or whose
 * signal aborts is killed with SIGKILL (ffmpeg's graceful SIGTERM path can block on a full
 * output pipe, and nothing it would flush is kept anyway). Children run in their own process
 * group and die with the server (process-group.ts).
 */
import { killGroup, spawnGrouped } from "./process-group.ts";

/** Keeps the last `maxBytes` bytes written to it (e.g. ffmpeg's stderr). */
export class TailBuffer {
  readonly maxBytes: number;
  private chunks: Buffer[] = [];
  private length = 0;
  /** Bytes seen in total, including those dropped from the front. */
  totalBytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = Math.max(1, Math.floor(maxBytes));
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Compact only when twice over, so a stream of small chunks costs O(1) amortised.
    if (this.length > 2 * this.maxBytes) this.compact();
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks, this.length);
    const kept = all.subarray(all.length - this.maxBytes);
    this.chunks = [Buffer.from(kept)];
    this.length = kept.length;
  }

  /** The kept bytes as UTF-8 (a leading partial character or line is trimmed away). */
  toString(): string {
    if (this.length > this.maxBytes) this.compact();
    const text = Buffer.concat(this.chunks, this.length).toString("utf8");
    if (this.totalBytes <= this.maxBytes) return text;
    const nl = text.indexOf("\n");
    return nl >= 0 && nl < text.length - 1 ? text.slice(nl + 1) : text;
  }
}

/**
 * Splits a byte stream into lines and hands each to `onLine`. A line longer than
 * `maxLineBytes` is dropped (the rest of it up to the next newline is skipped), so a
 * misbehaving child cannot grow the buffer.
 */
export class LineSplitter {
  private partial = "";
  private skipping = false;
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 64 * 1024,
  ) {}

  push(chunk: Buffer): void {
    const text = chunk.toString("utf8");
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break;
      const piece = text.slice(start, nl);
      if (!this.skipping) this.onLine((this.partial + piece).replace(/\r$/, ""));
      this.partial = "";
      this.skipping = false;
      start = nl + 1;
    }
    if (this.skipping) return;
    this.partial += text.slice(start);
    if (this.partial.length > this.maxLineBytes) {
      this.partial = "";
      this.skipping = true;
    }
  }
}

/** How to run one child process. */
export interface RunOptions {
  /** Hard deadline, ms; past it the child is killed and `timedOut` is true. */
  readonly timeoutMs: number;
  /** Aborting kills the child; `aborted` is then true. */
  readonly signal?: AbortSignal;
  /** Called for every stdout line (stdout is then not kept). */
  readonly onStdoutLine?: (line: string) => void;
  /** Most stdout bytes kept when there is no line handler; beyond it the child is killed. */
  readonly maxStdoutBytes?: number;
  /** Bytes of stderr kept (the tail), default 16 KiB. */
  readonly stderrTailBytes?: number;
  /** Labels written into the child's pid file (e.g. the job), reported if a crash loses it. */
  readonly tags?: Record<string, string>;
}

/** What a finished child left. */
export interface RunResult {
  /** Exit code, or null when it ended by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** All of stdout (UTF-8) unless a line handler took it, then "". */
  readonly stdout: string;
  /** The last `stderrTailBytes` of stderr. */
  readonly stderrTail: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** stdout exceeded `maxStdoutBytes` and the child was killed. */
  readonly stdoutOverflow: boolean;
  /** Wall time from spawn to exit, ms. */
  readonly wallMs: number;
}

/** Thrown when the executable cannot be started at all (ENOENT, EACCES). */
export class SpawnError extends Error {
  constructor(file: string, cause: unknown) {
    super(`cannot start ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = "SpawnError";
  }
}

/**
 * Runs `file args` with stdin closed and resolves when it has exited (never rejects for a
 * non-zero exit; rejects with `SpawnError` only when it could not be started).
 */
export function runProcess(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const stderr = new TailBuffer(options.stderrTailBytes ?? 16 * 1024);
    const maxStdout = options.maxStdoutBytes ?? 8 * 1024 * 1024;
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let timedOut = false;
    let aborted = false;
    let stdoutOverflow = false;
    let settled = false;

    if (options.signal?.aborted) {
      resolve({
        exitCode: null,
        signal: null,
        stdout: "",
        stderrTail: "",
        timedOut: false,
        aborted: true,
        stdoutOverflow: false,
        wallMs: 0,
      });
      return;
    }

    const child = spawnGrouped(file, args, { stdio: ["ignore", "pipe", "pipe"] }, options.tags);
    const kill = () => killGroup(child, "SIGKILL");
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const lines = options.onStdoutLine ? new LineSplitter(options.onStdoutLine) : null;
    child.stdout!.on("data", (chunk: Buffer) => {
      if (lines) return lines.push(chunk);
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        stdoutOverflow = true;
        kill();
        return;
      }
      stdoutChunks.push(chunk);
    });
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({
        exitCode,
        signal,
        stdout: lines ? "" : Buffer.concat(stdoutChunks).toString("utf8"),
        stderrTail: stderr.toString(),
        timedOut,
        aborted,
        stdoutOverflow,
        wallMs: performance.now() - started,
      });
    };
    child.once("error", (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      kill();
      reject(new SpawnError(file, err));
    });
    // "close" waits for stdio to drain, so the stderr tail is complete.
    child.once("close", (code, signal) => finish(code, signal));
  });
}
