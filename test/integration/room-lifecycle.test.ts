/**
 * The shared room lifecycle (server/rooms/room-lifecycle.ts) on its own, over real sockets:
 * a Colyseus server on port 0 serving small probe rooms built on `sessionRoom`, joined with
 * `@colyseus/sdk`. A probe session records what the lifecycle told it as events, so each
 * test waits on what happened, never on a clock:
 *
 * - matchmaking auth is inherited (401 without a token, 403 for a role that may not create);
 * - join seats the client (its messages reach the session), ticks step and patch, a leave
 *   leaves, the last leave disposes the room and closes its session;
 * - a dropped socket keeps its seat and reconnects to the same sessionId within the window;
 *   a drop whose window runs out leaves;
 * - a tick that throws is logged and the next ticks go on;
 * - a room whose session cannot be built gives its quota slot back, counts no room and
 *   closes nothing.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { EventEmitter, once } from "node:events";
import { after, before, describe, it } from "node:test";
import { Writable } from "node:stream";
import { Server } from "@colyseus/core";
import { schema, type SchemaType } from "@colyseus/schema";
import { Client, type Room } from "@colyseus/sdk";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { pino } from "pino";
import { z } from "zod";
import { Capability, Role } from "../../server/auth/roles.ts";
import { TokenService } from "../../server/auth/tokens.ts";
import { type Config, loadConfig } from "../../server/config.ts";
import { ServerMetrics } from "../../server/http/metrics.ts";
import { installNodeCompat } from "../../server/node-compat.ts";
import { RoomQuota } from "../../server/rooms/room-auth.ts";
import { sessionRoom, type SessionRoomDeps } from "../../server/rooms/room-lifecycle.ts";
import type { Actor } from "../../server/twin/actor.ts";

const ProbeState = schema({ ticks: { type: "uint32", default: 0 } }, "ProbeState");
type ProbeState = SchemaType<typeof ProbeState>;
const ProbeSchemas = { ping: z.object({ requestId: z.string().optional() }) };

/** What the lifecycle told one room's session, in order, as events. */
class ProbeSession extends EventEmitter {
  readonly log: string[] = [];
  /** Seconds passed to each step. */
  readonly steps: number[] = [];
  #record(event: string, detail: string): void {
    this.log.push(`${event} ${detail}`);
    this.emit(event, detail);
  }
  join(actor: Actor): void {
    this.#record("join", `${actor.sessionId} ${actor.userId} ${actor.role}`);
  }
  setConnected(sessionId: string, connected: boolean): void {
    this.#record(connected ? "connected" : "disconnected", sessionId);
  }
  leave(sessionId: string): void {
    this.#record("leave", sessionId);
  }
  handle(actor: Actor): Promise<{ summary: string }> {
    this.#record("ping", actor.sessionId);
    return Promise.resolve({ summary: "pong" });
  }
  close(): void {
    this.#record("close", "");
  }
}

/** Every session the probe rooms built, by room id; `built` fires with each. */
const sessions = new Map<string, ProbeSession>();
const built = new EventEmitter();
/** Log lines of the probe rooms (pino JSON). */
const logLines: string[] = [];
const logEvents = new EventEmitter();

/** A probe room kind; `failOpen` makes building its session fail, `throwTicks` its first steps. */
function probeRoom(
  name: string,
  deps: SessionRoomDeps,
  o: { failOpen?: boolean; throwTicks?: number } = {},
) {
  const Base = sessionRoom<ProbeState, ProbeSession, typeof ProbeSchemas>(
    { name, createRoles: [Role.Operator] },
    deps,
  );
  return class ProbeRoom extends Base {
    override state = new ProbeState();
    #throwTicks = o.throwTicks ?? 0;
    protected override open() {
      if (o.failOpen) throw new Error("no cell to link");
      const session = new ProbeSession();
      sessions.set(this.roomId, session);
      built.emit("session", this.roomId);
      return {
        session,
        messages: {
          schemas: ProbeSchemas,
          required: { ping: Capability.Presence },
          silent: new Set<string>(),
          handle: (actor: Actor) => session.handle(actor),
        },
      };
    }
    protected override step(dtS: number): void {
      this.session.steps.push(dtS);
      if (this.#throwTicks > 0) {
        this.#throwTicks--;
        throw new Error("step broke");
      }
      this.state.ticks++;
    }
    protected override close(): void {
      this.session.close();
    }
  };
}

