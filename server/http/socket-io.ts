/**
 * The one socket.io server of the process (path `/socket.io`), on the same http server as
 * the rooms. Namespaces: `/agents` (decision stream for dashboards, agent-stream.ts) and
 * `/ingest` (live camera frames, live-ingest-stream.ts). Every namespace authenticates its
 * sockets with a join token (`auth: { token }`) through {@link requireToken}; the default
 * namespace `/` refuses every connection.
 */
import type { Server as HttpServer } from "node:http";
import { type Namespace, Server as IoServer } from "socket.io";
import { z } from "zod";
import { AuthError, type Identity, type TokenService } from "../auth/tokens.ts";
import { type Role, roleRefusal } from "../auth/roles.ts";

/** A room id in a socket.io payload (Colyseus ids: letters, digits, `_`, `-`). */
export const RoomId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w-]+$/);

export interface SocketIo {
  readonly io: IoServer;
  /** Disconnects every socket and closes the engine; leaves the shared http server open. */
  close(): Promise<void>;
}

/**
 * @param maxMessageBytes largest socket.io message accepted on any namespace, bytes
 *   (engine-wide: the largest live frame decides it)
 */
export function createSocketIo(http: HttpServer, maxMessageBytes: number): SocketIo {
  // destroyUpgrade false: other websocket upgrades on this server belong to Colyseus.
  const io = new IoServer(http, {
    path: "/socket.io",
    serveClient: false,
    destroyUpgrade: false,
    maxHttpBufferSize: maxMessageBytes,
  });
  // Nothing lives on the default namespace: refuse it rather than hold idle sockets open.
  io.of("/").use((_socket, next) => {
    next(new Error("no namespace here: connect to /agents or /ingest with a token"));
  });
  return {
    io,
    close: async () => {
      // io.close() would also close the shared http server; closing the engine closes every
      // client connection, so each namespace's sockets get `disconnect`.
      io.engine.close();
    },
  };
}

/**
 * Admits a socket only with a valid join token (and one of `roles`, when given); the
 * identity is kept in `socket.data.identity`. A refused socket gets a `connect_error` whose
 * message says why.
 */
export function requireToken(ns: Namespace, tokens: TokenService, roles?: readonly Role[]): void {
  ns.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    tokens.verify(token).then(
      (identity: Identity) => {
        const refusal = roles && roleRefusal(identity.role, roles, ns.name);
        if (refusal) return next(new Error(refusal));
        socket.data.identity = identity;
        next();
      },
      (err: unknown) => next(new Error(err instanceof AuthError ? err.message : "unauthorized")),
    );
  });
}

/** A socket.io acknowledgement callback: the one the client passed, or a no-op. */
export type Reply = (r: unknown) => void;

export function replyOf(ack: unknown): Reply {
  return typeof ack === "function" ? (ack as Reply) : () => undefined;
}
