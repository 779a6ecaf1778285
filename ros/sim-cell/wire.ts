/**
 * Frames on the websocket: decoding what clients send (JSON text, or CBOR in binary
 * frames), encoding what the cell sends (JSON text; a binary CBOR frame for
 * `compression: "cbor"`; `fragment` ops for messages longer than a client's
 * `fragment_size`), and reassembling fragmented input. Every buffer here is bounded.
 */
import type { RawData } from "ws";
import { decode as decodeCbor, encode as encodeCbor } from "cbor2";
import { ProtocolError } from "./errors.ts";
import type { FragmentMessage, OpId, OutgoingMessage } from "./protocol.ts";

/** What goes on the socket: a text frame (JSON) or a binary frame (CBOR). */
export type Frame = string | Uint8Array;

/** How one client wants a message: `cbor` = one binary frame; `none` = JSON, maybe fragmented. */
export interface EncodeOptions {
  compression: "none" | "cbor";
  /** Largest JSON text per frame, characters; longer messages go as `fragment` ops. */
  fragmentSize?: number;
}

/** Most fragments one message is cut into; a tiny fragment_size is raised to respect it. */
export const MAX_FRAGMENTS_PER_MESSAGE = 10_000;

/** Size of a received frame, bytes. */
export function frameBytes(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}

/**
 * Decodes one received frame: text as JSON, binary as CBOR.
 * @throws ProtocolError when it is neither
 */
export function decodeFrame(data: RawData, isBinary: boolean): unknown {
  const bytes = Array.isArray(data)
    ? Buffer.concat(data)
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : data;
  if (isBinary) {
    try {
      return decodeCbor(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      throw new ProtocolError("binary frame is not valid CBOR", undefined, { cause: err });
    }
  }
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch (err) {
    throw new ProtocolError(`frame is not valid JSON: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

/**
 * An outgoing message, serialised at most once per encoding however many clients get it
 * (one joint state goes to every subscriber as the same JSON string).
 */
export class EncodedMessage {
  readonly message: OutgoingMessage;
  #json: string | undefined;
  #cbor: Uint8Array | undefined;
  constructor(message: OutgoingMessage) {
    this.message = message;
  }
  json(): string {
    this.#json ??= JSON.stringify(this.message);
    return this.#json;
  }
  cbor(): Uint8Array {
    this.#cbor ??= encodeCbor(this.message);
    return this.#cbor;
  }

  /**
   * The frames for one client. CBOR is never fragmented (as rosbridge, which fragments only
   * JSON); `nextId` names each fragmented message so the client can reassemble it.
   */
  frames(options: EncodeOptions, nextId: () => string): Frame[] {
    if (options.compression === "cbor") return [this.cbor()];
    const text = this.json();
    const size = options.fragmentSize;
    if (size === undefined || text.length <= size) return [text];
    const step = Math.max(size, Math.ceil(text.length / MAX_FRAGMENTS_PER_MESSAGE));
    const total = Math.ceil(text.length / step);
    const id = nextId();
    const out: Frame[] = [];
    for (let num = 0; num < total; num++) {
      const piece: FragmentMessage = {
        op: "fragment",
        id,
        data: text.slice(num * step, (num + 1) * step),
        num,
        total,
      };
      out.push(JSON.stringify(piece));
    }
    return out;
  }
}

interface PartialMessage {
  parts: (string | undefined)[];
  received: number;
  chars: number;
  startedMs: number;
}

/**
 * Reassembles `fragment` ops sent by one client. Bounded: at most `maxMessages` messages
 * in flight, each at most `maxChars` characters in all, each abandoned after `timeoutMs`.
 */
export class FragmentAssembler {
  readonly #pending = new Map<OpId, PartialMessage>();
  readonly #maxMessages: number;
  readonly #maxChars: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: {
    maxMessages: number;
    maxChars: number;
    timeoutMs: number;
    now: () => number;
  }) {
    this.#maxMessages = options.maxMessages;
    this.#maxChars = options.maxChars;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
  }

  /**
   * Adds one fragment.
   * @returns the whole message text once every fragment has arrived, else null
   * @throws ProtocolError for an inconsistent fragment or one beyond the bounds
   */
  add(f: { id: OpId; data: string; num: number; total: number }): string | null {
    const now = this.#now();
    for (const [id, p] of this.#pending) {
      if (now - p.startedMs > this.#timeoutMs) this.#pending.delete(id);
    }
    if (f.num >= f.total) {
      throw new ProtocolError(`fragment ${f.num} of ${f.total}: num must be below total`, f.id);
    }
    let p = this.#pending.get(f.id);
    if (!p) {
      if (this.#pending.size >= this.#maxMessages) {
        throw new ProtocolError(
          `more than ${this.#maxMessages} fragmented messages in flight`,
          f.id,
        );
      }
      if (f.total > MAX_FRAGMENTS_PER_MESSAGE) {
        throw new ProtocolError(
          `a message may have at most ${MAX_FRAGMENTS_PER_MESSAGE} fragments`,
          f.id,
        );
      }
      p = { parts: new Array<string | undefined>(f.total), received: 0, chars: 0, startedMs: now };
      this.#pending.set(f.id, p);
    }
    if (p.parts.length !== f.total) {
      this.#pending.delete(f.id);
      throw new ProtocolError(`fragment total changed from ${p.parts.length} to ${f.total}`, f.id);
    }
    if (p.parts[f.num] !== undefined) return null;
    p.chars += f.data.length;
    if (p.chars > this.#maxChars) {
      this.#pending.delete(f.id);
      throw new ProtocolError(`fragmented message exceeds ${this.#maxChars} characters`, f.id);
    }
    p.parts[f.num] = f.data;
    p.received += 1;
    if (p.received < f.total) return null;
    this.#pending.delete(f.id);
    return p.parts.join("");
  }

  clear(): void {
    this.#pending.clear();
  }
}
