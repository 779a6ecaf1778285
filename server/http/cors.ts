/**
 * CORS from an allow-list, for every route of the one http server — express's and
 * Colyseus's `/matchmake/*` alike. Colyseus 0.17 adds its CORS headers to every request in
 * a listener of its own (`router/index.mjs`: `DEFAULT_CORS_HEADERS` merged with
 * `controller.getCorsHeaders(headers)`; it answers every `OPTIONS` with 204 and them) and
 * by default reflects any `Origin` with `Access-Control-Allow-Credentials: true`. Both are
 * replaced here: an allowed origin gets `Access-Control-Allow-Origin: <origin>` (never `*`,
 * never credentials: the API authenticates with bearer tokens, not cookies), any other gets
 * no CORS header at all, so a browser keeps a foreign page from reading the answer.
 * An empty list means same-origin only (the viewer served at `/`).
 */
import { matchMaker } from "@colyseus/core";

/** Sets Colyseus's (process-wide) CORS hooks to answer only `origins`. */
export function installCors(origins: readonly string[]): void {
  const allowed = new Set(origins);
  const controller = matchMaker.controller;
  // Headers on every answer: caches must key on Origin since the answer depends on it.
  (controller as { DEFAULT_CORS_HEADERS: Record<string, string> }).DEFAULT_CORS_HEADERS = {
    Vary: "Origin",
  };
  controller.getCorsHeaders = (headers: Headers): Record<string, string> => {
    const origin = headers.get("origin");
    if (origin === null || !allowed.has(origin)) return {};
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": "GET,HEAD,POST,DELETE",
      "Access-Control-Allow-Headers": "Authorization, Content-Type, Range",
      "Access-Control-Expose-Headers":
        "Content-Length, Content-Range, Retry-After, WWW-Authenticate",
      "Access-Control-Max-Age": "600",
    };
  };
}
