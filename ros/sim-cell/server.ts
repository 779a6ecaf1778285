/**
 * The rosbridge v2 server of the simulated cell. It does not own a socket server:
 * {@link RosbridgeServer.handleConnection} takes any connected `ws` socket, so it plugs
 * into any http server and any test (startSimCell in index.ts wires one `ws` server).
 *
 * Per frame: size check → decode (JSON text, CBOR binary) → validate the op once
 * (protocol.ts) → its handler from an exhaustive table. Bad input is answered with a
 * `status` error naming the problem (echoing the op's id) and changes nothing; nothing a
 * client sends closes its socket or stops the cell.
 */
import { z } from "zod";
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { RosVersion } from "../../shared/ros-msgs.ts";
import { Ros2ActionGoals, TrajectoryExecutor } from "./actions.ts";
import { ActionlibServer } from "./actionlib.ts";
import { DeadlineScheduler, nodeRuntime } from "./deadline-scheduler.ts";
import { type CellCatalog, cellCatalog, JOINT_STATES_TOPIC, sameType } from "./catalog.ts";
import type { ArmSample, SimCellCore } from "./cell.ts";
import { type ClientLimits, ClientSession } from "./client.ts";
import { JointNames, jointStateMsg } from "./conversions.ts";
import { ProtocolError, RequestRefusedError } from "./errors.ts";
import {
  cborFailsOn,
  isRos2TypeString,
  noFaults,
  type SimCellFaults,
  type SimCellQuirks,
  verifyAuth,
} from "./faults.ts";
import { MoveItServices } from "./moveit.ts";
import {
  type IncomingOp,
  type OpName,
  type OpOf,
  parseOp,
  type ServiceResponseMessage,
} from "./protocol.ts";
import { describeIssues } from "../../shared/messages/common.ts";
import { rosSchemas, type RosSchemas } from "../../shared/ros-schemas.ts";
import { applyJointJog } from "./servo.ts";
import { MAX_SUBSCRIBE_IDS, type SubscribeRequest } from "./subscriptions.ts";
import { decodeFrame, EncodedMessage, type EncodeOptions, frameBytes } from "./wire.ts";

export interface RosbridgeServerOptions {
  cell: SimCellCore;
  /** Type names, time fields and action transport follow this ROS version. */
  rosVersion: RosVersion;
  /** Names the cell publishes for the group's joints, in group order. */
  jointNames: readonly string[];
  /** `/joint_states` publish rate, Hz (≤ 1000). */
  jointStatesHz: number;
  /**
   * Spin window of the `/joint_states` scheduler before each deadline, ms (default 0: timers
   * only). See deadline-scheduler.ts: it buys punctuality with CPU.
   */
  jointStatesSpinMs?: number;
  /** How late `/joint_states` deadlines are caught up (default "per-turn"): see JOINT_STATES_CATCH_UP. */
  jointStatesCatchUp?: JointStatesCatchUp;
  /** Largest incoming frame (and reassembled fragmented message), bytes. */
  maxMessageBytes: number;
  logger: Logger;
  /** Unsent bytes per client above which its publishes are skipped (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Most clients served at once; more are closed with 1013 (default 256). */
  maxClients?: number;
  /** Monotonic clock, ms (default `performance.now`). */
  now?: () => number;
  /** Run-time faults (shared with whoever switches them; default: none). See faults.ts. */
  faults?: SimCellFaults;
  /** Behave like a particular rosbridge release (default `none`). See faults.ts. */
  quirks?: SimCellQuirks;
  /** Require rosauth MAC authentication with this secret (rosbridge `authenticate:=true`). */
  authSecret?: string;
}

/** Rate of the ROS 1 actionlib `status` topics, Hz (actionlib's default is 5). */
const ACTIONLIB_STATUS_HZ = 5;
/** Close code for clients when the cell shuts down (1001 going away). */
const CLOSE_GOING_AWAY = 1001;
/** Close code for a client beyond the limit (1013 try again later). */
const CLOSE_TRY_AGAIN_LATER = 1013;

type Handlers = { readonly [K in OpName]: (client: ClientSession, op: OpOf<K>) => void };

/** `agenttwin_msgs/ResetArm` request (simulation only): joint names and positions, rad. */
const ResetArmRequest = z
  .object({ name: z.array(z.string()).max(64), position: z.array(z.number().finite()).max(64) })
  .refine((r) => r.name.length === r.position.length, {
    message: "name and position differ in length",
  });

