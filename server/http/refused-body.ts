/**
 * The rest of a refused upload's body (for the upload routes: media-routes.ts,
 * reconstruction-routes.ts): read and dropped, so that the client, still sending, gets the
 * answer instead of a reset; past the route's bounds the connection is cut.
 */
import type { IncomingMessage } from "node:http";

/** How much more of a refused body is read before the connection is cut. */
export interface DrainLimits {
  /** Bytes (default: no byte bound). */
  readonly maxBytes?: number;
  /** Time, ms (default: no time bound). */
  readonly maxMs?: number;
}

/**
 * Reads and drops the rest of `req`'s body (unpiping whatever still reads it) within
 * `limits`; nothing to do once the body has ended.
 */
export function drainRefused(req: IncomingMessage, limits: DrainLimits): void {
  req.unpipe();
  if (req.complete || req.destroyed) return;
  const { maxBytes, maxMs } = limits;
  if (maxBytes !== undefined) {
    let drained = 0;
    req.on("data", (chunk: Buffer) => {
      drained += chunk.byteLength;
      if (drained > maxBytes) req.destroy();
    });
  }
  if (maxMs !== undefined) {
    const timer = setTimeout(() => req.socket.destroy(), maxMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.once("end", clear);
    req.once("close", clear);
  }
  req.resume();
}
