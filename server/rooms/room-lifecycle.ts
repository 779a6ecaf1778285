/**
 * The lifecycle every session room shares (the `digital_twin` and the `metaverse` room),
 * written once: a room file keeps only what is its own — its state class, how its session
 * is built and closed, its messages and what a tick advances.
 *
 * What the base does, in Colyseus 0.17 terms:
 * - `static onAuth` (matchmaking, before a room exists): token 401, create role 403, room
 *   caps 503/429 — see room-auth.ts.
 * - `onCreate`: counts the room against the caps for its creator *before* anything is built
 *   (so concurrent creations cannot overshoot), then `open()`s the room's session. When that
 *   fails the quota slot is given back. Colyseus 0.17 then runs `onDispose` on the half-made
 *   room; it undoes only what was done (nothing beyond the slot when `open()` failed).
 * - `onJoin`: seats the client at the message boundary with its actor (identity from
 *   `onAuth`) and joins the session.
 * - `onDrop` (the socket closed without a consented leave): the session marks the seat
 *   disconnected and the seat — and so the role — is held for `RECONNECT_S` seconds
 *   with `allowReconnection`. An SDK (web 0.17, Unity 0.17.2) that reconnects in that window
 *   gets the same `sessionId` and `onReconnect` runs; otherwise Colyseus runs `onLeave`.
 * - `onReconnect`: counts the new socket's bytes, marks the seat connected again.
 * - `onLeave` (consented leave, or a drop whose window ran out): unseats and leaves.
 * - Tick: `setSimulationInterval` at `PATCH_RATE_HZ` with Colyseus's own patch timer
 *   off (`patchRate = null`), so each tick's change goes out in the patch right after it;
 *   a tick never throws out of its interval. A room where nothing changed and nobody sent
 *   anything for a second ticks at `REST_TICK_HZ` until the next message, join, leave or
 *   change (tick-pacer.ts).
 * - `onDispose`: gives the quota slot back, closes what `open()` built.
 */
import { Room, type AuthContext, type Client } from "@colyseus/core";
import type { Logger } from "pino";
import type { z } from "zod";
import type { Role } from "../auth/roles.ts";
import type { Identity, TokenService } from "../auth/tokens.ts";
import type { Config } from "../config.ts";
import type { ServerMetrics } from "../http/metrics.ts";
import type { Actor } from "../twin/actor.ts";
import { type BoundaryOptions, MessageBoundary } from "./message-boundary.ts";
import { admitAtMatchmaking, admitCreation, type Creator, type RoomQuota } from "./room-auth.ts";
import { TickPacer } from "./tick-pacer.ts";

/** Quiet time after which a room ticks at the rest rate, ms. */
const REST_AFTER_MS = 1000;

/** What every session room needs from the process; injected by the composition root. */
export interface SessionRoomDeps {
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  tokens: TokenService;
  /** Room caps of this process (MAX_ROOMS, MAX_ROOMS_PER_USER). */
  quota: RoomQuota;
}

/** Which room this is: its registered name and who may create one. */
export interface RoomKind {
  /** The name the room is defined under (`digital_twin`, `metaverse`); the metrics label. */
  name: string;
  /** Roles that may create a room of this kind (others may only join one). */
  createRoles: readonly Role[];
}

/** What the lifecycle asks of a room's session: seats come, drop, come back and go. */
export interface SeatedSession {
  join(actor: Actor): void;
  /** A seat's socket dropped (false) or came back within the reconnection window (true). */
  setConnected(sessionId: string, connected: boolean): void;
  leave(sessionId: string): void;
}

/** A room's messages: the boundary options that are its own (the base adds the rest). */
export type RoomMessages<S extends Record<string, z.ZodType>> = Omit<
  BoundaryOptions<S>,
  "roomType" | "config" | "metrics" | "logger"
>;

/** What a room's `open()` built: its session and how its messages reach that session. */
export interface OpenedRoom<Session extends SeatedSession, S extends Record<string, z.ZodType>> {
  session: Session;
  messages: RoomMessages<S>;
}

/**
 * The abstract base class of a session room of `kind`, bound to `deps` (no module
 * singletons). A room extends it and implements `open`, `step` and `close`.
 */
export function sessionRoom<
  State extends object,
  Session extends SeatedSession,
  S extends Record<string, z.ZodType>,
