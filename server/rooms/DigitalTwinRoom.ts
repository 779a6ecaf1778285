/**
 * The `digital_twin` room: a thin translator between Colyseus and the twin domain.
 * It authenticates joins, rate-limits and validates every message once, checks the
 * sender's role, hands a typed command to {@link TwinSession}, and each tick copies the
 * session into the schema state and sends one patch. It holds no domain logic.
 */
import { admitAtMatchmaking, admitCreation, type RoomQuota } from "./room-auth.ts";
import { Role } from "../auth/roles.ts";
import { Room, type AuthContext, type Client } from "@colyseus/core";
import type { Logger } from "pino";
import type { ErrorMessage } from "../../shared/messages/common.ts";
import { TwinMessageSchemas } from "../../shared/messages/twin.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import type { Identity, TokenService } from "../auth/tokens.ts";
import type { Config } from "../config.ts";
import type { ServerMetrics } from "../http/metrics.ts";
import type { Actor } from "../twin/actor.ts";
import { REQUIRED_CAPABILITY } from "../twin/permissions.ts";
import type { TwinRegistry } from "../twin/registry.ts";
import type { TwinSession } from "../twin/session.ts";
import { MessageBoundary } from "./message-boundary.ts";
import { controlMessageBytes } from "../net/traffic-traces.ts";
import { TwinStateSync } from "./twin-state-sync.ts";

export const DIGITAL_TWIN_ROOM = "digital_twin";
const ROOM_TYPE = DIGITAL_TWIN_ROOM;

/** What the room needs from the process; injected by the composition root. */
export interface TwinRoomDeps {
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  tokens: TokenService;
  /** Room caps of this process (MAX_ROOMS, MAX_ROOMS_PER_USER). */
  quota: RoomQuota;
  registry: TwinRegistry;
  /** Builds the domain of one room (twin world, robot cell link, planner). */
  createSession(roomId: string): Promise<TwinSession>;
}

/** Returns the room class bound to `deps` (no module singletons). */
export function createDigitalTwinRoom(deps: TwinRoomDeps) {
  const { config, metrics } = deps;
  const admission = { tokens: deps.tokens, quota: deps.quota, createRoles: [Role.Operator] };

  return class DigitalTwinRoom extends Room<{ state: TwinState }> {
    /**
     * Matchmaking authentication (before a room exists): a valid token to join, an operator
     * within the room caps to create. See room-auth.ts.
     */
    static override onAuth(token: string, options: unknown, context: AuthContext) {
      return admitAtMatchmaking(admission, ROOM_TYPE, token, options, context);
    }

    override state = new TwinState();
    override maxClients = config.room.maxClients;
    // A hard ceiling far above the per-client bucket: only abusive clients are cut off.
    override maxMessagesPerSecond = Math.max(1000, config.room.rateLimitPerS * 5);

    session!: TwinSession;
    sync!: TwinStateSync;
    log!: Logger;
    boundary!: MessageBoundary<typeof TwinMessageSchemas>;
    lastTickMs = 0;

    override async onCreate(options?: unknown): Promise<void> {
      // Counted before anything is built, so concurrent creations cannot pass the caps.
      const creator = admitCreation(admission, ROOM_TYPE, this.roomId, options);
      this.log = deps.logger.child({ room: ROOM_TYPE, roomId: this.roomId });
      try {
        await this.build(creator.userId);
      } catch (err) {
        deps.quota.release(this.roomId);
        throw err;
      }
    }

    async build(creator: string): Promise<void> {
      this.session = await deps.createSession(this.roomId);
      this.session.onNotice((notice) => {
        const payload: ErrorMessage = { code: notice.code, message: notice.message };
        if (notice.to === undefined) this.broadcast("notice", payload);
        else this.clients.getById(notice.to)?.send("notice", payload);
      });
      deps.registry.add(this.roomId, this.session);
      metrics.rooms.inc({ room_type: ROOM_TYPE });
      this.sync = new TwinStateSync(this.session, this.state);
      this.sync.sync();
      const session = this.session;
      this.boundary = new MessageBoundary({
        roomType: ROOM_TYPE,
        schemas: TwinMessageSchemas,
        required: REQUIRED_CAPABILITY,
        silent: new Set(["pose"]),
        config,
        metrics,
        logger: this.log,
        handle: (actor, command) => session.handle(actor, command),
        onAccepted: (client, command, payload) =>
          session.traffic.record(
            "control",
            controlMessageBytes(command.type, payload),
            Date.now(),
            client.sessionId,
          ),
        onRejected: (client, e) =>
          session.recordRejection(client.sessionId, e.type ?? "", e.code, e.message),
        onSent: (client, bytes, isPatch) => {
          if (isPatch) session.traffic.record("twin_state", bytes, Date.now(), client.sessionId);
        },
      });

      // Patches go out right after each tick, so a change reaches clients without waiting
      // for a second, unsynchronised patch timer.
      this.patchRate = null;
      this.lastTickMs = performance.now();
      this.setSimulationInterval(() => this.tick(), 1000 / config.room.patchRateHz);
      this.onMessage("*", (client: Client, type: string | number, payload: unknown) => {
        this.boundary.receive(client, type, payload);
      });
      this.log.info({ creator }, "room created");
    }

    override onJoin(client: Client): void {
      const identity = client.auth as Identity;
      const actor: Actor = { sessionId: client.sessionId, ...identity };
      this.boundary.seat(client, actor);
      this.session.join(actor);
      metrics.clients.inc({ room_type: ROOM_TYPE, role: actor.role });
      this.log.info({ sessionId: client.sessionId, user: actor.userId, role: actor.role }, "join");
    }

    override async onDrop(client: Client): Promise<void> {
      this.session.setConnected(client.sessionId, false);
      // The seat (and so the role) is kept while the client may reconnect.
      await this.allowReconnection(client, config.room.reconnectS);
    }

    override onReconnect(client: Client): void {
      this.boundary.countBytes(client);
      this.session.setConnected(client.sessionId, true);
      this.log.info({ sessionId: client.sessionId }, "reconnected");
    }

    override onLeave(client: Client): void {
      const actor = this.boundary.unseat(client.sessionId);
      this.session.leave(client.sessionId);
      if (actor) metrics.clients.dec({ room_type: ROOM_TYPE, role: actor.role });
      this.log.info({ sessionId: client.sessionId }, "leave");
    }

    override async onDispose(): Promise<void> {
      deps.quota.release(this.roomId);
      deps.registry.remove(this.roomId);
      metrics.rooms.dec({ room_type: ROOM_TYPE });
      await this.session.close();
      this.log.info("room disposed");
    }

    /** One tick: advance the domain, copy it into the state, send the patch. */
    tick(): void {
      const t0 = performance.now();
      try {
        this.session.update((t0 - this.lastTickMs) / 1000);
        this.sync.sync();
        this.broadcastPatch();
      } catch (err) {
        // A tick never throws out of its interval: log and keep serving.
        this.log.error({ err }, "tick failed");
      }
      this.lastTickMs = t0;
      metrics.tickSeconds.observe({ room_type: ROOM_TYPE }, (performance.now() - t0) / 1000);
    }
  };
}
