/**
 * Join tokens: JWTs signed with HMAC-SHA256 (HS256) under the configured secret.
 * Claims: `sub` (user id), `name` (display name), `role` (see roles.ts), `iss`, `aud`,
 * `iat` and `exp` — all required, and `exp − iat` may not exceed the configured maximum, so
 * a token minted elsewhere cannot live forever. Whoever issues tokens in a deployment (an
 * identity service) must share the secret, the issuer and the audience with the server.
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

/** A token verified but its role may not do what was asked (HTTP 403, not 401). */
export class ForbiddenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ForbiddenError";
  }
}

const Claims = z.object({
  sub: z.string().min(1).max(128),
  name: z.string().min(1).max(64).optional(),
  role: z.enum(ROLES as [Role, ...Role[]]),
  iat: z.number(),
  exp: z.number(),
});

/** What every token must carry besides the identity. */
export interface TokenPolicy {
  /** `iss` claim. */
  issuer: string;
  /** `aud` claim. */
  audience: string;
  /** Longest accepted `exp − iat`, s. */
  maxTtlS: number;
}

const DEFAULT_POLICY: TokenPolicy = { issuer: "agenttwin", audience: "agenttwin", maxTtlS: 86_400 };

/** Clock skew tolerated between the issuer and this server, s. */
const CLOCK_TOLERANCE_S = 30;

/** Signs and verifies join tokens with one HMAC secret. */
export class TokenService {
  readonly #key: Uint8Array;
  readonly #policy: TokenPolicy;

  /** @param secret HMAC key material (≥ 32 bytes) */
  constructor(secret: string, policy: Partial<TokenPolicy> = {}) {
    if (Buffer.byteLength(secret) < 32) {
      throw new AuthError("token secret must be at least 32 bytes");
    }
    this.#key = new TextEncoder().encode(secret);
    this.#policy = { ...DEFAULT_POLICY, ...policy };
  }

  /** The longest lifetime a token may have, s. */
  get maxTtlS(): number {
    return this.#policy.maxTtlS;
  }

  /** Issues a token for `identity`, valid for `ttlS` seconds (at most the policy's maximum). */
  async issue(identity: Identity, ttlS: number): Promise<string> {
    if (!(ttlS > 0 && ttlS <= this.#policy.maxTtlS)) {
      throw new AuthError(`token lifetime ${ttlS} s is outside 0 < ttl ≤ ${this.#policy.maxTtlS}`);
    }
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ name: identity.name, role: identity.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(identity.userId)
      .setIssuer(this.#policy.issuer)
      .setAudience(this.#policy.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.floor(ttlS))
      .sign(this.#key);
  }

  /** Verifies a token; throws {@link AuthError} with a reason a client may see. */
  async verify(token: unknown): Promise<Identity> {
    if (typeof token !== "string" || token.length === 0) throw new AuthError("missing token");
    if (token.length > 4096) throw new AuthError("token too long");
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        issuer: this.#policy.issuer,
        audience: this.#policy.audience,
        algorithms: ["HS256"],
        requiredClaims: ["sub", "iat", "exp"],
        clockTolerance: CLOCK_TOLERANCE_S,
        // Issued longer ago than the longest lifetime: refused even if `exp` says otherwise.
        maxTokenAge: this.#policy.maxTtlS + CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      throw new AuthError(reasonOf(err), { cause: err });
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new AuthError("token claims invalid", { cause: claims.error });
    const { sub, name, role, iat, exp } = claims.data;
    if (exp - iat > this.#policy.maxTtlS) {
      throw new AuthError(`token lifetime exceeds ${this.#policy.maxTtlS} s`);
    }
    return { userId: sub, name: name ?? sub, role };
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "token expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return `token lacks the ${err.claim} claim`;
    return `token ${err.claim} claim invalid`;
  }
  return "invalid token";
}
