/**
 * ffmpeg and ffprobe run in process groups of their own (`detached: true`), so the server
 * can kill a child with everything it started (`process.kill(-pid)`), and they die with the
 * server: every group still running is killed when the process exits (normal exit, a signal
 * handled by shutdown.ts, or a fatal error). A server killed outright (SIGKILL, OOM) runs no
 * code, so each child also has a pid file (`<pidDir>/<pid>.json`) that the next start reads
 * to kill the orphans it left ({@link sweepOrphans}).
 *
 * The set of live children is process-wide state by nature (the `exit` hook is), so it is
 * kept here rather than injected.
 */
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a pid file says about the child. */
export interface PidRecord {
  readonly pid: number;
  /** Executable, for the orphan check (a reused pid running something else is left alone). */
  readonly file: string;
  readonly startedAt: string;
  /** Free-form labels (job id, room) for the report of what a crash lost. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A pid file found at start: whether its process was still running and is now killed. */
export interface Orphan extends PidRecord {
  readonly killed: boolean;
}

const live = new Map<number, ChildProcess>();
let pidDir: string | null = null;
let hooked = false;

/** Where pid files go (the media folder); without one no pid files are written. */
export function setPidDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  pidDir = dir;
}

/**
 * `spawn` in a new process group, tracked until it exits (pid file, exit hook).
 * `options.detached` is forced on; stdio is the caller's.
 */
export function spawnGrouped(
  file: string,
  args: readonly string[],
  options: SpawnOptions,
  tags?: Record<string, string>,
): ChildProcess {
  hookExit();
  const child = spawn(file, [...args], { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) return child; // failed to start: the caller sees "error"
  live.set(pid, child);
  const pidFile = pidDir ? join(pidDir, `${pid}.json`) : null;
  if (pidFile) {
    const record: PidRecord = {
      pid,
      file,
      startedAt: new Date().toISOString(),
      ...(tags && { tags }),
    };
    try {
      writeFileSync(pidFile, JSON.stringify(record));
    } catch {
      // No pid file: the exit hook still covers every exit but SIGKILL.
    }
  }
  child.once("exit", () => {
    live.delete(pid);
    if (pidFile) rmSync(pidFile, { force: true });
  });
  return child;
}

/** Sends `signal` to the child's whole group (falls back to the child alone). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Kills every live group now (synchronous; the `exit` hook). */
export function killAllGroups(): void {
  for (const child of live.values()) killGroup(child, "SIGKILL");
}

/** Children running now. */
export function liveChildren(): number {
  return live.size;
}

/**
 * Kills the groups of children a previous server process left (pid files in `dir`) and
 * removes their pid files. A pid that now belongs to another program is left alone.
 * @returns the records of the orphans found, each saying whether it was still running and
 *   killed now or had already ended (e.g. killed by the exit hook of a server that died)
 */
export function sweepOrphans(dir: string): Orphan[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const found: Orphan[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let record: PidRecord | null = null;
    try {
      record = JSON.parse(readFileSync(path, "utf8")) as PidRecord;
    } catch {
      // Unreadable pid file: dropped below.
    }
    if (record && live.has(record.pid)) continue; // ours, running now
    if (record) {
      let killed = false;
      if (runs(record)) {
        try {
          process.kill(-record.pid, "SIGKILL");
          killed = true;
        } catch {
          // Exited meanwhile.
        }
      }
      found.push({ ...record, killed });
    }
    rmSync(path, { force: true });
  }
  return found;
}

/** Whether `record.pid` still runs the program it was started as (Linux /proc). */
function runs(record: PidRecord): boolean {
  try {
    const cmd = readFileSync(`/proc/${record.pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return cmd === record.file || cmd.endsWith(`/${record.file.split("/").pop() ?? ""}`);
  } catch {
    // No /proc (not Linux) or no such process: try the signal only if it exists at all.
    try {
      process.kill(record.pid, 0);
      return process.platform !== "linux";
    } catch {
      return false;
    }
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAllGroups);
}
