import type { Role } from "../auth/roles.ts";

/** Who issued a command: the room's session id plus the identity from the join token. */
export interface Actor {
  /** Colyseus session id (stable across reconnection). */
  readonly sessionId: string;
  readonly userId: string;
  readonly name: string;
  readonly role: Role;
}