/** `agenttwin_msgs/PublishLateness` request (simulation only): `reset` starts a new window. */
const PublishLatenessRequest = z.object({ reset: z.boolean().default(false) });

/**
 * Late `/joint_states` deadlines: "per-turn" publishes those within 2 periods, one per loop
 * turn, and skips older ones; "burst" is the loop the scheduler replaced (up to 50 sent back
 * to back from one wake-up), kept as the benchmark's baseline.
 */
export type JointStatesCatchUp = "per-turn" | "burst";
const JOINT_STATES_CATCH_UP = {
  "per-turn": { maxCatchUpPeriods: 2, burst: false },
  burst: { maxCatchUpPeriods: 50, burst: true },
} as const;

export class RosbridgeServer {
  readonly catalog: CellCatalog;
  readonly #cell: SimCellCore;
  readonly #version: RosVersion;
  readonly #names: JointNames;
  readonly #schemas: RosSchemas;
  readonly #logger: Logger;
  readonly #maxMessageBytes: number;
  readonly #limits: ClientLimits;
  readonly #now: () => number;
  readonly #maxClients: number;
  readonly #clients = new Set<ClientSession>();
  readonly #moveit: MoveItServices;
  readonly #executor: TrajectoryExecutor;
  readonly #ros2: Ros2ActionGoals;
  readonly #actionlib = new Map<string, ActionlibServer>();
  readonly #handlers: Handlers;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #jointStates: DeadlineScheduler;
  #nextClientId = 1;
  #jointStateSeq = 0;
  readonly faults: SimCellFaults;
  readonly #quirks: SimCellQuirks;
  readonly #authSecret: string | undefined;
  /** CBOR publishes that failed as rosbridge 0.11 fails them (quirk), for logs. */
  #cborFailures = 0;
  /** Reused buffer for the joint-state sample being published. */
  readonly #jointSample: ArmSample;
  #closed = false;

