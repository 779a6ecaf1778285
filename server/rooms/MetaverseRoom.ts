/**
 * The `metaverse` room: a thin translator between Colyseus and {@link MetaverseSession}.
 * Joins are authenticated with the same tokens as the twin; every message crosses the
 * shared boundary (rate limit → schema → role → session); each tick copies the session
 * into the schema state and sends one patch.
 */
import { admitAtMatchmaking, admitCreation, type RoomQuota } from "./room-auth.ts";
import { Role } from "../auth/roles.ts";
import { Room, type AuthContext, type Client } from "@colyseus/core";
import type { Logger } from "pino";
import {
  MetaverseMessageSchemas,
  type MetaverseMessageType,
} from "../../shared/messages/metaverse.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import { Capability } from "../auth/roles.ts";
import type { Identity, TokenService } from "../auth/tokens.ts";
import type { Config } from "../config.ts";
import type { ServerMetrics } from "../http/metrics.ts";
import type { MetaverseSession } from "../metaverse/metaverse-session.ts";
import type { Actor } from "../twin/actor.ts";
import { MessageBoundary } from "./message-boundary.ts";
import { MetaverseStateSync } from "./metaverse-state-sync.ts";

export const METAVERSE_ROOM = "metaverse";

/** Everyone in a 360° scene may move, report QoE, ask for a rendition and talk to the agents. */
const REQUIRED: Readonly<Record<MetaverseMessageType, Capability>> = {
  pose: Capability.Presence,
  qoe: Capability.Presence,
  requestRendition: Capability.Presence,
  utterance: Capability.Presence,
};

export interface MetaverseRoomDeps {
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  tokens: TokenService;
  /** Room caps of this process (MAX_ROOMS, MAX_ROOMS_PER_USER). */
  quota: RoomQuota;
  /** Builds the domain of one room and registers it (for the media hooks and REST). */
  createSession(roomId: string): MetaverseSession;
  disposeSession(roomId: string): void;
}

export function createMetaverseRoom(deps: MetaverseRoomDeps) {
  const { config, metrics } = deps;
  const admission = {
    tokens: deps.tokens,
    quota: deps.quota,
    createRoles: [Role.Operator, Role.Observer],
  };

  return class MetaverseRoom extends Room<{ state: MetaverseState }> {
    /** Matchmaking authentication (before a room exists); see room-auth.ts. */
    static override onAuth(token: string, options: unknown, context: AuthContext) {
      return admitAtMatchmaking(admission, METAVERSE_ROOM, token, options, context);
    }

    override state = new MetaverseState();
    override maxClients = config.room.maxClients;
    override maxMessagesPerSecond = Math.max(1000, config.room.rateLimitPerS * 5);

    session!: MetaverseSession;
    sync!: MetaverseStateSync;
    boundary!: MessageBoundary<typeof MetaverseMessageSchemas>;
    log!: Logger;

    override onCreate(options?: unknown): void {
      // Counted before anything is built, as in the twin room; given back if building fails.
      admitCreation(admission, METAVERSE_ROOM, this.roomId, options);
      try {
        this.build();
      } catch (err) {
        deps.quota.release(this.roomId);
        throw err;
      }
    }

    build(): void {
      this.log = deps.logger.child({ room: METAVERSE_ROOM, roomId: this.roomId });
      this.session = deps.createSession(this.roomId);
      this.sync = new MetaverseStateSync(this.session, this.state);
      this.sync.sync();
      const session = this.session;
      this.boundary = new MessageBoundary({
        roomType: METAVERSE_ROOM,
        schemas: MetaverseMessageSchemas,
        required: REQUIRED,
        silent: new Set(["pose", "qoe"]),
        config,
        metrics,
        logger: this.log,
        handle: (actor, command) => session.handle(actor, command),
      });
      metrics.rooms.inc({ room_type: METAVERSE_ROOM });
      this.patchRate = null;
      this.setSimulationInterval(() => this.tick(), 1000 / config.room.patchRateHz);
      this.onMessage("*", (client: Client, type: string | number, payload: unknown) => {
        this.boundary.receive(client, type, payload);
      });
      this.log.info("room created");
    }

    override onJoin(client: Client): void {
      const actor: Actor = { sessionId: client.sessionId, ...(client.auth as Identity) };
      this.boundary.seat(client, actor);
      this.session.join(actor);
      metrics.clients.inc({ room_type: METAVERSE_ROOM, role: actor.role });
    }

    override async onDrop(client: Client): Promise<void> {
      this.session.setConnected(client.sessionId, false);
      await this.allowReconnection(client, config.room.reconnectS);
    }

    override onReconnect(client: Client): void {
      this.boundary.countBytes(client);
      this.session.setConnected(client.sessionId, true);
    }

    override onLeave(client: Client): void {
      const actor = this.boundary.unseat(client.sessionId);
      this.session.leave(client.sessionId);
      if (actor) metrics.clients.dec({ room_type: METAVERSE_ROOM, role: actor.role });
    }

    override onDispose(): void {
      deps.quota.release(this.roomId);
      this.session.close();
      deps.disposeSession(this.roomId);
      metrics.rooms.dec({ room_type: METAVERSE_ROOM });
      this.log.info("room disposed");
    }

    tick(): void {
      const t0 = performance.now();
      try {
        this.sync.sync();
        this.broadcastPatch();
      } catch (err) {
        this.log.error({ err }, "tick failed");
      }
      metrics.tickSeconds.observe({ room_type: METAVERSE_ROOM }, (performance.now() - t0) / 1000);
    }
  };
}
