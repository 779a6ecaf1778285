/**
 * Join tokens: JWTs signed with HMAC-SHA256 (HS256) under the configured secret.
 * Claims: `sub` (user id), `name` (display name), `role` (see roles.ts), `exp`.
 * Whoever issues tokens in a deployment (an identity service, or `npm run token` for
 * development) must share the secret with the server.
 */
import { jwtVerify, SignJWT, errors as joseErrors } from "jose";
import { z } from "zod";
import { ROLES, type Role } from "./roles.ts";

/** Identity established from a verified token. */
export interface Identity {
  userId: string;
  name: string;
  role: Role;
}

/** A token was missing, malformed, expired, or signed with another secret. */
export class AuthError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
  }
}

const Claims = z.object({
  sub: z.string().min(1).max(128),
  name: z.string().min(1).max(64).optional(),
  role: z.enum(ROLES as [Role, ...Role[]]),
});

const ISSUER = "agenttwin";

/** Signs and verifies join tokens with one HMAC secret. */
export class TokenService {
  readonly #key: Uint8Array;

  /** @param secret HMAC key material (≥ 16 characters) */
  constructor(secret: string) {
    if (secret.length < 16) throw new AuthError("token secret must be at least 16 characters");
    this.#key = new TextEncoder().encode(secret);
  }

  /** Issues a token for `identity`, valid for `ttlS` seconds. */
  async issue(identity: Identity, ttlS: number): Promise<string> {
    return new SignJWT({ name: identity.name, role: identity.role })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(identity.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS)
      .sign(this.#key);
  }

  /** Verifies a token; throws {@link AuthError} with a reason a client may see. */
  async verify(token: unknown): Promise<Identity> {
    if (typeof token !== "string" || token.length === 0) throw new AuthError("missing token");
    if (token.length > 4096) throw new AuthError("token too long");
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { issuer: ISSUER, algorithms: ["HS256"] }));
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? "token expired" : "invalid token";
      throw new AuthError(reason, { cause: err });
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new AuthError("token claims invalid", { cause: claims.error });
    const { sub, name, role } = claims.data;
    return { userId: sub, name: name ?? sub, role };
  }
}
