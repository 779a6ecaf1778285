/**
 * The agents' decisions streamed to dashboards over socket.io (namespace `/agents`, path
 * `/socket.io`, on the same http server as the rooms). A client authenticates with a join
 * token (`auth: { token }`), then emits `subscribe` `{ roomId }` and receives a `snapshot`
 * of that room's recent decisions in the acknowledgement and every new one as `decision`
 * `{ roomId, decision }`. Emits are volatile: a slow dashboard misses decisions rather than
 * growing a queue in the server.
 */
import type { Logger } from "pino";
import type { Server as IoServer } from "socket.io";
import { z } from "zod";
import type { Decision } from "../agents/controller.ts";
import type { TokenService } from "../auth/tokens.ts";
import { replyOf, requireToken, RoomId } from "./socket-io.ts";

export const AGENT_NAMESPACE = "/agents";

const Subscribe = z.strictObject({ roomId: RoomId });

export interface AgentStreamDeps {
  tokens: TokenService;
  logger: Logger;
  /** Recent decisions of a room, or undefined when there is no such room (or no agents). */
  decisionsOf(roomId: string): readonly Decision[] | undefined;
}

export interface AgentStream {
  /** Sends a decision to the dashboards subscribed to `roomId`. */
  publish(roomId: string, decision: Decision): void;
}

export function attachAgentStream(io: IoServer, deps: AgentStreamDeps): AgentStream {
  const ns = io.of(AGENT_NAMESPACE);
  requireToken(ns, deps.tokens);
  ns.on("connection", (socket) => {
    socket.on("subscribe", (payload: unknown, ack?: unknown) => {
      const reply = replyOf(ack);
      const parsed = Subscribe.safeParse(payload);
      if (!parsed.success) return reply({ ok: false, error: "subscribe needs { roomId }" });
      const decisions = deps.decisionsOf(parsed.data.roomId);
      if (!decisions)
        return reply({ ok: false, error: `no twin room ${parsed.data.roomId} with agents` });
      void socket.join(parsed.data.roomId);
      reply({ ok: true, decisions });
    });
  });
  return {
    publish(roomId, decision) {
      ns.to(roomId).volatile.emit("decision", { roomId, decision });
    },
  };
}
