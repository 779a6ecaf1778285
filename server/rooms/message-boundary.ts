/**
 * The boundary every room message crosses, shared by all room types: per-client rate limit
 * (token bucket, one notice per second) → schema (zod, one per message type) → role (the
 * capability the type needs) → per-user limit of costly types (utterances: a token bucket
 * per user across their seats, each refusal answered) → the domain; replies are `ack` or
 * `error` with a code, and bytes are counted: sent (patches apart from everything else) and
 * received (the size of each accepted message's websocket frame, read at the socket).
 * Rooms stay thin: they seat clients here and hand typed commands to their session.
 *
 * Urgent types (STOP) skip the per-client bucket and are handed to the domain synchronously,
 * in the same turn of the event loop that received them: nothing a flood queued runs first.
 */
import { hearsStop } from "../agents/intent/grammar-parser.ts";
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
  /** Shared by every seat of the same user (per-user limit of costly types). */
  userBucket: TokenBucket;
  bucket: TokenBucket;
  /** Last time (ms) this client was told it is rate limited; limits those replies too. */
  lastRateNoticeMs: number;
  /**
   * Payload bytes of the websocket frame being handled (set by a socket listener that runs
   * before Colyseus decodes the frame, in the same turn); 0 where the transport has no such
   * event.
   */
  frameBytes: number;
}

/** Payload bytes of what a `ws` socket's `message` event carries (Buffer, ArrayBuffer or fragments). */
function frameLength(data: unknown): number {
  if (Array.isArray(data)) return data.reduce((n: number, d) => n + frameLength(d), 0);
  const n = (data as { byteLength?: unknown } | null)?.byteLength;
  return typeof n === "number" ? n : 0;
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
  /**
   * Types never rate-limited by the per-client bucket (default: `stop`): they are safety
   * commands, idempotent and cheap. Colyseus's hard per-client ceiling still applies.
   */
  urgent?: ReadonlySet<string>;
  /**
   * Costly types limited per user, across their seats (default: `utterance` at
   * `UTTERANCE_RATE_PER_S` / `UTTERANCE_BURST`); each refusal is answered `rate_limited`.
   */
  perUser?: { types: ReadonlySet<string>; ratePerS: number; burst: number };
  config: Config;
  metrics: ServerMetrics;
  logger: Logger;
  /** Runs an accepted command; a CommandError becomes an `error` reply. */
  handle(actor: Actor, command: CommandOf<S>): Promise<{ id?: string; summary?: string } | void>;
  /**
   * Called for every accepted command (e.g. to meter control traffic) with the payload bytes
   * of the frame that carried it (0: the transport did not tell).
   */
  onAccepted?(client: Client, command: CommandOf<S>, payload: unknown, frameBytes: number): void;
  /** Called for refusals made here (not for CommandErrors, which the domain records). */
  onRejected?(client: Client, error: ErrorMessage): void;
  /** Called with every frame sent to a client. */
  onSent?(client: Client, bytes: number, isPatch: boolean): void;
}

export class MessageBoundary<S extends Record<string, z.ZodType>> {
  readonly #seats = new Map<string, Seat>();
  /** Per-user buckets with the number of seats sharing each. */
  readonly #users = new Map<string, { bucket: TokenBucket; seats: number }>();
  readonly #o: BoundaryOptions<S>;
  readonly #urgent: ReadonlySet<string>;
  readonly #perUser: { types: ReadonlySet<string>; ratePerS: number; burst: number };

  constructor(options: BoundaryOptions<S>) {
    this.#o = options;
    this.#urgent = options.urgent ?? new Set(["stop"]);
    this.#perUser = options.perUser ?? {
      types: new Set(["utterance"]),
      ratePerS: options.config.agentWork.utteranceRatePerS,
      burst: options.config.agentWork.utteranceBurst,
    };
  }

  /** Seats a joined client with its actor; counts its bytes from now on. */
  seat(client: Client, actor: Actor): void {
    const { config } = this.#o;
    let user = this.#users.get(actor.userId);
    if (!user) {
      user = { bucket: new TokenBucket(this.#perUser.ratePerS, this.#perUser.burst), seats: 0 };
      this.#users.set(actor.userId, user);
    }
    user.seats += 1;
    this.#seats.set(client.sessionId, {
      actor,
      userBucket: user.bucket,
      bucket: new TokenBucket(config.room.rateLimitPerS, config.room.rateLimitBurst),
      lastRateNoticeMs: 0,
      frameBytes: 0,
    });
    this.countBytes(client);
  }

  /** Removes a seat; returns its actor. */
  unseat(sessionId: string): Actor | undefined {
    const seat = this.#seats.get(sessionId);
    this.#seats.delete(sessionId);
    if (seat) {
      const user = this.#users.get(seat.actor.userId);
      if (user && --user.seats <= 0) this.#users.delete(seat.actor.userId);
    }
    return seat?.actor;
  }

  actor(sessionId: string): Actor | undefined {
    return this.#seats.get(sessionId)?.actor;
  }

  /**
   * Safety commands skip both rate limits: the urgent types, and an utterance in which the
   * grammar hears a stop (a spoken "stop" must never be refused for talking too much).
   */
  #isUrgent(typeName: string, payload: unknown): boolean {
    if (this.#urgent.has(typeName)) return true;
    if (typeName !== "utterance" || typeof payload !== "object" || payload === null) return false;
    const text = (payload as { text?: unknown }).text;
    return typeof text === "string" && hearsStop(text);
  }

  /** Rate limit → schema → role → domain, for one message. Never throws. */
  receive(client: Client, type: string | number, payload: unknown): void {
    const o = this.#o;
    const seat = this.#seats.get(client.sessionId);
    if (!seat) return;
    const typeName = typeof type === "string" ? type.slice(0, 40) : String(type);
    const urgent = this.#isUrgent(typeName, payload);
    if (!urgent && !seat.bucket.take()) {
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
    if (!urgent && this.#perUser.types.has(command.type) && !seat.userBucket.take()) {
      this.reject(client, {
        ...reply,
        code: ErrorCode.RateLimited,
        message: `${command.type}: at most ${this.#perUser.ratePerS}/s per user (burst ${this.#perUser.burst}); this one was dropped`,
      });
      return;
    }
    o.metrics.messagesReceived.inc({ room_type: o.roomType, type: command.type });
    o.onAccepted?.(client, command, payload, seat.frameBytes);
    // Called synchronously: an urgent command (STOP) reaches the cell in this same turn.
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

  /**
   * Counts bytes sent to a client, split into state patches and everything else, and notes
   * the size of each frame it sends before Colyseus decodes it (a listener put first on the
   * `ws` socket's `message` event; Colyseus adds its own after `onJoin`).
   */
  countBytes(client: Client): void {
    const o = this.#o;
    const socket = client.ref as { prependListener?: unknown } | undefined;
    if (typeof socket?.prependListener === "function") {
      (socket as NodeJS.EventEmitter).prependListener("message", (data: unknown) => {
        const seat = this.#seats.get(client.sessionId);
        if (seat) seat.frameBytes = frameLength(data);
      });
    }
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