/** Resolves with the room's state once `pred` holds (checked on every patch). */
function stateWhere<S>(room: Room<unknown, S>, pred: (s: S) => boolean): Promise<S> {
  return new Promise((resolve) => {
    if (pred(room.state)) return resolve(room.state);
    const sub = room.onStateChange((s) => {
      if (!pred(s)) return;
      sub.clear();
      resolve(s);
    });
  });
}

/** Resolves once `session` has recorded `event` for `detail`. */
async function recorded(session: ProbeSession, event: string, detail: string): Promise<void> {
  while (!session.log.includes(`${event} ${detail}`)) await once(session, event);
}

/** Resolves once a log line matches `pred`. */
async function logged(pred: (line: Record<string, unknown>) => boolean): Promise<void> {
  const has = () => logLines.some((l) => pred(JSON.parse(l) as Record<string, unknown>));
  while (!has()) await once(logEvents, "line");
}

async function gauge(g: ServerMetrics["rooms"], roomType: string): Promise<number> {
  const { values } = await g.get();
  return values.filter((v) => v.labels.room_type === roomType).reduce((n, v) => n + v.value, 0);
}

describe("room lifecycle (sessionRoom)", () => {
  const secret = randomBytes(32).toString("hex");
  const tokens = new TokenService(secret);
  const metrics = new ServerMetrics();
  const quota = new RoomQuota(8, 1);
  let config: Config;
  let server: Server;
  let url: string;

  const token = (role: Role, userId: string) => tokens.issue({ userId, name: userId, role }, 60);
  const client = async (role: Role, userId: string) => {
    const c = new Client(url);
    c.auth.token = await token(role, userId);
    return c;
  };
  /** Drops `room`'s socket without a consented leave (3001 also stops the SDK's own retry). */
  const drop = (room: Room) =>
    (room.connection as unknown as { close(code?: number): void }).close(3001);

  before(async () => {
    installNodeCompat(); // Colyseus's reconnection path needs a global WebSocket (Node 20)
    config = loadConfig({ PORT: "0", HOST: "127.0.0.1", RECONNECT_S: "60" });
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split("\n").filter(Boolean)) {
            logLines.push(line);
            logEvents.emit("line");
          }
          done();
        },
      }),
    );
    const deps: SessionRoomDeps = { config, logger, metrics, tokens, quota };
    // The same lifecycle with no reconnection window: a drop is a leave.
    const noWindow = { ...deps, config: { ...config, room: { ...config.room, reconnectS: 0 } } };
    // Colyseus logs through the same logger, so its own errors (e.g. "onDispose error") show.
    server = new Server({ transport: new WebSocketTransport(), greet: false, logger });
    server.define("probe", probeRoom("probe", deps));
    server.define("probe_no_window", probeRoom("probe_no_window", noWindow));
    server.define("probe_broken_tick", probeRoom("probe_broken_tick", deps, { throwTicks: 3 }));
    server.define("probe_broken", probeRoom("probe_broken", deps, { failOpen: true }));
    await server.listen(0, "127.0.0.1");
    const address = server.transport.server?.address();
    assert.ok(address && typeof address === "object");
    url = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await server.gracefullyShutdown(false);
  });

  it("authenticates at matchmaking: 401 without a token, 403 for an observer creating", async () => {
    await assert.rejects(new Client(url).create("probe"), { code: 401 });
    const observer = await client(Role.Observer, "watcher");
    await assert.rejects(observer.create("probe"), { code: 403 });
    assert.equal(quota.size, 0);
  });

  it("seats, ticks, hands messages to the session, leaves and disposes", async () => {
    const rooms0 = await gauge(metrics.rooms, "probe");
    const creating = once(built, "session");
    const room = await (await client(Role.Operator, "ada")).create<ProbeState>("probe");
    const [roomId] = (await creating) as [string];
    const session = sessions.get(roomId)!;
    await recorded(session, "join", `${room.sessionId} ada operator`);
    assert.equal(await gauge(metrics.rooms, "probe"), rooms0 + 1);
    assert.equal(await gauge(metrics.clients, "probe"), 1);

    // Ticks step the session by the time since the previous tick and send the patch.
    await stateWhere(room, (s) => s.ticks >= 3);
    assert.ok(
      session.steps.every((dt) => dt > 0 && Number.isFinite(dt)),
      `${session.steps}`,
    );

    const acked = new Promise<unknown>((resolve) => room.onMessage("ack", resolve));
    room.send("ping", { requestId: "p1" });
    assert.deepEqual(await acked, { type: "ping", requestId: "p1", summary: "pong" });

    await room.leave();
    await recorded(session, "close", "");
    assert.deepEqual(session.log, [
      `join ${room.sessionId} ada operator`,
      `ping ${room.sessionId}`,
      `leave ${room.sessionId}`,
      "close ",
    ]);
    assert.equal(await gauge(metrics.clients, "probe"), 0);
    assert.equal(await gauge(metrics.rooms, "probe"), rooms0);
    assert.equal(quota.size, 0);
  });

  it("holds a dropped seat and gives it back on reconnection, same sessionId and role", async () => {
    const creating = once(built, "session");
    const host = await (await client(Role.Operator, "host")).create<ProbeState>("probe");
    const [roomId] = (await creating) as [string];
    const session = sessions.get(roomId)!;
    const flaky = await (await client(Role.Observer, "flaky")).joinById<ProbeState>(roomId);
    const { sessionId, reconnectionToken } = flaky;

    drop(flaky);
    await recorded(session, "disconnected", sessionId);
    const back = await new Client(url).reconnect<ProbeState>(reconnectionToken);
    assert.equal(back.sessionId, sessionId);
    assert.equal(back.roomId, roomId);
    await recorded(session, "connected", sessionId);
    assert.ok(!session.log.includes(`leave ${sessionId}`), "a reconnected seat never left");
    // The seat kept its actor: its messages are still accepted under its role.
    const acked = new Promise<unknown>((resolve) => back.onMessage("ack", resolve));
    back.send("ping", {});
    await acked;
    assert.equal(session.log.at(-1), `ping ${sessionId}`);
    await logged((l) => l.msg === "reconnected" && l.sessionId === sessionId);

    await back.leave();
    await recorded(session, "leave", sessionId);
    await host.leave();
    await recorded(session, "close", "");
  });

  it("leaves a dropped seat whose reconnection window runs out", async () => {
    const creating = once(built, "session");
    const host = await (await client(Role.Operator, "keeper")).create("probe_no_window");
    const [roomId] = (await creating) as [string];
    const session = sessions.get(roomId)!;
    const gone = await (await client(Role.Observer, "gone")).joinById(roomId);
    const { sessionId } = gone;
    assert.equal(await gauge(metrics.clients, "probe_no_window"), 2);

    drop(gone);
    await recorded(session, "leave", sessionId);
    assert.deepEqual(
      session.log.filter((l) => l.includes(sessionId)),
      [`join ${sessionId} gone observer`, `disconnected ${sessionId}`, `leave ${sessionId}`],
    );
    assert.equal(await gauge(metrics.clients, "probe_no_window"), 1);
    await host.leave();
    await recorded(session, "close", "");
  });

  it("logs a tick that throws and keeps ticking", async () => {
    const creating = once(built, "session");
    const room = await (
      await client(Role.Operator, "ticker")
    ).create<ProbeState>("probe_broken_tick");
    const [roomId] = (await creating) as [string];
    // The first three steps throw; the state moves once they are past.
    await stateWhere(room, (s) => s.ticks >= 2);
    assert.ok(sessions.get(roomId)!.steps.length >= 5);
    await logged((l) => l.msg === "tick failed" && l.roomId === roomId);
    await room.leave();
    await recorded(sessions.get(roomId)!, "close", "");
  });

  it("gives the quota slot back when the session cannot be built, counting no room", async () => {
    const rooms0 = await gauge(metrics.rooms, "probe_broken");
    const slots0 = quota.size;
    const maker = await client(Role.Operator, "unlucky");
    await assert.rejects(maker.create("probe_broken"), /no cell to link/);
    assert.equal(quota.size, slots0);
    assert.equal(await gauge(metrics.rooms, "probe_broken"), rooms0);
    // MAX_ROOMS_PER_USER is 1 here: the failed room no longer counts against its creator.
    const creating = once(built, "session");
    const room = await maker.create("probe");
    const [roomId] = (await creating) as [string];
    await room.leave();
    await recorded(sessions.get(roomId)!, "close", "");
    assert.ok(!logLines.some((l) => l.includes("onDispose error")));
  });
});
