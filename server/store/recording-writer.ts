/**
 * Writes one MCAP recording of JSON channels, whatever the channels are: the file, its
 * journal, chunking, the size limit and failure handling. What a twin session records on
 * those channels is `session-recorder.ts`; this module knows nothing of joints or plans.
 *
 * {@link RecordingWriter.write} is called from a room's tick, so it is synchronous, cheap
 * and never throws: it serialises the message and puts it in a bounded queue that one async
 * loop drains into the `McapWriter` (whose methods must not overlap). Whatever cannot be
 * recorded — queue full, file at its size limit, a write error — is counted in
 * {@link RecordingWriter.stats} and logged once; the caller goes on.
 *
 * The file is written as `<name>.mcap.part` and renamed to `<name>.mcap` once the summary
 * (statistics, chunk index) is on disk, so a listing never shows a half-written file.
 *
 * Crash safety: MCAP buffers a chunk (256 KiB) in memory, so every message is also appended
 * to a journal, `<name>.mcap.part.journal` (JSON lines), at least every `flushMs`; once a chunk
 * reaches the file the journal is rewritten (atomically) with only what is not yet in a
 * chunk. A process killed mid-recording thus leaves the `.part` (complete chunks) and the
 * journal (the rest up to the last flush); at the next start recording-recovery.ts rewrites
 * both into a valid `<name>.mcap`.
 */
import {
  appendFile,
  mkdir,
  open as openFile,
  rename,
  rm,
  stat,
  writeFile,
  type FileHandle,
} from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type IWritable, McapWriter } from "@mcap/core";
import type { Logger } from "pino";
import { RecordingError, RecordingErrorCode } from "./errors.ts";
import { FileHandleWritable } from "./file-io.ts";

/** One JSON channel of a recording: its topic, schema name and JSON Schema. */
export interface McapChannelSpec {
  readonly topic: string;
  readonly schemaName: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

/** Options of {@link RecordingWriter.open}. */
export interface RecordingWriterOptions {
  /** Folder of the recordings; created when missing. */
  dir: string;
  /** File name without extension (see {@link recordingBaseName}); `-n` is added when taken. */
  baseName: string;
  /** The channels, registered in this order (channel ids follow it). */
  channels: readonly McapChannelSpec[];
  /** The MCAP header's library field. */
  library: string;
  /** Largest file, bytes: recording stops (the file stays valid) before exceeding it. */
  maxBytes: number;
  logger: Logger;
  /** Messages waiting to be written at most; newer ones are dropped (default 10 000). */
  queueCapacity?: number;
  /** Longest time a written message waits before it is on disk (journal), ms (default 1000). */
  flushMs?: number;
}

/** The journal beside a `.mcap.part` (see the module comment). */
export function journalPath(file: string): string {
  return `${file}.journal`;
}

/** One journal line: topic, log and publish time (ns, decimal), the JSON payload. */
export interface JournalLine {
  t: string;
  l: string;
  p: string;
  d: string;
}

/** Counters of one recording. */
export interface RecorderStats {
  /** Messages written to the file. */
  messages: number;
  /**
   * Size of the file, bytes: exact once closed; while recording, an estimate that includes
   * the chunk still in memory (what the file would take if closed now, less its summary).
   */
  bytes: number;
  /**
   * Messages handed to the recording but not written: queue full, size limit reached,
   * write failed, not serialisable, or after close. Samples a recorder skips by design
   * (rate limit, unchanged joint state) are not counted.
   */
  dropped: number;
}

/** Bytes of uncompressed chunk data buffered before a chunk is written. */
const CHUNK_BYTES = 256 * 1024;
const DEFAULT_QUEUE_CAPACITY = 10_000;
const NAME_MAX = 120;
const NS_PER_MS = 1_000_000n;

// Record sizes of the MCAP format, bytes, for the size estimate (see the MCAP spec).
/** opcode + length + channel id + sequence + log time + publish time. */
const MESSAGE_RECORD_OVERHEAD = 1 + 8 + 2 + 4 + 8 + 8;
/** One (log time, offset) entry in a chunk's message index. */
const MESSAGE_INDEX_ENTRY = 16;
/** Chunk record header, message index record headers and chunk index entry, rounded up. */
const CHUNK_OVERHEAD = 512;
/** Data end, statistics, summary offsets, footer and magic, rounded up. */
const SUMMARY_FIXED = 1024;

type State = "recording" | "full" | "failed";

interface Pending {
  /** Order of enqueueing, for the journal. */
  seq: number;
  channel: number;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

/** A registered channel of a recording being written. */
export interface Channel {
  id: number;
  /** Bytes its schema and channel records take once (written again in the summary). */
  recordBytes: number;
  sequence: number;
  used: boolean;
}

const encoder = new TextEncoder();

/** Writes JSON messages on registered channels to `<dir>/<baseName>.mcap`. */
export class RecordingWriter {
  /** Absolute path of the finished file (it is `<file>.part` until {@link close}). */
  readonly file: string;
  readonly #part: string;
  readonly #handle: FileHandle;
  readonly #sink: FileHandleWritable;
  readonly #writer: McapWriter;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #capacity: number;
  readonly #channels: Map<string, Channel>;
  /** The same channels by id. */
  readonly #byId = new Map<number, Channel>();
  /** Schema and channel records repeated in the summary, bytes. */
  readonly #summaryRecordBytes: number;
  readonly #warned = new Set<string>();

