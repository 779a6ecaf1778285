/**
 * One rosbridge connection (roslib 2.x over a websocket) that stays up: it connects, and on
 * every loss reconnects with exponential backoff (bounded), re-establishing the
 * subscriptions it was asked to keep. While it is down nothing is queued — callers are
 * refused with {@link CellError} — so roslib's own unbounded queue never fills.
 *
 * What roslib does not do, this does:
 * - **liveness**: the socket is pinged every `pingMs`; a peer that answers no ping for three
 *   intervals (a frozen rosbridge keeps its TCP connection open) is cut, which counts as a
 *   loss and starts reconnecting;
 * - **errors from rosbridge**: every `status` op at level error (e.g. `sensor_msgs/msg/JointState
 *   is not a valid type string` from a ROS 1 rosbridge) is emitted as `peerError` with the
 *   id of the op it answers, so the cell can turn it into a link error with the reason;
 * - **authentication**: with a rosauth secret the first frame of every connection is the
 *   `auth` op (see {@link authOp}); a rosbridge that then closes the connection refused it.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { AbstractTransport, type ITransport, Ros, Service, Topic } from "roslib";
import { WebSocket } from "ws";
import { type AuthOp, rosauthMac } from "../../shared/rosauth.ts";
import { CellError } from "./robot-cell.ts";

export interface RosConnectionOptions {
  /** ws:// or wss:// URL of rosbridge. */
  url: string;
  /** Reconnection delays: first retry after `minMs`, doubling up to `maxMs`. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Service calls and connection attempts give up after this, ms. */
  callTimeoutMs: number;
  /** Websocket ping interval, ms (0: no pings). No pong for 3 intervals closes the socket. */
  pingMs?: number;
  /** rosauth secret: send the `auth` op first on every connection. */
  authSecret?: string;
  /** `level` of the `auth` op (default "admin"). */
  authLevel?: string;
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

/** A subscription kept across reconnections. */
export interface KeptSubscriptionHandle {
  /** The options in force. */
  readonly options: Readonly<SubscriptionOptions>;
  /** The id of its current subscribe op (null while down): statuses name it. */
  readonly subscribeId: string | null;
  /** Changes options (e.g. CBOR → JSON) and subscribes again at once when up. */
  update(options: Partial<SubscriptionOptions>): void;
}

interface KeptSubscription<T> extends KeptSubscriptionHandle {
  options: SubscriptionOptions;
  onMessage: (msg: T) => void;
  topic: Topic<T> | null;
  subscribeId: string | null;
}

/** A `status` op from rosbridge. */
export interface PeerStatus {
  level: string;
  msg: string;
  /** The id of the op it answers, if any (e.g. `subscribe:/joint_states:3`). */
  id: string | undefined;
}

/**
 * The `auth` op for rosbridge's `authenticate:=true` with rosauth's `ros_mac_authentication`,
 * MAC'd by {@link rosauthMac}. rosauth accepts it while `t` is within its `allowed_time_delta`
 * (5 s) of its own clock and `end` is in the future.
 */
export function authOp(
  secret: string,
  p: { client: string; dest: string; level: string; nowMs: number; validS?: number },
): AuthOp {
  const t = Math.floor(p.nowMs / 1000);
  const end = t + (p.validS ?? 3600);
  const rand = randomBytes(16).toString("hex");
  const signed = { client: p.client, dest: p.dest, rand, t, level: p.level, end };
  return { op: "auth", mac: rosauthMac(secret, signed), ...signed };
}

/**
 * roslib's websocket transport on `ws`, keeping the socket so it can be pinged and cut, and
 * letting every decoded message be seen (statuses) before roslib dispatches it.
 */
class WsTransport extends AbstractTransport {
  readonly socket: WebSocket;
  constructor(socket: WebSocket) {
    super();
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = (e) => this.emit("open", e);
    socket.onclose = (e) => this.emit("close", e);
    socket.onerror = (e) => this.emit("error", e);
    socket.onmessage = (e) => this.handleRawMessage(e.data);
  }
  send(message: unknown): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
  close(): void {
    this.socket.close();
  }
  isConnecting(): boolean {
    return this.socket.readyState === WebSocket.CONNECTING;
  }
  isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }
  isClosing(): boolean {
    return this.socket.readyState === WebSocket.CLOSING;
  }
  isClosed(): boolean {
    return this.socket.readyState === WebSocket.CLOSED;
  }
}

