/**
 * One connected rosbridge client: its socket, status level, subscriptions, advertisements
 * and fragment buffer, and the bounded send path. Publishes (joint states, feedback
 * topics) are skipped while the socket holds more than `softBufferBytes` unsent bytes;
 * replies (statuses, service responses, action results) are always queued, and a client
 * that lets more than `hardBufferBytes` pile up is disconnected, since it is not reading.
 */
import type { Logger } from "pino";
import { WebSocket } from "ws";
import {
  type OpId,
  type OutgoingMessage,
  STATUS_RANK,
  type StatusLevel,
  type StatusMessage,
} from "./protocol.ts";
import { type PublishSink, TopicSubscription } from "./subscriptions.ts";
import { EncodedMessage, type EncodeOptions, type Frame, FragmentAssembler } from "./wire.ts";

export interface ClientLimits {
  /** Unsent bytes above which publishes to this client are dropped. */
  softBufferBytes: number;
  /** Unsent bytes above which the client is disconnected. */
  hardBufferBytes: number;
  /** Largest reassembled fragmented input message, characters. */
  maxMessageChars: number;
}

export class ClientSession implements PublishSink {
  /** Process-unique client number, for logs. */
  readonly id: number;
  readonly socket: WebSocket;
  /** Statuses below this level are not sent (rosbridge's default is "error"). */
  level: StatusLevel = "error";
  /** Topic → this client's merged subscription. */
  readonly subscriptions = new Map<string, TopicSubscription>();
  /** Topic → ids of the client's advertise ops (the topic is advertised while non-empty). */
  readonly advertisements = new Map<string, Set<OpId | null>>();
  readonly fragments: FragmentAssembler;
  /** Publishes skipped because the client was congested. */
  drops = 0;
  /**
   * While true nothing is sent to this client (a frozen rosbridge, see faults.ts); the
   * server pauses reading its socket at the same time.
   */
  frozen = false;
  /** False until a client of a cell that requires authentication sent a valid `auth` op. */
  authenticated = true;
  readonly #limits: ClientLimits;
  readonly #logger: Logger;
  readonly #now: () => number;
  #fragmentCount = 0;
  #disposed = false;

  constructor(
    id: number,
    socket: WebSocket,
    limits: ClientLimits,
    logger: Logger,
    now: () => number,
  ) {
    this.id = id;
    this.socket = socket;
    this.#limits = limits;
    this.#logger = logger;
    this.#now = now;
    this.fragments = new FragmentAssembler({
      maxMessages: 16,
      maxChars: limits.maxMessageChars,
      timeoutMs: 30_000,
      now,
    });
  }

  get open(): boolean {
    return !this.#disposed && this.socket.readyState === WebSocket.OPEN;
  }

  get congested(): boolean {
    return this.socket.bufferedAmount > this.#limits.softBufferBytes;
  }

  /** Sends a reply or an event to this client (never dropped for congestion). */
  send(message: OutgoingMessage, options: EncodeOptions = { compression: "none" }): void {
    this.sendFrames(new EncodedMessage(message).frames(options, () => this.nextFragmentId()));
  }

  sendFrames(frames: Frame[]): boolean {
    if (!this.open || this.frozen) return false;
    for (const f of frames) this.socket.send(f);
    if (this.socket.bufferedAmount > this.#limits.hardBufferBytes) {
      this.#logger.warn(
        { client: this.id, buffered: this.socket.bufferedAmount },
        "client is not reading; disconnecting it",
      );
      // A close frame would wait behind everything buffered: cut the connection instead.
      this.socket.terminate();
      return false;
    }
    return true;
  }

  /** Sends a status if the client's level lets it through. */
  status(level: StatusMessage["level"], msg: string, id?: OpId): void {
    if (STATUS_RANK[level] < STATUS_RANK[this.level]) return;
    const m: StatusMessage = { op: "status", level, msg };
    if (id !== undefined) m.id = id;
    this.send(m);
  }

  nextFragmentId(): string {
    this.#fragmentCount += 1;
    return `sim-cell:${this.id}:${this.#fragmentCount}`;
  }

  countDrop(): void {
    this.drops += 1;
  }

  /** The subscription to `topic`, created when absent. */
  subscription(topic: string): TopicSubscription {
    let s = this.subscriptions.get(topic);
    if (!s) {
      s = new TopicSubscription(topic, this, this.#now);
      this.subscriptions.set(topic, s);
    }
    return s;
  }

  isAdvertising(topic: string): boolean {
    return (this.advertisements.get(topic)?.size ?? 0) > 0;
  }

  /** Drops everything the client set up (on disconnect). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const s of this.subscriptions.values()) s.close();
    this.subscriptions.clear();
    this.advertisements.clear();
    this.fragments.clear();
  }
}