  #state: State = "recording";
  #closing = false;
  #closed: Promise<void> | undefined;
  #queue: Pending[] = [];
  /** Queued plus being written. */
  #pending = 0;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;

  // The journal (see the module comment).
  readonly #journal: string;
  /** Lines not yet in a chunk on disk, oldest first. */
  #journalLive: { seq: number; line: string }[] = [];
  /** Lines not yet appended to the journal file. */
  #journalNew: string[] = [];
  #seq = 0;
  /** Every message up to this seq is in a chunk in the `.part` file. */
  #durableSeq = -1;
  /** `#durableSeq` when the journal file was last rewritten. */
  #journalBase = -1;
  #flushing: Promise<void> | null = null;
  readonly #flushTimer: NodeJS.Timeout;

  #lastLogTime = 0n;
  #messages = 0;
  #dropped = 0;
  /** Estimated bytes of the data section so far (header, chunks, buffered messages). */
  #dataBytes: number;
  #finalBytes: number | undefined;

  private constructor(init: {
    file: string;
    handle: FileHandle;
    sink: FileHandleWritable;
    writer: McapWriter;
    channels: Map<string, Channel>;
    options: RecordingWriterOptions;
    log: Logger;
  }) {
    this.file = init.file;
    this.#part = `${init.file}.part`;
    this.#handle = init.handle;
    this.#sink = init.sink;
    this.#writer = init.writer;
    this.#channels = init.channels;
    for (const c of init.channels.values()) this.#byId.set(c.id, c);
    this.#log = init.log;
    this.#maxBytes = init.options.maxBytes;
    this.#capacity = init.options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.#summaryRecordBytes = [...init.channels.values()].reduce((s, c) => s + c.recordBytes, 0);
    this.#dataBytes = Number(init.sink.position());
    this.#journal = journalPath(this.#part);
    this.#loop = this.#run().catch((err: unknown) => {
      this.#fail(RecordingErrorCode.WriteFailed, "the recording loop failed", err);
    });
    this.#flushTimer = setInterval(() => void this.flush(), init.options.flushMs ?? 1000);
    this.#flushTimer.unref();
  }