  constructor(options: RosbridgeServerOptions) {
    this.#cell = options.cell;
    this.#version = options.rosVersion;
    this.#names = new JointNames(options.jointNames);
    this.#jointSample = {
      positions: new Float64Array(this.#names.dof),
      velocities: new Float64Array(this.#names.dof),
    };
    this.#schemas = rosSchemas(options.rosVersion);
    this.#logger = options.logger;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#now = options.now ?? (() => performance.now());
    this.#maxClients = options.maxClients ?? 256;
    this.faults = options.faults ?? noFaults();
    this.#quirks = options.quirks ?? "none";
    this.#authSecret = options.authSecret;
    const soft = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.#limits = {
      softBufferBytes: soft,
      hardBufferBytes: Math.max(4 * soft, 2 * options.maxMessageBytes),
      maxMessageChars: options.maxMessageBytes,
    };
    this.catalog = cellCatalog(options.rosVersion);
    this.#moveit = new MoveItServices(this.#cell, this.#names, this.#version, this.#logger);
    this.#executor = new TrajectoryExecutor(this.#cell, this.#names, this.#version, this.#logger);
    this.#ros2 = new Ros2ActionGoals(this.#executor, this.catalog.actions, this.#schemas);
    if (this.#version === 1) {
      const bus = {
        publish: (topic: string, msg: unknown) => this.#publish(topic, msg),
        hasSubscribers: (topic: string) => this.hasSubscribers(topic),
      };
      for (const action of this.catalog.actions.values()) {
        this.#actionlib.set(
          action.name,
          new ActionlibServer({
            action,
            executor: this.#executor,
            schemas: this.#schemas,
            bus,
            cell: this.#cell,
            now: this.#now,
          }),
        );
      }
      this.#every(1000 / ACTIONLIB_STATUS_HZ, () => {
        for (const s of this.#actionlib.values()) s.publishStatus();
      });
    }
    this.#handlers = {
      advertise: (c, op) => this.#advertise(c, op),
      unadvertise: (c, op) => this.#unadvertise(c, op),
      publish: (c, op) => this.#publishOp(c, op),
      subscribe: (c, op) => this.#subscribe(c, op),
      unsubscribe: (c, op) => this.#unsubscribe(c, op),
      call_service: (c, op) => this.#callService(c, op),
      send_action_goal: (c, op) => {
        this.#requireVersion(2, op.id, `actions go over actionlib topics (${op.action}/goal)`);
        this.#afterAcceptDelay(c, op.id, () => this.#ros2.sendGoal(c, op));
      },
      cancel_action_goal: (c, op) => {
        this.#requireVersion(2, op.id, `actions go over actionlib topics (${op.action}/cancel)`);
        this.#ros2.cancelGoal(c, op);
      },
      set_level: (c, op) => {
        c.level = op.level;
      },
      fragment: (c, op) => {
        const text = c.fragments.add(op);
        if (text === null) return;
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (err) {
          throw new ProtocolError("reassembled fragments are not valid JSON", op.id, {
            cause: err,
          });
        }
        const inner = parseOp(raw);
        if (inner.op === "fragment")
          throw new ProtocolError("fragments may not contain fragments", op.id);
        this.#dispatch(c, inner);
      },
    };
    this.#jointStates = new DeadlineScheduler(
      {
        periodMs: 1000 / options.jointStatesHz,
        spinWindowMs: options.jointStatesSpinMs ?? 0,
        ...JOINT_STATES_CATCH_UP[options.jointStatesCatchUp ?? "per-turn"],
        runtime: { ...nodeRuntime, now: () => this.#cell.now() },
        onError: (err) => this.#logger.error({ err }, "joint state publish failed"),
      },
      (atMs) => this.#publishJointStates(atMs),
    );
    this.#jointStates.start();
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Serves one connected socket until it closes. */
  handleConnection(ws: WebSocket): void {
    if (this.#closed) {
      ws.close(CLOSE_GOING_AWAY, "sim cell is shutting down");
      return;
    }
    if (this.#clients.size >= this.#maxClients) {
      this.#logger.warn({ clients: this.#clients.size }, "client refused: too many clients");
      ws.close(CLOSE_TRY_AGAIN_LATER, "too many clients");
      return;
    }
    const id = this.#nextClientId++;
    const logger = this.#logger.child({ client: id });
    const client = new ClientSession(id, ws, this.#limits, logger, this.#now);
    if (this.#authSecret !== undefined) client.authenticated = false;
    if (this.faults.frozen) {
      client.frozen = true;
      ws.pause();
    }
    this.#clients.add(client);
    logger.info({ clients: this.#clients.size }, "client connected");
    ws.on("message", (data: RawData, isBinary: boolean) => this.#onFrame(client, data, isBinary));
    ws.on("close", () => this.#disconnect(client));
    ws.on("error", (err) => logger.debug({ err }, "socket error"));
  }

  /** True when some client subscribes to `topic`. */
  hasSubscribers(topic: string): boolean {
    for (const c of this.#clients) if (c.subscriptions.has(topic)) return true;
    return false;
  }

  /** Subscribe ids on `topic` summed over clients (a client leaking subscriptions grows it). */
  subscribeIds(topic: string): number {
    let n = 0;
    for (const c of this.#clients) n += c.subscriptions.get(topic)?.size ?? 0;
    return n;
  }

  /** Test hook: closes every client socket abruptly (no close handshake), as a lost link does. */
  dropClients(): void {
    for (const c of [...this.#clients]) {
      c.socket.terminate();
      this.#disconnect(c);
    }
  }

  /**
   * Test hook: freezes (or thaws) the rosbridge without closing anything — see faults.ts.
   * While frozen no client socket is read and nothing is sent.
   */
  setFrozen(frozen: boolean): void {
    this.faults.frozen = frozen;
    for (const c of this.#clients) {
      c.frozen = frozen;
      if (frozen) c.socket.pause();
      else c.socket.resume();
    }
    this.#logger.warn({ frozen }, frozen ? "rosbridge frozen (fault)" : "rosbridge thawed");
  }

  /** Runs an action goal's acceptance after the configured delay (fault), reporting errors. */
  #afterAcceptDelay(c: ClientSession, id: string | number | undefined, accept: () => void): void {
    const delay = this.faults.goalAcceptDelayMs;
    if (delay <= 0) {
      accept();
      return;
    }
    const t = setTimeout(() => {
      try {
        if (!this.#closed) accept();
      } catch (err) {
        this.#report(c, err, id);
      }
    }, delay);
    t.unref();
  }

  /** Stops publishing, closes every client (terminating those that do not close within 1 s). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    this.#jointStates.stop();
    this.#executor.close();
    const sockets = [...this.#clients].map((c) => c.socket);
    for (const c of [...this.#clients]) this.#disconnect(c);
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const force = setTimeout(() => ws.terminate(), 1000);
            ws.once("close", () => {
              clearTimeout(force);
              resolve();
            });
            ws.close(CLOSE_GOING_AWAY, "sim cell is shutting down");
          }),
      ),
    );
  }

  #every(periodMs: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.#logger.error({ err }, "periodic task failed");
      }
    }, periodMs);
    t.unref();
    this.#timers.push(t);
  }

  #disconnect(client: ClientSession): void {
    if (!this.#clients.delete(client)) return;
    client.dispose();
    this.#logger.info({ client: client.id, drops: client.drops }, "client disconnected");
  }

  #onFrame(client: ClientSession, data: RawData, isBinary: boolean): void {
    if (!client.authenticated) {
      this.#authenticate(client, data, isBinary);
      return;
    }
    try {
      const bytes = frameBytes(data);
      if (bytes > this.#maxMessageBytes) {
        throw new ProtocolError(
          `frame of ${bytes} bytes exceeds the limit of ${this.#maxMessageBytes} bytes`,
        );
      }
      this.#dispatch(client, parseOp(decodeFrame(data, isBinary)));
    } catch (err) {
      this.#report(client, err, undefined);
    }
  }

  /**
   * rosbridge with `authenticate:=true`: the first frame must be a valid `auth` op; it is
   * accepted silently, anything else closes the connection (as rosbridge_server does).
   */
  #authenticate(client: ClientSession, data: RawData, isBinary: boolean): void {
    let raw: unknown;
    try {
      raw = decodeFrame(data, isBinary);
    } catch {
      raw = undefined;
    }
    if (verifyAuth(this.#authSecret ?? "", raw, Date.now() / 1000)) {
      client.authenticated = true;
      this.#logger.info({ client: client.id }, "client authenticated");
      return;
    }
    this.#logger.warn({ client: client.id }, "client did not authenticate; closing connection");
    client.socket.close();
  }

  #dispatch(client: ClientSession, op: IncomingOp): void {
    try {
      const handler = this.#handlers[op.op] as (c: ClientSession, o: IncomingOp) => void;
      handler(client, op);
    } catch (err) {
      this.#report(client, err, op.id);
    }
  }

  #report(client: ClientSession, err: unknown, opId: string | number | undefined): void {
    if (err instanceof ProtocolError) {
      client.status("error", err.message, err.opId ?? opId);
    } else if (err instanceof RequestRefusedError) {
      client.status("error", err.message, opId);
    } else {
      this.#logger.error({ err, client: client.id }, "request failed");
      client.status("error", `internal error: ${(err as Error).message ?? String(err)}`, opId);
    }
  }

  #requireVersion(version: RosVersion, id: string | number | undefined, why: string): void {
    if (this.#version !== version) {
      throw new ProtocolError(`this is a ROS ${this.#version} cell: ${why}`, id);
    }
  }

  #topic(name: string, id: string | number | undefined) {
    const spec = this.catalog.topics.get(name);
    if (!spec) {
      const offered = [...this.catalog.topics.keys()].join(", ");
      throw new ProtocolError(`unknown topic "${name}" (offered: ${offered})`, id);
    }
    return spec;
  }

  /** A ROS 1 rosbridge cannot load a ROS 2 type string at all (before looking at the topic). */
  #checkTypeString(op: { op: string; id?: string | number; type?: string | undefined }): void {
    if (this.#version === 1 && op.type !== undefined && isRos2TypeString(op.type)) {
      throw new ProtocolError(`${op.op}: ${op.type} is not a valid type string`, op.id);
    }
  }

  #advertise(c: ClientSession, op: OpOf<"advertise">): void {
    this.#checkTypeString(op);
    const spec = this.#topic(op.topic, op.id);
    if (!sameType(op.type, spec.type, this.#version)) {
      throw new ProtocolError(`topic ${op.topic} has type ${spec.type}, not ${op.type}`, op.id);
    }
    if (spec.publisher === "cell") {
      throw new ProtocolError(`topic ${op.topic} is published by the cell, not by clients`, op.id);
    }
    let ids = c.advertisements.get(op.topic);
    if (!ids) {
      ids = new Set();
      c.advertisements.set(op.topic, ids);
    }
    if (ids.size < 64) ids.add(op.id ?? null);
    c.status("info", `advertised ${op.topic}`, op.id);
  }

  #unadvertise(c: ClientSession, op: OpOf<"unadvertise">): void {
    if (!c.advertisements.delete(op.topic)) {
      c.status("warning", `topic ${op.topic} was not advertised`, op.id);
    }
  }

  #publishOp(c: ClientSession, op: OpOf<"publish">): void {
    const spec = this.#topic(op.topic, op.id);
    if (spec.publisher === "cell") {
      throw new ProtocolError(`topic ${op.topic} is published by the cell, not by clients`, op.id);
    }
    if (!c.isAdvertising(op.topic)) {
      throw new ProtocolError(`advertise ${op.topic} before publishing to it`, op.id);
    }
    switch (spec.role) {
      case "servo_joint_jog": {
        const parsed = this.#schemas.JointJog.safeParse(op.msg ?? {});
        if (!parsed.success) {
          throw new ProtocolError(`${op.topic}: ${describeIssues(parsed.error)}`, op.id, {
            cause: parsed.error,
          });
        }
        applyJointJog(this.#cell, this.#names, parsed.data);
        break;
      }
      case "actionlib_goal": {
        const server = this.#actionlibFor(spec.action?.name);
        this.#afterAcceptDelay(c, op.id, () => server.onGoal(op.msg));
        break;
      }
      case "actionlib_cancel":
        this.#actionlibFor(spec.action?.name).onCancel(op.msg);
        break;
      default:
        throw new ProtocolError(`topic ${op.topic} takes no messages from clients`, op.id);
    }
    // Other clients may listen to what was published (rosbridge relays through ROS).
    this.#publish(op.topic, op.msg ?? {});
  }

  #actionlibFor(name: string | undefined): ActionlibServer {
    const server = name === undefined ? undefined : this.#actionlib.get(name);
    if (!server) throw new ProtocolError(`no actionlib server for ${name ?? "this topic"}`);
    return server;
  }

  #subscribe(c: ClientSession, op: OpOf<"subscribe">): void {
    this.#checkTypeString(op);
    const spec = this.#topic(op.topic, op.id);
    if (op.type !== undefined && !sameType(op.type, spec.type, this.#version)) {
      throw new ProtocolError(`topic ${op.topic} has type ${spec.type}, not ${op.type}`, op.id);
    }
    let compression: SubscribeRequest["compression"] = "none";
    if (op.compression === "cbor") compression = "cbor";
    else if (op.compression !== undefined && op.compression !== "none") {
      c.status(
        "warning",
        `compression "${op.compression}" is not supported by the sim cell; sending plain JSON`,
        op.id,
      );
    }
    const existing = c.subscriptions.get(op.topic);
    if (existing && existing.size >= MAX_SUBSCRIBE_IDS && !existing.has(op.id)) {
      throw new ProtocolError(
        `at most ${MAX_SUBSCRIBE_IDS} subscriptions (ids) per topic and client`,
        op.id,
      );
    }
    c.subscription(op.topic).add(op.id, {
      throttleMs: op.throttle_rate ?? 0,
      queueLength: op.queue_length ?? 0,
      fragmentSize: op.fragment_size,
      compression,
    });
    c.status("info", `subscribed to ${op.topic}`, op.id);
    // actionlib clients wait for a first status to know the server is there.
    if (spec.role === "actionlib_status") this.#actionlibFor(spec.action?.name).publishStatus();
  }

  #unsubscribe(c: ClientSession, op: OpOf<"unsubscribe">): void {
    const sub = c.subscriptions.get(op.topic);
    if (!sub) {
      c.status("warning", `not subscribed to ${op.topic}`, op.id);
      return;
    }
    if (sub.remove(op.id)) c.subscriptions.delete(op.topic);
    c.status("info", `unsubscribed from ${op.topic}`, op.id);
  }

  #callService(c: ClientSession, op: OpOf<"call_service">): void {
    const encode: EncodeOptions = {
      compression: op.compression === "cbor" ? "cbor" : "none",
      fragmentSize: op.fragment_size,
    };
    const reply = (m: ServiceResponseMessage) => {
      if (op.id !== undefined) m.id = op.id;
      c.send(m, encode);
    };
    const fail = (why: string) =>
      reply({ op: "service_response", service: op.service, result: false, values: why });
    const spec = this.catalog.services.get(op.service);
    if (!spec) {
      fail(`service ${op.service} does not exist`);
      return;
    }
    if (op.type !== undefined && !sameType(op.type, spec.type, this.#version)) {
      fail(`service ${op.service} has type ${spec.type}, not ${op.type}`);
      return;
    }
    const args = op.args ?? {};
    let values: unknown;
    switch (spec.role) {
      case "plan": {
        const parsed = this.#schemas.GetMotionPlanRequest.safeParse(args);
        if (!parsed.success) return fail(`invalid request: ${describeIssues(parsed.error)}`);
        values = this.#moveit.planKinematicPath(parsed.data);
        break;
      }
      case "ik": {
        const parsed = this.#schemas.GetPositionIKRequest.safeParse(args);
        if (!parsed.success) return fail(`invalid request: ${describeIssues(parsed.error)}`);
        values = this.#moveit.computeIk(parsed.data);
        break;
      }
      case "reset_arm": {
        const parsed = ResetArmRequest.safeParse(args);
        if (!parsed.success) return fail(`invalid request: ${describeIssues(parsed.error)}`);
        const q = new Float64Array(this.#names.dof);
        const seen = new Set<number>();
        for (const [k, name] of parsed.data.name.entries()) {
          const i = this.#names.indexOf(name);
          if (i < 0) return fail(`unknown joint ${name}`);
          q[i] = parsed.data.position[k] as number;
          seen.add(i);
        }
        if (seen.size !== this.#names.dof) return fail(`expected all ${this.#names.dof} joints`);
        try {
          this.#cell.teleport(q);
          values = { success: true, message: "" };
        } catch (err) {
          values = { success: false, message: err instanceof Error ? err.message : String(err) };
        }
        break;
      }
      case "publish_lateness": {
        const parsed = PublishLatenessRequest.safeParse(args);
        if (!parsed.success) return fail(`invalid request: ${describeIssues(parsed.error)}`);
        const f = this.#jointStates.figures();
        values = {
          topic: JOINT_STATES_TOPIC,
          published: f.ran,
          skipped: f.skipped,
          p50_ms: f.p50Ms,
          p99_ms: f.p99Ms,
          max_ms: f.maxMs,
        };
        if (parsed.data.reset) this.#jointStates.resetFigures();
        break;
      }
      case "cancel_goal": {
        const parsed = this.#schemas.CancelGoalRequest.safeParse(args);
        if (!parsed.success) return fail(`invalid request: ${describeIssues(parsed.error)}`);
        const action = spec.action;
        if (!action) return fail("no action for this service");
        values = this.#ros2.cancelAll(action, parsed.data.goal_info.goal_id.uuid);
        break;
      }
    }
    reply({ op: "service_response", service: op.service, result: true, values });
  }

  /** Publishes the arm as it was at `atMs` (the cell's monotonic clock). */
  #publishJointStates(atMs: number): void {
    if (this.faults.dropJointStates || !this.hasSubscribers(JOINT_STATES_TOPIC)) {
      this.#cell.advance(atMs);
      return;
    }
    const sample = this.#jointSample;
    const stampS = this.#cell.sampleAt(atMs, sample);
    if (stampS === null) return;
    this.#jointStateSeq += 1;
    const msg = jointStateMsg(
      this.#names,
      sample.positions,
      sample.velocities,
      stampS,
      this.#version,
      this.#jointStateSeq,
    );
    this.#publish(JOINT_STATES_TOPIC, msg);
  }

  /** Offers one message on `topic` to every subscribed client (serialised at most once per encoding). */
  #publish(topic: string, msg: unknown): void {
    let encoded: EncodedMessage | null = null;
    const cborFails =
      this.#quirks === "rosbridge-0.11" && cborFailsOn(this.catalog.topics.get(topic)?.type ?? "");
    for (const c of this.#clients) {
      const sub = c.subscriptions.get(topic);
      if (!sub) continue;
      if (cborFails && sub.options.compression === "cbor") {
        // rosbridge 0.11.17's cbor_conversion treats string[] as nested messages and throws
        // in the subscriber callback: the client gets nothing, the server logs an error.
        this.#cborFailures += 1;
        if (this.#cborFailures === 1 || this.#cborFailures % 500 === 0) {
          this.#logger.error(
            { topic, failures: this.#cborFailures },
            "Exception calling subscribe callback: 'str' object has no attribute '__slots__'",
          );
        }
        continue;
      }
      encoded ??= new EncodedMessage({ op: "publish", topic, msg });
      sub.offer(encoded);
    }
  }
}
