/**
 * The `digital_twin` room: a thin translator between Colyseus and the twin domain.
 * Its lifecycle (auth, room caps, seats, reconnection, tick, dispose) is the shared one of
 * room-lifecycle.ts; what is its own is here: the twin session it builds (with the agents
 * the composition root attaches), the twin messages and the roles they need, the control
 * traffic it meters, and a tick that advances the twin before copying it into the state.
 * It holds no domain logic.
 */
import { Role } from "../auth/roles.ts";
import type { ErrorMessage } from "../../shared/messages/common.ts";
import { TwinMessageSchemas } from "../../shared/messages/twin.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { controlMessageBytes } from "../net/colyseus-frames.ts";
import { REQUIRED_CAPABILITY } from "../twin/permissions.ts";
import type { TwinRegistry } from "../twin/registry.ts";
import type { TwinSession } from "../twin/session.ts";
import { type OpenedRoom, sessionRoom, type SessionRoomDeps } from "./room-lifecycle.ts";
import { TwinStateSync } from "./twin-state-sync.ts";

export const DIGITAL_TWIN_ROOM = "digital_twin";

/** What the room needs from the process; injected by the composition root. */
export interface TwinRoomDeps extends SessionRoomDeps {
  registry: TwinRegistry;
  /** Builds the domain of one room (twin world, robot cell link, planner). */
  createSession(roomId: string): Promise<TwinSession>;
}

/** Returns the room class bound to `deps` (no module singletons). */
export function createDigitalTwinRoom(deps: TwinRoomDeps) {
  // Only an operator may create a twin room: creating one links a (possibly physical) cell.
  const kind = { name: DIGITAL_TWIN_ROOM, createRoles: [Role.Operator] };
  const Base = sessionRoom<TwinState, TwinSession, typeof TwinMessageSchemas>(kind, deps);

  return class DigitalTwinRoom extends Base {
    override state = new TwinState();
    sync!: TwinStateSync;

    protected override async open(): Promise<OpenedRoom<TwinSession, typeof TwinMessageSchemas>> {
      const session = await deps.createSession(this.roomId);
      session.onNotice((notice) => {
        const payload: ErrorMessage = { code: notice.code, message: notice.message };
        if (notice.to === undefined) this.broadcast("notice", payload);
        else this.clients.getById(notice.to)?.send("notice", payload);
      });
      deps.registry.add(this.roomId, session);
      this.sync = new TwinStateSync(session, this.state);
      this.sync.sync();
      return {
        session,
        messages: {
          schemas: TwinMessageSchemas,
          required: REQUIRED_CAPABILITY,
          silent: new Set(["pose"]),
          handle: (actor, command) => session.handle(actor, command),
          // The frame's own size, as the client framed it; re-packed only where the
          // transport did not report it.
          onAccepted: (client, command, payload, frameBytes) =>
            session.traffic.record(
              "control",
              frameBytes > 0 ? frameBytes : controlMessageBytes(command.type, payload),
              Date.now(),
              client.sessionId,
            ),
          onRejected: (client, e) =>
            session.recordRejection(client.sessionId, e.type ?? "", e.code, e.message),
          onSent: (client, bytes, isPatch) => {
            if (isPatch) session.traffic.record("twin_state", bytes, Date.now(), client.sessionId);
          },
        },
      };
    }

    /** Advances the twin by `dtS` seconds and copies it into the state. */
    protected override step(dtS: number): void {
      this.session.update(dtS);
      this.sync.sync();
    }

    protected override async close(): Promise<void> {
      deps.registry.remove(this.roomId);
      await this.session.close();
    }
  };
}