  /**
   * Creates the folder and the file, writes the MCAP header and registers the channels.
   * @throws RecordingError (`invalid_options`, `open_failed`) with the cause, e.g. when
   *   the folder cannot be created or written
   */
  static async open(options: RecordingWriterOptions): Promise<RecordingWriter> {
    const dir = resolve(options.dir);
    checkOptions(options, dir);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new RecordingError(
        RecordingErrorCode.OpenFailed,
        dir,
        `cannot create the recording folder ${dir}: ${errorText(err)}`,
        { cause: err },
      );
    }
    const { file, handle } = await createPart(dir, options.baseName);
    const part = `${file}.part`;
    const sink = new FileHandleWritable(handle);
    let started: StartedMcap;
    try {
      started = await startMcap(sink, options.channels, options.library);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(part, { force: true }).catch(() => undefined);
      throw new RecordingError(
        RecordingErrorCode.OpenFailed,
        part,
        `cannot start the recording ${part}: ${errorText(err)}`,
        { cause: err },
      );
    }
    const log = options.logger.child({ recording: basename(file) });
    const writer = new RecordingWriter({
      file,
      handle,
      sink,
      writer: started.writer,
      channels: started.channels,
      options,
      log,
    });
    log.info({ file }, "recording started");
    return writer;
  }

  /**
   * Queues one message on `topic`. Never throws: a message that cannot be queued (closed,
   * full, queue full, unknown topic, not serialisable) is counted as dropped.
   * @param stampMs the message's source time, ms since the Unix epoch (its publish time;
   *   the log time is this clamped to never go back)
   * @param msg the JSON payload; typed arrays are written as arrays, bigints as strings
   * @param kind what the message is, for the warning when it cannot be serialised
   *   (default: the topic)
   */
  write(topic: string, stampMs: number, msg: object, kind: string = topic): void {
    try {
      this.#enqueue(topic, stampMs, msg);
    } catch (err) {
      this.lost(kind, err);
    }
  }

  /** Counts a message its producer could not build (bad input); warns once per `kind`. */
  lost(kind: string, err: unknown): void {
    this.#dropped += 1;
    this.#warnOnce(`lost:${kind}`, { err }, `could not record a ${kind} message; dropped`);
  }

  /**
   * Puts every message written so far into the journal file (the `.part` file has the
   * rest). Called every `flushMs`; resolves when the journal is written. Never rejects.
   */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushJournal().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  /**
   * Writes what is queued, the summary and index, closes the file and renames it from
   * `.mcap.part` to `.mcap`. Idempotent (every call returns the same promise); never
   * rejects: a failure is logged and leaves the `.part` file and its journal behind (for
   * recovery at the next start).
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  /** Counters so far (see {@link RecorderStats}). */
  stats(): RecorderStats {
    return {
      messages: this.#messages,
      bytes: this.#finalBytes ?? this.#dataBytes,
      dropped: this.#dropped,
    };
  }

  async #flushJournal(): Promise<void> {
    try {
      const durable = this.#durableSeq;
      if (durable > this.#journalBase) {
        // A chunk reached the file: keep only what is not in one, written atomically.
        this.#journalLive = this.#journalLive.filter((e) => e.seq > durable);
        this.#journalNew = [];
        const tmp = `${this.#journal}.tmp`;
        await writeFile(tmp, this.#journalLive.map((e) => e.line).join(""));
        await rename(tmp, this.#journal);
        this.#journalBase = durable;
        return;
      }
      if (this.#journalNew.length === 0) return;
      const lines = this.#journalNew.join("");
      this.#journalNew = [];
      await appendFile(this.#journal, lines);
    } catch (err) {
      this.#warnOnce("journal", { err }, "recording journal write failed");
    }
  }

  #enqueue(topic: string, stampMs: number, msg: object): void {
    if (this.#state !== "recording" || this.#closing) {
      this.#dropped += 1;
      return;
    }
    if (this.#pending >= this.#capacity) {
      this.#dropped += 1;
      this.#warnOnce("queue", { capacity: this.#capacity }, "recording queue full: dropping");
      return;
    }
    const channel = this.#channels.get(topic);
    if (!channel) throw new Error(`no channel for ${topic}`);
    const json = JSON.stringify(msg, jsonReplacer);
    const data = encoder.encode(json);
    const publishTime = msToNs(stampMs);
    // Log time never goes back, so the file is in log-time order; the payload and the
    // publish time keep the source's own stamp.
    const logTime = publishTime > this.#lastLogTime ? publishTime : this.#lastLogTime;
    this.#lastLogTime = logTime;
    const seq = this.#seq++;
    const line: JournalLine = {
      t: topic,
      l: logTime.toString(),
      p: publishTime.toString(),
      d: json,
    };
    const text = JSON.stringify(line) + "\n";
    this.#journalLive.push({ seq, line: text });
    this.#journalNew.push(text);
    this.#queue.push({ seq, channel: channel.id, logTime, publishTime, data });
    this.#pending += 1;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The writer loop: the only caller of the McapWriter until close. */
  async #run(): Promise<void> {
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await new Promise<void>((r) => (this.#wake = r));
        continue;
      }
      const batch = this.#queue;
      this.#queue = [];
      for (const entry of batch) {
        await this.#write(entry);
        this.#pending -= 1;
      }
    }
  }

  async #write(entry: Pending): Promise<void> {
    if (this.#state !== "recording") {
      this.#dropped += 1;
      return;
    }
    const channel = this.#byId.get(entry.channel);
    if (!channel) throw new Error(`no channel ${entry.channel}`);
    const cost =
      MESSAGE_RECORD_OVERHEAD +
      entry.data.byteLength +
      MESSAGE_INDEX_ENTRY +
      (channel.used ? 0 : channel.recordBytes);
    if (this.#projectedBytes(cost) > this.#maxBytes) {
      this.#state = "full";
      this.#dropped += 1;
      this.#log.warn(
        { maxBytes: this.#maxBytes, messages: this.#messages },
        "recording reached its size limit: stopped (the session goes on)",
      );
      return;
    }
    const before = this.#sink.position();
    try {
      await this.#writer.addMessage({
        channelId: channel.id,
        sequence: channel.sequence,
        logTime: entry.logTime,
        publishTime: entry.publishTime,
        data: entry.data,
      });
    } catch (err) {
      this.#fail(RecordingErrorCode.WriteFailed, "writing the recording failed", err);
      this.#dropped += 1;
      return;
    }
    channel.sequence += 1;
    channel.used = true;
    this.#messages += 1;
    // The sink grew: a chunk with every message up to this one is in the file.
    if (this.#sink.position() > before) this.#durableSeq = entry.seq;
    this.#dataBytes += cost;
  }

  /** Size of the file if closed after writing `extra` more bytes of data, bytes. */
  #projectedBytes(extra: number): number {
    const data = this.#dataBytes + extra;
    const chunks = Math.floor(data / CHUNK_BYTES) + 1;
    return data + chunks * CHUNK_OVERHEAD + this.#summaryRecordBytes + SUMMARY_FIXED;
  }

  async #close(): Promise<void> {
    clearInterval(this.#flushTimer);
    this.#closing = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    await this.#loop;
    if (this.#state !== "failed") {
      try {
        await this.#writer.end();
        await this.#handle.sync();
      } catch (err) {
        this.#fail(RecordingErrorCode.CloseFailed, "finishing the recording failed", err);
      }
    }
    this.#finalBytes = Number(this.#sink.position());
    try {
      await this.#handle.close();
    } catch (err) {
      this.#fail(RecordingErrorCode.CloseFailed, "closing the recording failed", err);
    }
    if (this.#state === "failed") {
      // Left for recovery at the next start: the journal gets what it does not have yet.
      await this.#flushing;
      await this.flush();
      this.#log.error({ file: this.#part }, "recording left unfinished");
      return;
    }
    try {
      await rename(this.#part, this.file);
    } catch (err) {
      this.#fail(RecordingErrorCode.CloseFailed, "renaming the finished recording failed", err);
      return;
    }
    await this.#flushing;
    await rm(this.#journal, { force: true }).catch(() => undefined);
    await rm(`${this.#journal}.tmp`, { force: true }).catch(() => undefined);
    this.#log.info(
      {
        file: this.file,
        messages: this.#messages,
        bytes: this.#finalBytes,
        dropped: this.#dropped,
      },
      "recording finished",
    );
  }

  /** Stops recording for good after an I/O error; logs it (the first one only). */
  #fail(code: RecordingErrorCode, message: string, cause: unknown): void {
    const first = this.#state !== "failed";
    this.#state = "failed";
    if (!first) return;
    const err = new RecordingError(code, this.#part, `${message}: ${errorText(cause)}`, {
      cause,
    });
    this.#log.error({ err }, `${message}; recording stopped (the session goes on)`);
  }

  #warnOnce(key: string, fields: object, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(fields, message);
  }
}

