/**
 * The boundary every room message crosses, shared by all room types: per-client rate limit
 * (token bucket, one notice per second) → schema (zod, one per message type) → role (the
 * capability the type needs) → the domain; replies are `ack` or `error` with a code, and
 * bytes sent are counted (patches apart from everything else). Rooms stay thin: they seat
 * clients here and hand typed commands to their session.
 */
import { Protocol, type Client } from "@colyseus/core";
import type { Logger } from "pino";
import type { z } from "zod";
import { type AckMessage, ErrorCode, type ErrorMessage } from "../../shared/messages/common.ts";
import { parseMessage } from "../../shared/messages/parse.ts";
import { type Capability, can } from "../auth/roles.ts";
import type { Config } from "../config.ts";
import type { ServerMetrics } from "../http/metrics.ts";
import type { Actor } from "../twin/actor.ts";
import { CommandError } from "../twin/errors.ts";
import { TokenBucket } from "./token-bucket.ts";

interface Seat {
  actor: Actor;
  bucket: TokenBucket;
  /** Last time (ms) this client was told it is rate limited; limits those replies too. */
  lastRateNoticeMs: number;
}

/** A validated command: `{ type, body }` discriminated on `type`. */
export type CommandOf<S extends Record<string, z.ZodType>> = {
  [K in keyof S & string]: { type: K; body: z.output<S[K]> };
}[keyof S & string];

export interface BoundaryOptions<S extends Record<string, z.ZodType>> {
  roomType: string;
  schemas: S;
  /** The capability each message type needs. */
  required: Readonly<Record<keyof S & string, Capability>>;
  /** Types answered without an `ack` (headset-rate traffic). */
  silent: ReadonlySet<string>;
  config: Config;
  metrics: ServerMetrics;
  logger: Logger;
  /** Runs an accepted command; a CommandError becomes an `error` reply. */
  handle(actor: Actor, command: CommandOf<S>): Promise<{ id?: string; summary?: string } | void>;
  /** Called for every accepted command (e.g. to meter control traffic). */
  onAccepted?(client: Client, command: CommandOf<S>, payload: unknown): void;
  /** Called for refusals made here (not for CommandErrors, which the domain records). */
  onRejected?(client: Client, error: ErrorMessage): void;
  /** Called with every frame sent to a client. */
  onSent?(client: Client, bytes: number, isPatch: boolean): void;
}

export class MessageBoundary<S extends Record<string, z.ZodType>> {
  readonly #seats = new Map<string, Seat>();
  readonly #o: BoundaryOptions<S>;

  constructor(options: BoundaryOptions<S>) {
    this.#o = options;
  }

  /** Seats a joined client with its actor; counts its bytes from now on. */
  seat(client: Client, actor: Actor): void {
    const { config } = this.#o;
    this.#seats.set(client.sessionId, {
      actor,
      bucket: new TokenBucket(config.room.rateLimitPerS, config.room.rateLimitBurst),
      lastRateNoticeMs: 0,
    });
    this.countBytes(client);
  }

  /** Removes a seat; returns its actor. */
  unseat(sessionId: string): Actor | undefined {
    const seat = this.#seats.get(sessionId);
    this.#seats.delete(sessionId);
    return seat?.actor;
  }

  actor(sessionId: string): Actor | undefined {
    return this.#seats.get(sessionId)?.actor;
  }

  /** Rate limit → schema → role → domain, for one message. Never throws. */
  receive(client: Client, type: string | number, payload: unknown): void {
    const o = this.#o;
    const seat = this.#seats.get(client.sessionId);
    if (!seat) return;
    const typeName = typeof type === "string" ? type.slice(0, 40) : String(type);
    if (!seat.bucket.take()) {
      const now = performance.now();
      if (now - seat.lastRateNoticeMs > 1000) {
        seat.lastRateNoticeMs = now;
        this.reject(client, {
          code: ErrorCode.RateLimited,
          message: `over ${o.config.room.rateLimitPerS} messages/s; messages are being dropped`,
          type: typeName,
        });
      } else {
        o.metrics.messagesRejected.inc({ room_type: o.roomType, code: ErrorCode.RateLimited });
      }
      return;
    }
    const parsed = parseMessage(o.schemas, type, payload);
    if (!parsed.ok) {
      const { code, message, requestId } = parsed;
      this.reject(client, { code, message, type: typeName, ...(requestId && { requestId }) });
      return;
    }
    const command = parsed.command as CommandOf<S>;
    const body = command.body as { requestId?: string };
    const requestId = typeof body === "object" && body !== null ? body.requestId : undefined;
    const reply = { type: command.type, ...(requestId && { requestId }) };
    if (!can(seat.actor.role, o.required[command.type])) {
      this.reject(client, {
        ...reply,
        code: ErrorCode.Forbidden,
        message: `role ${seat.actor.role} may not send ${command.type}`,
      });
      return;
    }
    o.metrics.messagesReceived.inc({ room_type: o.roomType, type: command.type });
    o.onAccepted?.(client, command, payload);
    o.handle(seat.actor, command).then(
      (result) => {
        if (o.silent.has(command.type)) return;
        const ack: AckMessage = {
          ...reply,
          ...(result?.id && { id: result.id }),
          ...(result?.summary && { summary: result.summary }),
        };
        client.send("ack", ack);
      },
      (err: unknown) => {
        if (err instanceof CommandError) {
          this.reject(client, { ...reply, code: err.code, message: err.message }, true);
        } else {
          o.logger.error({ err, type: command.type }, "command failed");
          this.reject(client, { ...reply, code: ErrorCode.Internal, message: "internal error" });
        }
      },
    );
  }

  /** Sends an `error` reply and counts it. */
  reject(client: Client, error: ErrorMessage, fromDomain = false): void {
    this.#o.metrics.messagesRejected.inc({ room_type: this.#o.roomType, code: error.code });
    if (!fromDomain && error.code !== ErrorCode.RateLimited) this.#o.onRejected?.(client, error);
    client.send("error", error);
  }

  /** Counts bytes sent to a client, split into state patches and everything else. */
  countBytes(client: Client): void {
    const o = this.#o;
    const raw = client.raw.bind(client);
    client.raw = (data, options, cb) => {
      // The high 3 bits of the first byte are protocol modifiers (e.g. TIMED).
      const isPatch = (data[0]! & 0x1f) === Protocol.ROOM_STATE_PATCH;
      o.onSent?.(client, data.length, isPatch);
      (isPatch ? o.metrics.patchBytes : o.metrics.messageBytes).inc(
        { room_type: o.roomType },
        data.length,
      );
      raw(data, options, cb);
    };
  }
}
