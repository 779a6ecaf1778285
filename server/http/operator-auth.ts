/**
 * Bearer-token authentication of HTTP requests (`Authorization: Bearer <token>`):
 *
 * - {@link requireBearer}: express middleware; no or a bad token → 401 with
 *   `WWW-Authenticate: Bearer …` (RFC 6750), a valid token of a role that may not → 403.
 *   The identity is left in `res.locals.identity`.
 * - {@link identify}: the verified identity of a request, or why it has none.
 */
import type { NextFunction, Request, Response } from "express";
import { type Role, roleRefusal } from "../auth/roles.ts";
import { AuthError, type Identity, type TokenService } from "../auth/tokens.ts";
import { fail } from "./errors.ts";

/**
 * The bearer token of a request, or undefined: the `Authorization` header, or (with
 * `queryToo`, for media reads by players that cannot set headers, such as Unity's
 * VideoPlayer) the RFC 6750 `access_token` query parameter. Logs redact it (log.ts).
 */
export function bearerToken(req: Request, queryToo = false): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (m) return m[1];
  const q = queryToo ? req.query?.access_token : undefined;
  return typeof q === "string" && q.length > 0 ? q : undefined;
}

/** Answers 401 with the RFC 6750 challenge. */
export function unauthorized(res: Response, message: string, invalid: boolean): void {
  const challenge = invalid
    ? `Bearer realm="agenttwin", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`
    : 'Bearer realm="agenttwin"';
  res.set("WWW-Authenticate", challenge).set("Cache-Control", "no-store");
  fail(res, 401, "unauthorized", message);
}

/** Answers 403: the token is valid, the role is not enough. */
export function forbidden(res: Response, message: string): void {
  fail(res, 403, "forbidden", message);
}

/** The verified identity of a request, or the reason (and whether a token was sent) it has none. */
export async function identify(
  tokens: TokenService,
  req: Request,
  queryToo = false,
): Promise<Identity | { reason: string; invalid: boolean }> {
  const token = bearerToken(req, queryToo);
  if (token === undefined) {
    return { reason: "this needs a token: Authorization: Bearer <token>", invalid: false };
  }
  try {
    return await tokens.verify(token);
  } catch (err) {
    return { reason: err instanceof AuthError ? err.message : "invalid token", invalid: true };
  }
}

/**
 * Express middleware admitting requests with a valid token (and one of `roles`, when given).
 * A refused request with a body is answered at once and its connection closed afterwards,
 * so an unauthenticated upload is never read to the end.
 */
export function requireBearer(
  tokens: TokenService,
  roles?: readonly Role[],
  { queryToo = false }: { queryToo?: boolean } = {},
) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const who = await identify(tokens, req, queryToo);
    if ("reason" in who) {
      closeAfter(req, res);
      return unauthorized(res, who.reason, who.invalid);
    }
    const refusal = roles && roleRefusal(who.role, roles, "this");
    if (refusal) {
      closeAfter(req, res);
      return forbidden(res, refusal);
    }
    res.locals.identity = who;
    next();
  };
}

/** Closes the connection after the answer when the request body is still arriving. */
function closeAfter(req: Request, res: Response): void {
  if (req.complete || req.headers["content-length"] === "0") return;
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined)
    return;
  res.set("Connection", "close");
  req.resume();
  res.once("finish", () => setTimeout(() => req.destroy(), 1000).unref());
}