/** Recording file names: what {@link RecordingWriter} writes and the store serves. */
export const RECORDING_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.mcap$/;

/**
 * `<sessionName>-<UTC time>` with the name reduced to `[A-Za-z0-9._-]` (other runs become
 * `_`; leading dots and dashes are dropped so the file is never hidden or an option).
 * @param nowMs ms since the Unix epoch
 */
export function recordingBaseName(sessionName: string, nowMs: number): string {
  const name =
    sessionName
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .replace(/^[._-]+/, "")
      .slice(0, NAME_MAX) || "session";
  // 2025-01-02T03:04:05.678Z → 20250102T030405.678Z
  const time = new Date(nowMs).toISOString().replace(/[-:]/g, "");
  return `${name}-${time}`;
}

function checkOptions(o: RecordingWriterOptions, dir: string): void {
  const bad = (what: string) =>
    new RecordingError(RecordingErrorCode.InvalidOptions, dir, `invalid recorder option: ${what}`);
  if (!(Number.isFinite(o.maxBytes) && o.maxBytes > 0)) throw bad(`maxBytes ${o.maxBytes}`);
  const q = o.queueCapacity;
  if (q !== undefined && !(Number.isInteger(q) && q > 0)) throw bad(`queueCapacity ${q}`);
}

/** Creates `<base>[-n].mcap.part` exclusively, choosing `n` so neither it nor the `.mcap` exists. */
async function createPart(
  dir: string,
  base: string,
): Promise<{ file: string; handle: FileHandle }> {
  let lastError: unknown;
  for (let n = 0; n < 100; n++) {
    const file = join(dir, n === 0 ? `${base}.mcap` : `${base}-${n}.mcap`);
    if (await exists(file)) continue;
    try {
      return { file, handle: await openFile(`${file}.part`, "wx") };
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      break;
    }
  }
  throw new RecordingError(
    RecordingErrorCode.OpenFailed,
    dir,
    `cannot create a recording file in ${dir}: ${errorText(lastError ?? "every name taken")}`,
    { cause: lastError },
  );
}

