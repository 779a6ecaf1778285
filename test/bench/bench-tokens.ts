/**
 * Join tokens for benchmarks that start the product's server with an explicit
 * `AUTH_SECRET`: minted with the server's own {@link TokenService} under the issuer, audience
 * and longest lifetime `loadConfig` gives the server (which inherits this process's env).
 */
import { randomBytes } from "node:crypto";
import { TokenService } from "../../server/auth/tokens.ts";
import { loadConfig } from "../../server/config.ts";

export interface BenchTokens {
  /** The `AUTH_SECRET` to give the server (64 hex characters). */
  secret: string;
  tokens: TokenService;
}

/** A fresh secret and a token service configured as server/app.ts configures its own. */
export function benchTokens(): BenchTokens {
  const secret = randomBytes(32).toString("hex");
  const { TOKEN_ISSUER, TOKEN_AUDIENCE, TOKEN_MAX_TTL_S } = process.env;
  const config = loadConfig({ AUTH_SECRET: secret, TOKEN_ISSUER, TOKEN_AUDIENCE, TOKEN_MAX_TTL_S });
  const tokens = new TokenService(secret, {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    maxTtlS: config.auth.maxTokenTtlS,
  });
  return { secret, tokens };
}
