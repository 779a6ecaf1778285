/**
 * Authorisation of HTTP writes (uploads that change a room's scene): a join token in
 * `Authorization: Bearer <token>` whose role is operator.
 */
import type { Request } from "express";
import type { TokenService } from "../auth/tokens.ts";

/** True when the request carries a valid operator token. */
export function operatorAuth(tokens: TokenService): (req: Request) => Promise<boolean> {
  return async (req) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!m) return false;
    try {
      return (await tokens.verify(m[1])).role === "operator";
    } catch {
      return false;
    }
  };
}
