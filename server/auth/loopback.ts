/**
 * Is an HTTP request from this machine? Used for what only the local user may do
 * (development tokens, the one-time login, metrics without a token).
 */
import type { IncomingMessage } from "node:http";
import { isLoopbackHost } from "../config.ts";

/** Headers a reverse proxy adds: a proxied request is not local, whatever its socket says. */
const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip", "x-client-ip"];

/**
 * True when the peer address is loopback and no proxy header says the request came from
 * elsewhere. With `checkHost`, the `Host` header must name a loopback host too, so a web
 * page that rebinds its own DNS name to 127.0.0.1 is not local (DNS rebinding).
 */
export function isLocalRequest(req: IncomingMessage, checkHost = false): boolean {
  const peer = req.socket.remoteAddress ?? "";
  if (!isLoopbackHost(peer)) return false;
  if (PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) return false;
  if (!checkHost) return true;
  const host = req.headers.host ?? "";
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return isLoopbackHost(name ?? "");
}
