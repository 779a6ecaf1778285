/** The process logger: pino, JSON lines on stdout (pipe through pino-pretty to read). */
import { type DestinationStream, pino, type Logger } from "pino";
import type { Config } from "./config.ts";

/**
 * Paths whose values are never written: bearer tokens in headers or objects we log, and
 * Colyseus's auth context. Tokens in URLs are cut by {@link redactUrl}.
 */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "req.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  "auth",
  "*.auth",
  "secret",
  "*.secret",
];

/** `…?token=x&a=1#login=y` → `…?token=[Redacted]&a=1#login=[Redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(
    /([?&#](?:token|access_token|_authToken|login|code)=)[^&#\s]*/gi,
    (_m, key: string) => `${key}[Redacted]`,
  );
}

/** @param destination where lines go (default stdout; tests pass a stream) */
export function createLogger(
  config: Pick<Config, "logLevel">,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.logLevel,
    base: { service: "agenttwin" },
    redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
    serializers: { url: (u: unknown) => (typeof u === "string" ? redactUrl(u) : u) },
  };
  return destination ? pino(options, destination) : pino(options);
}
