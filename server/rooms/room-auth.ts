/**
 * Join authentication shared by every room: the token Colyseus passes in the auth context
 * is verified; a bad one refuses the join with 401 and the reason.
 */
import { ServerError } from "@colyseus/core";
import { AuthError, type Identity, type TokenService } from "../auth/tokens.ts";

/** The identity of a join token. @throws ServerError 401 when it does not verify. */
export async function authenticateJoin(tokens: TokenService, token: unknown): Promise<Identity> {
  try {
    return await tokens.verify(token);
  } catch (err) {
    const reason = err instanceof AuthError ? err.message : "authentication failed";
    throw new ServerError(401, reason, { cause: err });
  }
}