/** Emits `up` (connected), `down` (lost or failed) with a reason, `peerError` per error status. */
export class RosConnection extends EventEmitter<{
  up: [];
  down: [reason: string];
  peerError: [status: PeerStatus];
}> {
  #ros: Ros | null = null;
  #transport: WsTransport | null = null;
  #up = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #pinger: NodeJS.Timeout | null = null;
  /** Time of the last pong (or of the connection), ms. */
  #lastPongMs = 0;
  /** Messages received on the current connection. */
  #received = 0;
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

  get url(): string {
    return this.#o.url;
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

  /**
   * Keeps a subscription across reconnections. Only message objects reach `onMessage`: a
   * peer's `publish` whose `msg` is null or not an object is dropped here, since a handler
   * reading a field of it would throw inside roslib's socket handler.
   */
  keepSubscribed<T>(
    options: SubscriptionOptions,
    onMessage: (msg: T) => void,
  ): KeptSubscriptionHandle {
    const sub: KeptSubscription<T> = {
      options: { ...options },
      onMessage,
      topic: null,
      subscribeId: null,
      update: (changes) => {
        sub.options = { ...sub.options, ...changes };
        if (sub.topic) {
          sub.topic.unsubscribe();
          sub.topic = null;
          sub.subscribeId = null;
        }
        if (this.#up && this.#ros) this.#subscribe(this.#ros, sub);
      },
    };
    this.#subs.push(sub as unknown as KeptSubscription<never>);
    if (this.#up && this.#ros) this.#subscribe(this.#ros, sub);
    return sub;
  }

  /** Publishes on a topic (advertised once per connection). @throws CellError while down */
  publish<T>(topic: string, type: string, msg: T): void {
    const ros = this.ros;
    let t = this.#advertised.get(topic);
    if (!t) {
      t = new Topic<unknown>({ ros, name: topic, messageType: type, reconnect_on_close: false });
      t.advertise();
      this.#advertised.set(topic, t);
    }
    t.publish(msg);
  }

  /** Sends one raw rosbridge op now. @throws CellError while down */
  send(op: Record<string, unknown>): void {
    const transport = this.#transport;
    if (!this.#up || !transport)
      throw new CellError(`rosbridge at ${this.#o.url} is not connected`);
    transport.send(op);
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
      let replyEvent: string | undefined;
      const settle = () => {
        clearTimeout(timer);
        this.off("down", lost);
        // roslib waits for the reply under the call's id for ever: a call we gave up on
        // must not leave its listener behind.
        if (replyEvent !== undefined) ros.removeAllListeners(replyEvent);
      };
      const lost = (reason: string) => {
        settle();
        reject(new CellError(`${name}: ${reason}`));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new CellError(`${name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const service = new Service<Req, Res>({ ros, name, serviceType: type });
      this.once("down", lost);
      const before = new Set(ros.eventNames());
      service.callService(
        request,
        (res) => {
          settle();
          resolve(res);
        },
        (err) => {
          settle();
          reject(new CellError(`${name}: ${err}`));
        },
        // rosbridge (ROS 2) gives up on its side too and answers with a failure; ROS 1's
        // rosbridge ignores the field.
        timeoutMs / 1000,
      );
      // roslib registers the reply listener synchronously under a fresh `call_service:` id.
      replyEvent = ros
        .eventNames()
        .find(
          (e): e is string =>
            typeof e === "string" && !before.has(e) && e.startsWith("call_service:"),
        );
    });
  }

  /** Closes the connection for good. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopPinging();
    const ros = this.#ros;
    this.#ros = null;
    this.#transport = null;
    if (this.#up) {
      this.#up = false;
      this.emit("down", "closed");
    }
    ros?.close();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let transport: WsTransport | null = null;
    const ros = new Ros({
      transportFactory: async (url: string): Promise<ITransport> => {
        transport = new WsTransport(
          new WebSocket(url, { handshakeTimeout: this.#o.callTimeoutMs }),
        );
        transport.on("message", (m) => this.#tap(m));
        return transport as unknown as ITransport;
      },
    });
    this.#ros = ros;
    this.#received = 0;
    const log = this.#o.logger;
    let settled = false;
    let authSent = false;
    const failed = (reason: string) => {
      if (this.#ros !== ros) return;
      this.#ros = null;
      this.#transport = null;
      this.#stopPinging();
      this.#advertised.clear();
      for (const s of this.#subs) {
        s.topic = null;
        s.subscribeId = null;
      }
      const wasUp = this.#up;
      this.#up = false;
      (transport as WsTransport | null)?.socket.terminate();
      ros.close();
      if (authSent && this.#received === 0 && reason === "connection closed") {
        reason =
          "rosbridge closed the connection right after the auth op: it refused the MAC (check ROS_AUTH_SECRET against rosauth's secret file and the clocks of both machines)";
        this.emit("peerError", { level: "error", msg: reason, id: "auth" });
      }
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
      const t = transport as WsTransport | null;
      if (!t) return;
      this.#transport = t;
      this.#up = true;
      this.#attempt = 0;
      if (this.#o.authSecret !== undefined) {
        // rosbridge reads the first frame as the auth op: it goes before any subscription.
        const dest = new URL(this.#o.url).hostname;
        const client = (t.socket as unknown as { _socket?: { localAddress?: string } })._socket
          ?.localAddress;
        t.send(
          authOp(this.#o.authSecret, {
            client: client ?? "",
            dest,
            level: this.#o.authLevel ?? "admin",
            nowMs: Date.now(),
          }),
        );
        authSent = true;
      }
      log.info({ url: this.#o.url, auth: authSent }, "rosbridge connected");
      this.#startPinging(t, failed);
      for (const s of this.#subs) this.#subscribe(ros, s);
      this.emit("up");
    });
    ros.on("close", () => failed("connection closed"));
    const guard = setTimeout(() => {
      if (!settled) failed(`no connection within ${this.#o.callTimeoutMs} ms`);
    }, this.#o.callTimeoutMs);
    guard.unref();
    try {
      await ros.connect(this.#o.url);
      (transport as WsTransport | null)?.socket.on("error", () => undefined);
    } catch (err) {
      failed(err instanceof Error ? err.message : String(err));
    }
  }

  /** Sees every decoded message before roslib: counts them, reports error statuses. */
  #tap(m: unknown): void {
    this.#received += 1;
    if (typeof m !== "object" || m === null) return;
    const op = m as { op?: unknown; level?: unknown; msg?: unknown; id?: unknown };
    if (op.op !== "status" || op.level !== "error") return;
    const status: PeerStatus = {
      level: "error",
      msg: typeof op.msg === "string" ? op.msg : JSON.stringify(op.msg),
      id: typeof op.id === "string" ? op.id : undefined,
    };
    this.emit("peerError", status);
  }

  #startPinging(t: WsTransport, failed: (reason: string) => void): void {
    this.#stopPinging();
    const every = this.#o.pingMs ?? 0;
    if (every <= 0) return;
    this.#lastPongMs = Date.now();
    t.socket.on("pong", () => {
      this.#lastPongMs = Date.now();
    });
    let lastTickMs = Date.now();
    this.#pinger = setInterval(() => {
      const now = Date.now();
      const late = now - lastTickMs > 1.5 * every;
      lastTickMs = now;
      // A late tick means this process stalled: a pong may be waiting in the socket, read
      // right after this timer. Judge on a tick that came on time.
      if (late) this.#lastPongMs = Math.max(this.#lastPongMs, now - every);
      const silentMs = now - this.#lastPongMs;
      if (silentMs > 3 * every) {
        failed(`rosbridge answered no websocket ping for ${silentMs} ms`);
        return;
      }
      try {
        t.socket.ping();
      } catch {
        // the close event follows
      }
    }, every);
    this.#pinger.unref();
  }

  #stopPinging(): void {
    if (this.#pinger) clearInterval(this.#pinger);
    this.#pinger = null;
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
    topic.subscribe((msg) => {
      if (typeof msg === "object" && msg !== null) sub.onMessage(msg);
    });
    sub.topic = topic;
    sub.subscribeId = (topic as unknown as { subscribeId: string | null }).subscribeId;
  }
}
