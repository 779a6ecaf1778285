/**
 * One-time login codes for the local viewer (as Jupyter's login link): without
 * `AUTH_SECRET` the server prints `http://127.0.0.1:<port>/#login=<code>` at start; the
 * viewer exchanges the code once (`POST /api/login`) for an operator token. A code is
 * random (128 bits), works once, and expires.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** Issues and redeems single-use codes (bounded: at most `max` outstanding). */
export class LoginCodes {
  readonly #codes = new Map<string, number>();

  /**
   * @param ttlMs how long an unused code stays valid, ms
   * @param max most codes outstanding (the oldest is dropped beyond)
   */
  constructor(
    readonly ttlMs = 60 * 60 * 1000,
    readonly max = 8,
  ) {}

  /** A fresh code. */
  create(now = Date.now()): string {
    const code = randomBytes(16).toString("base64url");
    this.#codes.set(code, now + this.ttlMs);
    while (this.#codes.size > this.max) {
      const oldest = this.#codes.keys().next().value as string;
      this.#codes.delete(oldest);
    }
    return code;
  }

  /** True (and the code is spent) when `code` is outstanding and unexpired. */
  redeem(code: unknown, now = Date.now()): boolean {
    if (typeof code !== "string" || code.length === 0 || code.length > 64) return false;
    const given = Buffer.from(code);
    for (const [known, expires] of this.#codes) {
      const k = Buffer.from(known);
      if (k.length === given.length && timingSafeEqual(k, given)) {
        this.#codes.delete(known);
        return expires > now;
      }
    }
    return false;
  }
}