>(kind: RoomKind, deps: SessionRoomDeps) {
  const { config, metrics } = deps;
  const roomType = kind.name;
  const admission = { tokens: deps.tokens, quota: deps.quota, createRoles: kind.createRoles };

  abstract class SessionRoom extends Room<{ state: State }> {
    /** Matchmaking authentication (before a room exists); see room-auth.ts. */
    static override onAuth(token: string, options: unknown, context: AuthContext) {
      return admitAtMatchmaking(admission, roomType, token, options, context);
    }

    override maxClients = config.room.maxClients;
    // A hard ceiling far above the per-client bucket: only abusive clients are cut off.
    override maxMessagesPerSecond = Math.max(1000, config.room.rateLimitPerS * 5);

    session!: Session;
    boundary!: MessageBoundary<S>;
    log!: Logger;
    /** True once `open()` returned: from then on `onDispose` has a session to close. */
    #opened = false;
    /** `performance.now()` of the previous tick, ms. */
    #lastTickMs = 0;
    /** Whether the room ticks at the patch rate or the rest rate. */
    #pacer!: TickPacer;

    /** Whether the room ticks at the rest rate now (nothing happened for a while). */
    get resting(): boolean {
      return this.#pacer.resting;
    }

    /**
     * Builds the room's session (and whatever the room keeps beside it, e.g. its state
     * sync). What it built before throwing it closes itself; nothing else is undone.
     */
    protected abstract open(
      creator: Creator,
    ): Promise<OpenedRoom<Session, S>> | OpenedRoom<Session, S>;
    /** A tick's work before its patch is sent: advance the session by `dtS` seconds, copy it into the state. */
    protected abstract step(dtS: number): void;
    /** Closes what `open()` built (called once, from `onDispose`). */
    protected abstract close(): Promise<void> | void;

    override async onCreate(options?: unknown): Promise<void> {
      // Counted before anything is built, so concurrent creations cannot pass the caps.
      const creator = admitCreation(admission, roomType, this.roomId, options);
      this.log = deps.logger.child({ room: roomType, roomId: this.roomId });
      let opened: OpenedRoom<Session, S>;
      try {
        opened = await this.open(creator);
      } catch (err) {
        deps.quota.release(this.roomId);
        throw err;
      }
      this.#opened = true;
      this.session = opened.session;
      this.boundary = new MessageBoundary({
        ...opened.messages,
        roomType,
        config,
        metrics,
        logger: this.log,
      });
      metrics.rooms.inc({ room_type: roomType });

      this.#lastTickMs = performance.now();
      this.#pacer = new TickPacer(
        {
          activeHz: config.room.patchRateHz,
          restHz: config.room.restTickHz,
          restAfterMs: REST_AFTER_MS,
        },
        this.#lastTickMs,
      );
      this.#schedule();
      // Patches go out right after each tick, so a change reaches clients without waiting
      // for a second, unsynchronised patch timer. Set after the tick interval exists: with
      // none, Colyseus 0.17 would start a 60 Hz clock-only interval that runs forever.
      this.patchRate = null;
      this.onMessage("*", (client: Client, type: string | number, payload: unknown) => {
        this.#activity();
        this.boundary.receive(client, type, payload);
      });
      this.log.info({ creator: creator.userId }, "room created");
    }

    override onJoin(client: Client): void {
      this.#activity();
      const actor: Actor = { sessionId: client.sessionId, ...(client.auth as Identity) };
      this.boundary.seat(client, actor);
      this.session.join(actor);
      metrics.clients.inc({ room_type: roomType, role: actor.role });
      this.log.info({ sessionId: client.sessionId, user: actor.userId, role: actor.role }, "join");
    }

    /**
     * The seat (and so the role) is held while the client may reconnect. Awaiting the
     * reconnection keeps Colyseus from disposing the room meanwhile; when the window runs
     * out the promise rejects and Colyseus calls `onLeave`.
     */
    override async onDrop(client: Client): Promise<void> {
      this.#activity();
      this.session.setConnected(client.sessionId, false);
      await this.allowReconnection(client, config.room.reconnectS);
    }

    override onReconnect(client: Client): void {
      this.#activity();
      // The reconnected client is a new socket: its bytes are counted from now on.
      this.boundary.countBytes(client);
      this.session.setConnected(client.sessionId, true);
      this.log.info({ sessionId: client.sessionId }, "reconnected");
    }

    override onLeave(client: Client): void {
      this.#activity();
      const actor = this.boundary.unseat(client.sessionId);
      this.session.leave(client.sessionId);
      if (actor) metrics.clients.dec({ room_type: roomType, role: actor.role });
      this.log.info({ sessionId: client.sessionId }, "leave");
    }

    override async onDispose(): Promise<void> {
      deps.quota.release(this.roomId);
      // A creation that failed counted nothing else and left nothing to close.
      if (!this.#opened) return;
      metrics.rooms.dec({ room_type: roomType });
      await this.close();
      this.log.info("room disposed");
    }

    /** One tick: the room's step, then the patch; timed into the tick histogram. */
    #tick(): void {
      const t0 = performance.now();
      try {
        this.step((t0 - this.#lastTickMs) / 1000);
        if (this.broadcastPatch()) this.#activity();
        else if (this.#pacer.quietTick(t0)) this.#schedule();
      } catch (err) {
        // A tick never throws out of its interval: log and keep serving.
        this.log.error({ err }, "tick failed");
      }
      this.#lastTickMs = t0;
      metrics.tickSeconds.observe({ room_type: roomType }, (performance.now() - t0) / 1000);
    }

    /** Something happened: a resting room goes back to the patch rate at once. */
    #activity(): void {
      if (this.#pacer.activity(performance.now())) this.#schedule();
    }

    /** (Re)starts the tick interval at the pacer's period. */
    #schedule(): void {
      this.setSimulationInterval(() => this.#tick(), this.#pacer.periodMs);
    }
  }
  return SessionRoom;
}
