/**
 * One client's subscription to one topic, with rosbridge's per-subscription options:
 * `throttle_rate` (minimum interval between messages, ms), `queue_length` (messages held
 * while throttled or while the client is congested, newest kept), `fragment_size` and
 * `compression`. A client that subscribes to a topic several times (with different ids)
 * gets one stream whose options satisfy every request, as rosbridge does: the smallest
 * throttle rate, queue length and fragment size, and CBOR if any request asked for it.
 * Unsubscribing one id keeps the others; the stream ends with the last one.
 */
import type { OpId } from "./protocol.ts";
import type { EncodedMessage, EncodeOptions, Frame } from "./wire.ts";

/** Most subscribe ids one client may merge on one topic. */
export const MAX_SUBSCRIBE_IDS = 64;
/** Largest queue a subscription keeps, messages (larger requests are clamped). */
export const MAX_QUEUE_LENGTH = 1000;
/** Retry interval while a queued subscription waits for a congested client, ms. */
const CONGESTION_RETRY_MS = 20;

/** The options of one subscribe op. */
export interface SubscribeRequest {
  /** Minimum interval between two messages to the client, ms (0 = every message). */
  throttleMs: number;
  /** Messages kept while throttled or congested (0 = none: such messages are dropped). */
  queueLength: number;
  /** Longest JSON message sent in one frame, characters; undefined = never fragment. */
  fragmentSize: number | undefined;
  compression: "none" | "cbor";
}

/** Where a subscription's frames go: the client session. */
export interface PublishSink {
  /** True while the client's socket holds more unsent bytes than allowed for publishes. */
  readonly congested: boolean;
  /** Sends the frames of one message; false when the client is gone. */
  sendFrames(frames: Frame[]): boolean;
  /** A fresh id for a fragmented message. */
  nextFragmentId(): string;
  /** Counts a message dropped because the client was congested. */
  countDrop(): void;
}

const NO_ID = Symbol("no id");
type SubscriptionKey = OpId | typeof NO_ID;

export class TopicSubscription {
  readonly topic: string;
  readonly #sink: PublishSink;
  readonly #now: () => number;
  readonly #requests = new Map<SubscriptionKey, SubscribeRequest>();
  #options: SubscribeRequest = {
    throttleMs: 0,
    queueLength: 0,
    fragmentSize: undefined,
    compression: "none",
  };
  readonly #queue: EncodedMessage[] = [];
  #lastSentMs = -Infinity;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Messages sent to the client. */
  sent = 0;

  /** @param now monotonic clock, ms */
  constructor(topic: string, sink: PublishSink, now: () => number) {
    this.topic = topic;
    this.#sink = sink;
    this.#now = now;
  }

  /** The merged options in force. */
  get options(): Readonly<SubscribeRequest> {
    return this.#options;
  }

  /** Number of subscribe requests (ids) merged in this stream. */
  get size(): number {
    return this.#requests.size;
  }

  /** True when a request with this id is merged here. */
  has(id: OpId | undefined): boolean {
    return this.#requests.has(id ?? NO_ID);
  }

  /** Adds (or replaces) the request with this id. */
  add(id: OpId | undefined, request: SubscribeRequest): void {
    this.#requests.set(id ?? NO_ID, {
      ...request,
      queueLength: Math.min(request.queueLength, MAX_QUEUE_LENGTH),
    });
    this.#merge();
  }

  /**
   * Removes the request with this id, or every request when `id` is undefined.
   * @returns true when no request is left (the caller then drops the subscription)
   */
  remove(id: OpId | undefined): boolean {
    if (id === undefined) this.#requests.clear();
    else this.#requests.delete(id);
    if (this.#requests.size === 0) {
      this.close();
      return true;
    }
    this.#merge();
    return false;
  }

  /** Offers one message published on the topic. */
  offer(message: EncodedMessage): void {
    if (this.#closed) return;
    const o = this.#options;
    if (o.queueLength === 0) {
      if (o.throttleMs > 0 && this.#now() - this.#lastSentMs < o.throttleMs) return;
      if (this.#sink.congested) {
        this.#sink.countDrop();
        return;
      }
      this.#send(message);
      return;
    }
    this.#queue.push(message);
    while (this.#queue.length > o.queueLength) {
      this.#queue.shift();
      this.#sink.countDrop();
    }
    if (this.#timer === null) this.#pump();
  }

  /** Stops the stream and its timer; queued messages are discarded. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #send(message: EncodedMessage): void {
    const o = this.#options;
    const encode: EncodeOptions = { compression: o.compression, fragmentSize: o.fragmentSize };
    if (this.#sink.sendFrames(message.frames(encode, () => this.#sink.nextFragmentId()))) {
      this.#lastSentMs = this.#now();
      this.sent += 1;
    }
  }

  /** Sends queued messages as fast as the throttle and the client allow (oldest first). */
  #pump(): void {
    this.#timer = null;
    while (!this.#closed && this.#queue.length > 0) {
      const o = this.#options;
      const wait = o.throttleMs > 0 ? this.#lastSentMs + o.throttleMs - this.#now() : 0;
      if (wait > 0) {
        this.#schedule(wait);
        return;
      }
      if (this.#sink.congested) {
        this.#schedule(CONGESTION_RETRY_MS);
        return;
      }
      this.#send(this.#queue.shift() as EncodedMessage);
    }
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#pump(), Math.max(1, Math.ceil(ms)));
    this.#timer.unref();
  }

  #merge(): void {
    const all = [...this.#requests.values()];
    const frags = all.flatMap((r) => (r.fragmentSize === undefined ? [] : [r.fragmentSize]));
    this.#options = {
      throttleMs: Math.min(...all.map((r) => r.throttleMs)),
      queueLength: Math.min(...all.map((r) => r.queueLength)),
      fragmentSize: frags.length > 0 ? Math.min(...frags) : undefined,
      compression: all.some((r) => r.compression === "cbor") ? "cbor" : "none",
    };
    const excess = this.#queue.length - this.#options.queueLength;
    if (excess > 0) this.#queue.splice(0, excess);
    if (this.#queue.length > 0 && this.#timer === null) this.#pump();
  }
}
