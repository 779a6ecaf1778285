/**
 * The audit log: who approved, stopped and was refused what, as JSON lines appended to one
 * file in the data directory (`DATA_DIR/audit.jsonl`). Every record is written with a
 * synchronous `write(2)` the moment it happens, so it survives the process being killed an
 * instant later (the kernel has it); safety records (approvals, stops, aborts, link loss, a
 * crash) are also `fsync`ed at once, so they survive a power cut; other records (refusals,
 * plans, media) are fsynced together {@link AuditLogOptions.syncDelayMs} later, by one
 * `fsync` off the event loop (one at a time). The file is opened append-only and is
 * never rewritten or truncated by the server.
 */
import { closeSync, fsync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";

/** What a record is about. */
export type AuditKind =
  | "approve"
  | "stop"
  | "abort"
  | "plan"
  | "reset"
  | "refusal"
  | "link"
  | "fatal"
  | "start"
  | "media";

/** One line of the audit log. */
export interface AuditRecord {
  /** ISO 8601 UTC time of the event. */
  readonly at: string;
  readonly kind: AuditKind;
  /** Room (twin session) the event belongs to; absent for process events. */
  readonly room?: string;
  /** Who: the user id, display name, role and seat; absent for the system. */
  readonly user?: string;
  readonly name?: string;
  readonly role?: string;
  readonly session?: string;
  /** Message type for commands and refusals. */
  readonly type?: string;
  readonly planId?: string;
  /** Error code of a refusal. */
  readonly code?: string;
  readonly message?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface AuditLogOptions {
  /** File to append to (its folder is created). */
  file: string;
  logger: Logger;
  /** Wait before non-safety records are fsynced (after any fsync in flight), ms (default 200). */
  syncDelayMs?: number;
}

/** Kinds fsynced before {@link AuditLog.append} returns. */
const SYNC_NOW: ReadonlySet<AuditKind> = new Set(["approve", "stop", "abort", "fatal", "link"]);

export class AuditLog {
  readonly file: string;
  #fd: number | null;
  readonly #log: Logger;
  readonly #syncDelayMs: number;
  #syncTimer: NodeJS.Timeout | null = null;
  /** An async fsync is running; #syncAgain: records were written after it started. */
  #syncing = false;
  #syncAgain = false;
  #failed = false;

  private constructor(file: string, fd: number, options: AuditLogOptions) {
    this.file = file;
    this.#fd = fd;
    this.#log = options.logger;
    this.#syncDelayMs = options.syncDelayMs ?? 200;
  }

  /** Opens (creating) the log for appending. @throws when the file cannot be opened */
  static open(options: AuditLogOptions): AuditLog {
    mkdirSync(dirname(options.file), { recursive: true });
    const fd = openSync(options.file, "a", 0o640);
    return new AuditLog(options.file, fd, options);
  }

  /**
   * Appends one record now (synchronously). Never throws: a failing disk is logged once and
   * the server keeps serving (a STOP must not fail because the log cannot be written).
   */
  append(record: Omit<AuditRecord, "at"> & { at?: string }): void {
    const fd = this.#fd;
    if (fd === null) return;
    const line = JSON.stringify({ ...record, at: record.at ?? new Date().toISOString() }) + "\n";
    try {
      writeSync(fd, line);
      if (SYNC_NOW.has(record.kind)) fsyncSync(fd);
      else this.#scheduleSync(fd);
    } catch (err) {
      if (!this.#failed) this.#log.error({ err, file: this.file }, "audit log write failed");
      this.#failed = true;
    }
  }

  /** Writes everything to stable storage now (fatal errors call this before exiting). */
  flushSync(): void {
    const fd = this.#fd;
    if (fd === null) return;
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = null;
    try {
      fsyncSync(fd);
    } catch (err) {
      this.#log.error({ err }, "audit log fsync failed");
    }
  }

  close(): void {
    this.flushSync();
    const fd = this.#fd;
    this.#fd = null;
    if (fd !== null) closeSync(fd);
  }

  /**
   * One deferred `fsync` for every record written since the last: a timer, then one fsync
   * in the thread pool. Never more than one in flight (a slow disk must not fill the pool
   * with them); records written meanwhile get the next one.
   */
  #scheduleSync(fd: number): void {
    if (this.#syncTimer) return;
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = null;
      if (this.#fd !== fd) return;
      this.#syncing = true;
      fsync(fd, (err) => {
        this.#syncing = false;
        // Closed meanwhile: close() fsynced synchronously, this error says nothing.
        if (this.#fd !== fd) return;
        if (err) this.#log.error({ err }, "audit log fsync failed");
        if (this.#syncAgain) {
          this.#syncAgain = false;
          this.#scheduleSync(fd);
        }
      });
    }, this.#syncDelayMs);
    this.#syncTimer.unref();
  }
}
