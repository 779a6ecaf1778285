/**
 * The data directory as the process opens it at start: the audit log is opened for
 * appending, recordings a crash left as `.part` are recovered, and retention (by age and
 * total size, per kind) runs now and then every `retentionIntervalS`.
 */
import type { Logger } from "pino";
import type { StoreConfig } from "../config.ts";
import { AuditLog } from "./audit-log.ts";
import { recoverRecordings, type RecoveredRecording } from "./recording-recovery.ts";
import { type RetentionRule, runRetention } from "./retention.ts";
import { type Orphan, setPidDir, sweepOrphans } from "../media/video/process-group.ts";
import { join } from "node:path";

export interface DataDir {
  readonly audit: AuditLog;
  /** What the start found and recovered (also logged and in the audit log). */
  readonly recovered: readonly RecoveredRecording[];
  /** ffmpeg/ffprobe children of a previous server process (pid files): killed now or ended. */
  readonly orphans: readonly Orphan[];
  /** Writes the audit log to stable storage now (fatal errors). */
  flushSync(): void;
  close(): void;
}

export interface DataDirOptions {
  store: StoreConfig;
  /** Folder of the recordings. */
  recordingsDir: string;
  /** Retention rules besides the recordings' (streams, scene versions). */
  retention?: readonly RetentionRule[];
  logger: Logger;
}

export async function openDataDir(o: DataDirOptions): Promise<DataDir> {
  const log = o.logger.child({ component: "store" });
  const audit = AuditLog.open({ file: o.store.auditFile, logger: log });
  audit.append({ kind: "start", data: { pid: process.pid } });
  // Children (ffmpeg) a killed server left behind die now; new ones get pid files here.
  const pidDir = join(o.store.dataDir, "run");
  const orphans = sweepOrphans(pidDir);
  setPidDir(pidDir);
  for (const orphan of orphans) {
    const lost = orphan.tags?.stream ? `; video stream ${orphan.tags.stream} was lost` : "";
    const message = orphan.killed
      ? `killed ${orphan.file} (pid ${orphan.pid}) left by a crash${lost}`
      : `${orphan.file} (pid ${orphan.pid}) ended with the previous server, unfinished${lost}`;
    log.warn({ orphan }, message);
    audit.append({ kind: "media", message, data: { ...orphan } });
  }
  const recovered = await recoverRecordings(o.recordingsDir, log).catch((err: unknown) => {
    log.error({ err }, "recovering recordings failed");
    return [];
  });
  for (const r of recovered) {
    audit.append({
      kind: "start",
      message: `recording ${r.from} left by a crash: ${r.outcome}`,
      data: { ...r },
    });
  }
  const maxAgeMs = o.store.retentionMaxAgeDays * 86_400_000;
  const rules: RetentionRule[] = [
    {
      name: "recordings",
      dir: o.recordingsDir,
      maxAgeMs,
      maxBytes: o.store.retentionRecordingsMaxBytes,
      // Only finished recordings: the ones being written are `.part`.
      match: (name) => name.endsWith(".mcap"),
    },
    ...(o.retention ?? []),
  ];
  // One sweep at a time: a slow disk must not stack sweeps over the same files.
  let sweeping = false;
  const sweep = () => {
    if (sweeping) return;
    sweeping = true;
    void runRetention(rules, log)
      .then(
        (removed) => {
          for (const r of removed)
            audit.append({ kind: "media", message: "retention", data: { ...r } });
        },
        (err: unknown) => log.error({ err }, "retention failed"),
      )
      .finally(() => (sweeping = false));
  };
  sweep();
  const timer = setInterval(sweep, o.store.retentionIntervalS * 1000);
  timer.unref();
  return {
    audit,
    recovered,
    orphans,
    flushSync: () => audit.flushSync(),
    close: () => {
      clearInterval(timer);
      audit.close();
    },
  };
}