/** Whether `path` exists (anything `stat` can reach). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A started MCAP writer and its registered channels, by topic. */
export interface StartedMcap {
  writer: McapWriter;
  channels: Map<string, Channel>;
}

/**
 * Starts an MCAP file on `sink` the way every recording is written (header, chunk size,
 * JSON-schema channels) and registers `specs` in order. Used by {@link RecordingWriter}
 * and by recovery (recording-recovery.ts), so both produce the same layout.
 * @param library the header's library field
 */
export async function startMcap(
  sink: IWritable,
  specs: readonly McapChannelSpec[],
  library: string,
): Promise<StartedMcap> {
  const writer = new McapWriter({ writable: sink, chunkSize: CHUNK_BYTES });
  await writer.start({ profile: "", library });
  const channels = new Map<string, Channel>();
  for (const spec of specs) channels.set(spec.topic, await register(writer, spec));
  return { writer, channels };
}

async function register(writer: McapWriter, spec: McapChannelSpec): Promise<Channel> {
  const schemaData = encoder.encode(JSON.stringify(spec.schema));
  const schemaId = await writer.registerSchema({
    name: spec.schemaName,
    encoding: "jsonschema",
    data: schemaData,
  });
  const id = await writer.registerChannel({
    topic: spec.topic,
    messageEncoding: "json",
    schemaId,
    metadata: new Map(),
  });
  const len = (s: string) => encoder.encode(s).byteLength;
  // Schema: opcode, length, id, name, encoding, data; channel: opcode, length, id,
  // schema id, topic, encoding, empty metadata map.
  const schemaBytes = 1 + 8 + 2 + 4 + len(spec.schemaName) + 4 + 10 + 4 + schemaData.byteLength;
  const channelBytes = 1 + 8 + 2 + 2 + 4 + len(spec.topic) + 4 + 4 + 4;
  return { id, recordBytes: schemaBytes + channelBytes, sequence: 0, used: false };
}

/** ms since the epoch (fractional allowed) → ns as bigint, without float rounding at 1e18. */
function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
}

/** Typed arrays as arrays, bigints as strings (JSON.stringify would throw on them). */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>);
  }
  return value;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
