/**
 * The `metaverse` room: a thin translator between Colyseus and {@link MetaverseSession}.
 * Its lifecycle (auth with the same tokens as the twin, room caps, seats, reconnection,
 * tick, dispose) is the shared one of room-lifecycle.ts; what is its own is here: the
 * session it builds, the metaverse messages and the capability each needs.
 */
import { type AuthContext, ServerError } from "@colyseus/core";
import { Capability, Role } from "../auth/roles.ts";
import {
  MetaverseMessageSchemas,
  type MetaverseMessageType,
} from "../../shared/messages/metaverse.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import type { MetaverseSession } from "../metaverse/metaverse-session.ts";
import { SpaceRefusal } from "../metaverse/space-scenes.ts";
import { MetaverseStateSync } from "./metaverse-state-sync.ts";
import { type OpenedRoom, sessionRoom, type SessionRoomDeps } from "./room-lifecycle.ts";
import type { Creator } from "./room-auth.ts";

export const METAVERSE_ROOM = "metaverse";

/** Everyone in a 360° scene may move, report QoE, ask for a rendition and talk to the agents. */
const REQUIRED: Readonly<Record<MetaverseMessageType, Capability>> = {
  pose: Capability.Presence,
  qoe: Capability.Presence,
  requestRendition: Capability.Presence,
  utterance: Capability.Presence,
};

/** The join option `space` of a room on no space. */
export const NO_SPACE = "";

/**
 * Who created a room and the space it was asked for: the join option `space` as the client
 * gave it (unchecked), or undefined for a room on no space.
 */
export interface MetaverseOpening {
  creator: Creator;
  space: unknown;
}

export interface MetaverseRoomDeps extends SessionRoomDeps {
  /**
   * Builds the domain of one room and registers it (for the media hooks and REST).
   * @throws SpaceRefusal when the room may not open the space it asks for (the room answers
   *   the matchmaking request with its status)
   */
  createSession(roomId: string, opening: MetaverseOpening): Promise<MetaverseSession>;
  disposeSession(roomId: string): void;
}

/** Returns the room class bound to `deps` (no module singletons). */
export function createMetaverseRoom(deps: MetaverseRoomDeps) {
  const kind = { name: METAVERSE_ROOM, createRoles: [Role.Operator, Role.Observer] };
  const Base = sessionRoom<MetaverseState, MetaverseSession, typeof MetaverseMessageSchemas>(
    kind,
    deps,
  );

  return class MetaverseRoom extends Base {
    /**
     * A join without `space` asks for a room on no space (`space: ""`). Colyseus filters only
     * on options a client gives, so without this a plain joinOrCreate (the Unity client's)
     * could land in a room open on a space, and its uploads would change that space.
     * Matchmaking filters with the options object it has just handed to onAuth.
     */
    static override onAuth(token: string, options: unknown, context: AuthContext) {
      if (options !== null && typeof options === "object" && !("space" in options)) {
        (options as { space?: string }).space = NO_SPACE;
      }
      return super.onAuth(token, options, context);
    }

    override state = new MetaverseState();
    sync!: MetaverseStateSync;

    protected override async open(
      creator: Creator,
    ): Promise<OpenedRoom<MetaverseSession, typeof MetaverseMessageSchemas>> {
      // `space` is a filter option (app.ts), so the room's listing carries it.
      const space = (this.metadata as { space?: unknown } | undefined)?.space;
      const session = await deps
        .createSession(this.roomId, { creator, space: space === NO_SPACE ? undefined : space })
        .catch((err: unknown) => {
          // The matchmaking request that asked for the room is answered with the refusal.
          if (err instanceof SpaceRefusal) throw new ServerError(err.status, err.message);
          throw err;
        });
      this.sync = new MetaverseStateSync(session, this.state);
      this.sync.sync();
      return {
        session,
        messages: {
          schemas: MetaverseMessageSchemas,
          required: REQUIRED,
          silent: new Set(["pose", "qoe"]),
          handle: (actor, command) => session.handle(actor, command),
        },
      };
    }

    /** Copies the session into the state (the scene advances on its own events). */
    protected override step(): void {
      this.sync.sync();
    }

    protected override close(): void {
      this.session.close();
      deps.disposeSession(this.roomId);
    }
  };
}
