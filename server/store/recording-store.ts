/**
 * The finished recordings in one folder: listing with what each file's MCAP summary says
 * (time span, message count) and safe resolution of a name to a path for download.
 *
 * Only names matching {@link RECORDING_NAME} are ever listed or resolved, so `.part` files
 * being written, hidden files and anything with a path separator are invisible; a name is
 * resolved only to a regular file directly inside the folder (not a link, not a folder).
 */
import { lstatSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "./file-io.ts";
import { RECORDING_NAME } from "./recording-writer.ts";

/** One finished recording as listed. */
export interface RecordingInfo {
  /** File name (what `GET /api/recordings/:name` takes). */
  name: string;
  /** File size, bytes. */
  bytes: number;
  /** Last modification (≈ when the recording finished), ISO 8601 UTC. */
  modified: string;
  /** Log time of the first message, ISO 8601 UTC (absent when unreadable or empty). */
  startTime?: string;
  /** Log time of the last message, ISO 8601 UTC (absent when unreadable or empty). */
  endTime?: string;
  /** Messages in the file (absent when its summary is unreadable). */
  messageCount?: number;
}

type Summary = Pick<RecordingInfo, "startTime" | "endTime" | "messageCount">;

/** Files whose summaries are read at the same time while listing. */
const LIST_CONCURRENCY = 8;

export class RecordingStore {
  /** Absolute folder of the recordings. */
  readonly dir: string;
  /** Summaries by name, valid while the file's size and mtime stay the same. */
  readonly #cache = new Map<string, { size: number; mtimeMs: number; summary: Summary }>();

  /** @param dir folder of the recordings (need not exist yet) */
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /**
   * Finished recordings, newest first. A file whose summary cannot be read (not MCAP,
   * truncated) is still listed, without `startTime`, `endTime` and `messageCount`.
   * A missing folder lists as empty.
   */
  async list(): Promise<RecordingInfo[]> {
    let names: string[];
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      names = entries.filter((e) => e.isFile() && RECORDING_NAME.test(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const out: RecordingInfo[] = [];
    for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(
        names.slice(i, i + LIST_CONCURRENCY).map((n) => this.#info(n)),
      );
      for (const info of batch) if (info) out.push(info);
    }
    for (const name of this.#cache.keys()) if (!names.includes(name)) this.#cache.delete(name);
    return out.sort((a, b) => b.modified.localeCompare(a.modified) || a.name.localeCompare(b.name));
  }

  /**
   * Absolute path of the recording `name`, or null when the name is not a recording name
   * (path separators, `..`, `.part`, hidden files) or no such regular file exists.
   */
  path(name: string): string | null {
    if (typeof name !== "string" || !RECORDING_NAME.test(name)) return null;
    const file = join(this.dir, name);
    try {
      return lstatSync(file).isFile() ? file : null;
    } catch {
      return null;
    }
  }

  async #info(name: string): Promise<RecordingInfo | undefined> {
    const file = join(this.dir, name);
    let st;
    try {
      st = await stat(file);
    } catch {
      return undefined; // removed while listing
    }
    let cached = this.#cache.get(name);
    if (!cached || cached.size !== st.size || cached.mtimeMs !== st.mtimeMs) {
      cached = { size: st.size, mtimeMs: st.mtimeMs, summary: await readSummary(file) };
      this.#cache.set(name, cached);
    }
    return {
      name,
      bytes: st.size,
      modified: st.mtime.toISOString(),
      ...cached.summary,
    };
  }
}

/** Start, end and message count from the file's Statistics record; {} when unreadable. */
async function readSummary(file: string): Promise<Summary> {
  let handle;
  try {
    handle = await open(file, "r");
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    const stats = reader.statistics;
    if (!stats) return {};
    const messageCount = Number(stats.messageCount);
    if (messageCount === 0) return { messageCount };
    return {
      startTime: nsToIso(stats.messageStartTime),
      endTime: nsToIso(stats.messageEndTime),
      messageCount,
    };
  } catch {
    return {};
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** ns since the Unix epoch → ISO 8601 (ms resolution). */
function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
