/**
 * Authentication at matchmaking, before a room exists. Colyseus 0.17 calls a room class's
 * `static onAuth(token, options, context)` for every `POST /matchmake/<method>/<room>`
 * (create, join, joinOrCreate, joinById) before it creates or looks up a room; what it
 * returns becomes `client.auth` of the seat, and a thrown `ServerError` becomes the HTTP
 * status of the answer (the SDK rejects with that code and message). So an anonymous or
 * under-privileged request never builds a room (cell link, physics world, agents, recording).
 *
 * Room creation is also capped per process (`MAX_ROOMS`) and per user (`MAX_ROOMS_PER_USER`)
 * by {@link RoomQuota}; the caps are checked at matchmaking (a clear early refusal) and
 * enforced again, atomically, at the top of `onCreate` (concurrent requests cannot overshoot).
 */
import { matchMaker, ServerError } from "@colyseus/core";
import { type Role, roleRefusal } from "../auth/roles.ts";
import { AuthError, type Identity, type TokenService } from "../auth/tokens.ts";

/**
 * Join option key carrying who asked for the room to be created. `static onAuth` always
 * overwrites it, so a client cannot forge it; it survives Colyseus's IPC (plain JSON) when
 * the room is created by another process.
 */
export const CREATOR_OPTION = "__agenttwinCreator";

/** The creator stamp `onCreate` reads. */
export interface Creator {
  userId: string;
  role: Role;
}

/** The identity of a join token. @throws ServerError 401 when it does not verify. */
export async function authenticateJoin(tokens: TokenService, token: unknown): Promise<Identity> {
  try {
    return await tokens.verify(token);
  } catch (err) {
    const reason = err instanceof AuthError ? err.message : "authentication failed";
    throw new ServerError(401, reason, { cause: err });
  }
}

/** Counts the rooms of this process and who created them. */
export class RoomQuota {
  readonly #owners = new Map<string, string>();

  /**
   * @param maxRooms rooms this process may hold at once
   * @param maxPerUser open rooms one user may have created
   */
  constructor(
    readonly maxRooms: number,
    readonly maxPerUser: number,
  ) {}

  /** Rooms currently counted. */
  get size(): number {
    return this.#owners.size;
  }

  /** Why `userId` may not create a room now, as a ServerError; undefined when it may. */
  refusal(userId: string): ServerError | undefined {
    if (this.#owners.size >= this.maxRooms) {
      return new ServerError(
        503,
        `this server already holds its maximum of ${this.maxRooms} rooms (MAX_ROOMS); join an open room`,
      );
    }
    let mine = 0;
    for (const owner of this.#owners.values()) if (owner === userId) mine++;
    if (mine >= this.maxPerUser) {
      return new ServerError(
        429,
        `${userId} already has ${mine} open rooms, the most allowed (MAX_ROOMS_PER_USER); leave one first`,
      );
    }
    return undefined;
  }

  /** Counts room `roomId` for `userId`. @throws ServerError (503/429) over a cap */
  acquire(roomId: string, userId: string): void {
    const refusal = this.refusal(userId);
    if (refusal) throw refusal;
    this.#owners.set(roomId, userId);
  }

  /** Stops counting `roomId` (idempotent). */
  release(roomId: string): void {
    this.#owners.delete(roomId);
  }
}

/** What {@link admitAtMatchmaking} needs. */
export interface AdmissionDeps {
  tokens: TokenService;
  quota: RoomQuota;
  /** Roles that may create a room of this kind. */
  createRoles: readonly Role[];
}

/** The matchmaking method of a request (`create`, `joinOrCreate`, …) from its URL. */
function methodOf(context: unknown): string | undefined {
  const url = (context as { req?: { url?: unknown } } | undefined)?.req?.url;
  if (typeof url !== "string") return undefined;
  try {
    return /^\/matchmake\/(\w+)\//.exec(new URL(url, "http://x").pathname)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The body of a room class's `static onAuth`: verifies the token (401), refuses a request
 * that would create a room to a role that may not (403) or over a cap (503/429), and stamps
 * the creator into the options for `onCreate`.
 */
export async function admitAtMatchmaking(
  deps: AdmissionDeps,
  roomName: string,
  token: unknown,
  options: unknown,
  context: unknown,
): Promise<Identity> {
  const identity = await authenticateJoin(deps.tokens, token);
  const method = methodOf(context);
  let mayCreate = method === "create";
  if (method === "joinOrCreate") {
    // Creates only when nothing is open to join; a join by an observer stays allowed.
    const open = await matchMaker.query({ name: roomName, locked: false });
    mayCreate = open.length === 0;
  }
  if (mayCreate) {
    const forbidden = roleRefusal(identity.role, deps.createRoles, `creating a ${roomName} room`);
    if (forbidden) throw new ServerError(403, forbidden);
    const overCap = deps.quota.refusal(identity.userId);
    if (overCap) throw overCap;
  }
  if (options !== null && typeof options === "object") {
    const creator: Creator = { userId: identity.userId, role: identity.role };
    (options as Record<string, unknown>)[CREATOR_OPTION] = creator;
  }
  return identity;
}

/**
 * Called first thing in `onCreate`: counts the room against the caps for its creator.
 * A room created without a creator stamp (never through our matchmaking) is refused.
 * @throws ServerError 403/503/429
 */
export function admitCreation(
  deps: AdmissionDeps,
  roomName: string,
  roomId: string,
  options: unknown,
): Creator {
  const raw = (options as Record<string, unknown> | undefined)?.[CREATOR_OPTION] as
    Partial<Creator> | undefined;
  const role = raw?.role;
  if (typeof raw?.userId !== "string" || role === undefined || !deps.createRoles.includes(role)) {
    throw new ServerError(
      403,
      `creating a ${roomName} room needs the ${deps.createRoles.join(" or ")} role`,
    );
  }
  deps.quota.acquire(roomId, raw.userId);
  return { userId: raw.userId, role };
}
