/**
 * Sizes of Colyseus frames as the SDK builds them: for the generated `control` traces
 * (ml/datasets/control-traces.ts), and for metering a received message where the transport
 * did not report its frame's size (the room reads that size at the socket otherwise).
 */
import { encode as schemaEncode } from "@colyseus/schema";
import { Packr } from "msgpackr";

const packr = new Packr();
const headerBuf = new Uint8Array(256);

/**
 * Bytes of one client→server room message as the Colyseus SDK frames it: the ROOM_DATA
 * byte, the message type as a schema string, and the msgpack payload.
 */
export function controlMessageBytes(type: string, payload: unknown): number {
  const it = { offset: 1 };
  schemaEncode.string(headerBuf, type, it);
  return it.offset + (payload === undefined ? 0 : packr.pack(payload).length);
}
