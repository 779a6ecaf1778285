/**
 * Recovery of recordings a crash left behind: for every `<name>.mcap.part` in the folder,
 * the complete chunks of the `.part` (read with a streaming MCAP reader, up to the first
 * damaged or missing byte) and the journal `<name>.mcap.part.journal` (every message up to
 * the writer's last flush; see recording-writer.ts) are merged, de-duplicated, and
 * written as a valid, indexed `<name>.mcap` (listed and served like any recording). The
 * `.part` and the journal are then removed. A `.part` from which nothing at all can be read
 * is kept, renamed `<name>.mcap.unrecoverable`, and reported.
 */
import { open as openFile, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { McapStreamReader } from "@mcap/core";
import type { Logger } from "pino";
import { FileHandleWritable } from "./file-io.ts";
import { CHANNELS, ROBOT_DESCRIPTION_CHANNEL } from "./recording-schemas.ts";
import { exists, journalPath, type JournalLine, startMcap } from "./recording-writer.ts";

/** What happened to one `.part` file. */
export interface RecoveredRecording {
  /** The `.part` file name. */
  readonly from: string;
  /** The recovered recording's name (absent when nothing could be read). */
  readonly to?: string;
  readonly outcome: "recovered" | "unrecoverable";
  /** Messages read from complete chunks and from the journal (after de-duplication). */
  readonly fromChunks: number;
  readonly fromJournal: number;
  /** Why the `.part` ends where it does (a torn chunk, a bad CRC), when it does not end cleanly. */
  readonly damage?: string;
}

interface Msg {
  topic: string;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Recovers every `.mcap.part` in `dir` (a missing folder has none). */
export async function recoverRecordings(
  dir: string,
  logger: Logger,
): Promise<RecoveredRecording[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: RecoveredRecording[] = [];
  for (const name of names.filter((n) => n.endsWith(".mcap.part"))) {
    try {
      const r = await recoverOne(dir, name);
      out.push(r);
      logger.warn(r, "recording left by a crash recovered");
    } catch (err) {
      logger.error({ err, file: name }, "recording recovery failed; the .part file is kept");
    }
  }
  return out;
}

async function recoverOne(dir: string, name: string): Promise<RecoveredRecording> {
  const part = join(dir, name);
  const { messages: chunked, damage } = await readPart(part);
  const journal = await readJournal(journalPath(part));
  // The journal overlaps the file at most by what was in the last chunk written.
  const first = journal.reduce(
    (t, m) => (m.logTime < t ? m.logTime : t),
    journal[0]?.logTime ?? 0n,
  );
  const seen = new Set(
    (journal.length === 0 ? [] : chunked.filter((m) => m.logTime >= first)).map(key),
  );
  const extra = journal.filter((m) => !seen.has(key(m)));
  const all = [...chunked, ...extra].sort((a, b) =>
    a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0,
  );
  if (all.length === 0) {
    const kept = `${name.slice(0, -".mcap.part".length)}.mcap.unrecoverable`;
    await rename(part, join(dir, kept));
    await rm(journalPath(part), { force: true });
    return {
      from: name,
      outcome: "unrecoverable",
      fromChunks: 0,
      fromJournal: 0,
      ...(damage && { damage }),
    };
  }
  const base = name.slice(0, -".mcap.part".length);
  let target = `${base}.mcap`;
  for (let n = 1; (await exists(join(dir, target))) && n < 100; n++)
    target = `${base}-recovered${n}.mcap`;
  await writeRecording(join(dir, `${target}.tmp`), all);
  await rename(join(dir, `${target}.tmp`), join(dir, target));
  await rm(part, { force: true });
  await rm(journalPath(part), { force: true });
  return {
    from: name,
    to: target,
    outcome: "recovered",
    fromChunks: chunked.length,
    fromJournal: extra.length,
    ...(damage && { damage }),
  };
}

/** Messages of every complete, intact chunk, in file order. */
async function readPart(path: string): Promise<{ messages: Msg[]; damage?: string }> {
  const bytes = await readFile(path);
  const reader = new McapStreamReader({ validateCrcs: true });
  reader.append(bytes);
  const topics = new Map<number, string>();
  const messages: Msg[] = [];
  try {
    for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
      if (r.type === "Channel") topics.set(r.id, r.topic);
      else if (r.type === "Message") {
        const topic = topics.get(r.channelId);
        if (topic)
          messages.push({
            topic,
            logTime: r.logTime,
            publishTime: r.publishTime,
            data: r.data,
          });
      }
    }
  } catch (err) {
    return { messages, damage: err instanceof Error ? err.message : String(err) };
  }
  // A `.part` normally ends after its last chunk (no summary, no footer): that is not damage.
  const rest = reader.done() ? 0 : reader.bytesRemaining();
  return rest === 0
    ? { messages }
    : { messages, damage: `${rest} bytes at the end are not a whole record` };
}

/** Journal lines; a torn last line (killed mid-write) is skipped. */
async function readJournal(path: string): Promise<Msg[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return [];
  }
  const out: Msg[] = [];
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    try {
      const j = JSON.parse(raw) as JournalLine;
      out.push({
        topic: j.t,
        logTime: BigInt(j.l),
        publishTime: BigInt(j.p),
        data: encoder.encode(j.d),
      });
    } catch {
      // A line cut short by the crash.
    }
  }
  return out;
}

/** Writes `messages` as an indexed MCAP with the recorder's channels. */
async function writeRecording(path: string, messages: readonly Msg[]): Promise<void> {
  const handle = await openFile(path, "wx");
  try {
    const { writer, channels } = await startMcap(
      new FileHandleWritable(handle),
      [...CHANNELS, ROBOT_DESCRIPTION_CHANNEL],
      "agenttwin (recovered)",
    );
    for (const m of messages) {
      const c = channels.get(m.topic);
      if (!c) continue;
      await writer.addMessage({
        channelId: c.id,
        sequence: c.sequence++,
        logTime: m.logTime,
        publishTime: m.publishTime,
        data: m.data,
      });
    }
    await writer.end();
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function key(m: Msg): string {
  return `${m.topic}\u0000${m.logTime}\u0000${m.publishTime}\u0000${decoder.decode(m.data)}`;
}
