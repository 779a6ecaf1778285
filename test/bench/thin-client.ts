/**
 * A thin Colyseus 0.17 client for the load bench: just enough of the protocol to take a seat,
 * hold it, send room messages and count what arrives, without decoding state, so one
 * process can play hundreds of headsets and the bench measures the server, not the
 * generator. What the `@colyseus/sdk` does (src/Client.ts, Room.ts) and the server expects
 * (core Room `_onJoin` / `_onMessage`):
 *
 *  1. `POST /matchmake/<method>/<room name or id>` with `Authorization: Bearer <token>` and the
 *     join options as JSON; the answer is a seat reservation
 *     `{ name, roomId, sessionId, processId, publicAddress? }`;
 *  2. a websocket to `ws://<host>/<processId>/<roomId>?sessionId=<sessionId>` (plus
 *     `skipHandshake=1`: no schema handshake, since this client never decodes state);
 *  3. the server sends JOIN_ROOM (code 10: reconnection token, serializer id); the client
 *     answers with the one byte 10, and only then does the server send the full state
 *     (ROOM_STATE, 14) and patches (ROOM_STATE_PATCH, 15);
 *  4. a room message is ROOM_DATA (13), the type as a msgpack string, the payload packed with
 *     msgpack (the SDK's Packr, no records: the same bytes as `msgpackr`'s `pack`);
 *  5. leaving is the one byte LEAVE_ROOM (12); the server closes with 4000 (consented).
 */
import { Protocol } from "@colyseus/core";
import { pack } from "msgpackr";
import WebSocket from "ws";

/** What `POST /matchmake/…` answers. */
export interface SeatReservation {
  name: string;
  roomId: string;
  sessionId: string;
  processId: string;
  publicAddress?: string;
}

/** Asks `base` (http://host:port) for a seat: `create` a room by name, or `joinById`. */
export async function reserveSeat(
  base: string,
  method: "create" | "joinById" | "joinOrCreate",
  roomNameOrId: string,
  token: string,
  options: Record<string, unknown> = {},
): Promise<SeatReservation> {
  const res = await fetch(`${base}/matchmake/${method}/${roomNameOrId}`, {
    method: "POST",
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(options),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`matchmake ${method}: ${res.status} ${text.slice(0, 200)}`);
  const r = JSON.parse(text) as Partial<SeatReservation> & { error?: string };
  if (!r.sessionId || !r.roomId || !r.processId) {
    throw new Error(`matchmake ${method}: no seat (${text.slice(0, 200)})`);
  }
  return r as SeatReservation;
}

/** ROOM_DATA header for a message type (code 13, then the type as a msgpack string). */
function messageHeader(type: string): Buffer {
  const utf8 = Buffer.from(type);
  if (utf8.length >= 32) throw new Error("thin client: message types up to 31 bytes");
  return Buffer.concat([Buffer.from([Protocol.ROOM_DATA, 0xa0 | utf8.length]), utf8]);
}

const HEADERS = new Map<string, Buffer>();
const LEAVE = Buffer.from([Protocol.LEAVE_ROOM]);
const JOIN_ACK = Buffer.from([Protocol.JOIN_ROOM]);

/** Counters of one thin client; the bench sums them over a window. */
export interface ThinCounters {
  /** Bytes of every websocket message received (framing excluded). */
  bytes: number;
  /** ROOM_STATE_PATCH messages received. */
  patches: number;
  /** ROOM_DATA messages received (notices, error replies). */
  roomData: number;
  /** ROOM_DATA messages of type "error" (the product's refusals). */
  errorReplies: number;
  /** Messages sent. */
  sent: number;
}

/** One seat held over a raw websocket; see the file header for the protocol. */
export class ThinClient {
  readonly counters: ThinCounters = { bytes: 0, patches: 0, roomData: 0, errorReplies: 0, sent: 0 };
  /** Why the socket closed, once it has (code 4000 is a consented leave). */
  closed: { code: number; reason: string } | undefined;
  onClose: ((code: number) => void) | undefined;

  private constructor(
    readonly seat: SeatReservation,
    readonly ws: WebSocket,
  ) {}

  /** Consumes `seat` on the server at `base`; resolves once the server has sent JOIN_ROOM. */
  static connect(base: string, seat: SeatReservation, timeoutMs = 15_000): Promise<ThinClient> {
    const host = seat.publicAddress ? `ws://${seat.publicAddress}` : base.replace(/^http/, "ws");
    const url =
      `${host}/${seat.processId}/${seat.roomId}` +
      `?sessionId=${encodeURIComponent(seat.sessionId)}&skipHandshake=1`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new ThinClient(seat, ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`thin join: no JOIN_ROOM within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.on("close", (code, reason) => {
        clearTimeout(timer);
        client.closed = { code, reason: reason.toString() };
        client.onClose?.(code);
        reject(new Error(`thin join: closed ${code} ${reason.toString()}`));
      });
      ws.on("message", (data: Buffer) => {
        const c = client.counters;
        c.bytes += data.length;
        const code = data[0];
        if (code === Protocol.ROOM_STATE_PATCH) c.patches += 1;
        else if (code === Protocol.ROOM_DATA) {
          c.roomData += 1;
          // "error" as a msgpack fixstr: 0xa5 then the five letters.
          if (data[1] === 0xa5 && data.toString("latin1", 2, 7) === "error") c.errorReplies += 1;
        } else if (code === Protocol.JOIN_ROOM) {
          ws.send(JOIN_ACK);
          clearTimeout(timer);
          resolve(client);
        } else if (code === Protocol.LEAVE_ROOM) {
          ws.send(LEAVE);
        }
      });
    });
  }

  /** Sends a room message, as `room.send(type, payload)` does. */
  send(type: string, payload: unknown): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    let header = HEADERS.get(type);
    if (!header) HEADERS.set(type, (header = messageHeader(type)));
    this.ws.send(Buffer.concat([header, pack(payload)]));
    this.counters.sent += 1;
  }

  /** Leaves with consent; resolves when the socket has closed (or after `ms`). */
  leave(ms = 2000): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, ms);
      this.ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.send(LEAVE);
    });
  }
}

/** Reserves a seat and takes it: a thin `client.create` / `client.joinById`. */
export async function thinJoin(
  base: string,
  method: "create" | "joinById" | "joinOrCreate",
  roomNameOrId: string,
  token: string,
  options: Record<string, unknown> = {},
): Promise<ThinClient> {
  const seat = await reserveSeat(base, method, roomNameOrId, token, options);
  return ThinClient.connect(base, seat);
}
