/**
 * One rosbridge connection (roslib 2.x over a websocket) that stays up: it connects, and on
 * every loss reconnects with exponential backoff (bounded), re-establishing the
 * subscriptions it was asked to keep. While it is down nothing is queued — callers are
 * refused with {@link CellError} — so roslib's own unbounded queue never fills.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { Ros, Service, Topic } from "roslib";
import { CellError } from "./robot-cell.ts";

export interface RosConnectionOptions {
  /** ws:// or wss:// URL of rosbridge. */
  url: string;
  /** Reconnection delays: first retry after `minMs`, doubling up to `maxMs`. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Service calls and connection attempts give up after this, ms. */
  callTimeoutMs: number;
  logger: Logger;
}

export interface SubscriptionOptions {
  topic: string;
  type: string;
  /** rosbridge throttle_rate: least ms between messages. */
  throttleMs: number;
  /** rosbridge queue_length. */
  queueLength: number;
  compression: "none" | "cbor";
}

interface KeptSubscription<T> {
  options: SubscriptionOptions;
  onMessage: (msg: T) => void;
  topic: Topic<T> | null;
}

/** Emits `up` (connected), `down` (lost or failed) with a reason. */
export class RosConnection extends EventEmitter<{ up: []; down: [reason: string] }> {
  #ros: Ros | null = null;
  #up = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #subs: KeptSubscription<never>[] = [];
  readonly #advertised = new Map<string, Topic<unknown>>();
  readonly #o: RosConnectionOptions;

  constructor(options: RosConnectionOptions) {
    super();
    this.#o = options;
  }

  get isUp(): boolean {
    return this.#up;
  }

  /** The live roslib handle. @throws CellError while disconnected */
  get ros(): Ros {
    if (!this.#up || !this.#ros)
      throw new CellError(`rosbridge at ${this.#o.url} is not connected`);
    return this.#ros;
  }

  /** Starts connecting (and keeps reconnecting until {@link close}). */
  start(): void {
    if (this.#closed || this.#ros) return;
    void this.#connect();
  }

  /** Keeps a subscription across reconnections. */
  keepSubscribed<T>(options: SubscriptionOptions, onMessage: (msg: T) => void): void {
    const sub: KeptSubscription<T> = { options, onMessage, topic: null };
    this.#subs.push(sub as unknown as KeptSubscription<never>);
    if (this.#up && this.#ros) this.#subscribe(this.#ros, sub);
  }

  /** Publishes on a topic (advertised once per connection). @throws CellError while down */
  publish<T>(topic: string, type: string, msg: T): void {
    const ros = this.ros;
    let t = this.#advertised.get(topic);
    if (!t) {
      t = new Topic<unknown>({ ros, name: topic, messageType: type });
      t.advertise();
      this.#advertised.set(topic, t);
    }
    t.publish(msg);
  }

  /** Calls a service; rejects with CellError on failure, refusal or timeout. */
  callService<Req, Res>(
    name: string,
    type: string,
    request: Req,
    timeoutMs = this.#o.callTimeoutMs,
  ): Promise<Res> {
    const ros = this.ros;
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CellError(`${name}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const service = new Service<Req, Res>({ ros, name, serviceType: type });
      const lost = (reason: string) => {
        clearTimeout(timer);
        reject(new CellError(`${name}: ${reason}`));
      };
      this.once("down", lost);
      service.callService(
        request,
        (res) => {
          clearTimeout(timer);
          this.off("down", lost);
          resolve(res);
        },
        (err) => {
          clearTimeout(timer);
          this.off("down", lost);
          reject(new CellError(`${name}: ${err}`));
        },
      );
    });
  }

  /** Closes the connection for good. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const ros = this.#ros;
    this.#ros = null;
    if (this.#up) {
      this.#up = false;
      this.emit("down", "closed");
    }
    ros?.close();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const ros = new Ros({});
    this.#ros = ros;
    const log = this.#o.logger;
    let settled = false;
    const failed = (reason: string) => {
      if (this.#ros !== ros) return;
      this.#ros = null;
      this.#advertised.clear();
      for (const s of this.#subs) s.topic = null;
      const wasUp = this.#up;
      this.#up = false;
      ros.close();
      if (wasUp) {
        log.warn({ url: this.#o.url, reason }, "rosbridge connection lost");
        this.emit("down", reason);
      } else if (this.#attempt === 0) {
        log.warn({ url: this.#o.url, reason }, "rosbridge unreachable; retrying with backoff");
      }
      this.#scheduleReconnect();
    };
    ros.on("connection", () => {
      settled = true;
      if (this.#ros !== ros || this.#closed) return;
      this.#up = true;
      this.#attempt = 0;
      log.info({ url: this.#o.url }, "rosbridge connected");
      for (const s of this.#subs) this.#subscribe(ros, s);
      this.emit("up");
    });
    ros.on("close", () => failed("connection closed"));
    ros.on("error", () => failed("connection error"));
    const guard = setTimeout(() => {
      if (!settled) failed(`no connection within ${this.#o.callTimeoutMs} ms`);
    }, this.#o.callTimeoutMs);
    guard.unref();
    try {
      await ros.connect(this.#o.url);
    } catch (err) {
      failed(err instanceof Error ? err.message : String(err));
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer) return;
    const delay = Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, delay);
    this.#timer.unref();
  }

  #subscribe<T>(ros: Ros, sub: KeptSubscription<T>): void {
    const o = sub.options;
    const topic = new Topic<T>({
      ros,
      name: o.topic,
      messageType: o.type,
      throttle_rate: o.throttleMs,
      queue_length: o.queueLength,
      compression: o.compression,
      reconnect_on_close: false,
    });
    topic.subscribe((msg) => sub.onMessage(msg));
    sub.topic = topic;
  }
}
