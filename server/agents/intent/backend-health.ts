/**
 * How the intent agent treats a shared model server: a `Retry-After` window during which it
 * does not call at all, and a circuit breaker (closed → open after repeated failures → one
 * half-open probe after a cooldown) so an outage costs one timeout per cooldown instead of
 * one per utterance. The grammar answers whenever a call is not made. Health is kept here
 * and reported through a small metrics port (no http or prom-client in the domain).
 */

/** What the backend looks like from here. */
export const BackendState = {
  /** The last call succeeded (or none was made yet). */
  Ok: "ok",
  /** The last call failed; calls go on until the breaker opens. */
  Degraded: "degraded",
  /** Too many failures in a row: no calls until the cooldown has passed. */
  Open: "open",
  /** The cooldown passed: one probe call decides between ok and open again. */
  HalfOpen: "half_open",
  /** The server asked for a pause (HTTP 429 / `Retry-After`): no calls until it ends. */
  RateLimited: "rate_limited",
} as const;
/** One of {@link BackendState}. */
export type BackendState = (typeof BackendState)[keyof typeof BackendState];

/** Every {@link BackendState}, for one-hot gauges. */
export const BACKEND_STATES: readonly BackendState[] = Object.values(BackendState);

/**
 * Metrics port of the intent backend, implemented by the process's metrics (http/metrics.ts)
 * and injected; every method must be cheap and must not throw.
 */
export interface IntentBackendMetrics {
  /** One call to the backend ended: `outcome` is `ok` or a fallback code; `seconds` wall time. */
  request(model: string, outcome: string, seconds: number): void;
  /** The grammar answered instead of the model (`code` a fallback code). */
  fallback(model: string, code: string): void;
  /** The backend's state is now `state`. */
  state(model: string, state: BackendState): void;
}

/** A snapshot of the backend's health. */
export interface BackendHealth {
  readonly state: BackendState;
  /** Why it is not `ok` (empty when it is). */
  readonly reason: string;
  /** Failures in a row. */
  readonly consecutiveFailures: number;
  /** Until when no call is made (open breaker or Retry-After), epoch ms; 0 when calls may go. */
  readonly blockedUntilMs: number;
  /** Bumped whenever state or reason change (panels copy only then). */
  readonly version: number;
}

/** Settings of {@link BackendGuard}. */
export interface BackendGuardOptions {
  /** Failures in a row that open the breaker (≥ 1). */
  readonly failureThreshold: number;
  /** First cooldown of an open breaker, ms; doubled after each failed probe. */
  readonly cooldownMs: number;
  /** Longest cooldown, ms. */
  readonly maxCooldownMs: number;
  /** Longest `Retry-After` honoured, ms (a server asking for longer is called again then). */
  readonly maxRetryAfterMs: number;
  /** Pause after a 429 without a `Retry-After`, ms. */
  readonly defaultRetryAfterMs: number;
  /** Clock, epoch ms (tests inject one). */
  readonly now?: () => number;
  /** Told of every state change. */
  readonly onState?: (state: BackendState) => void;
}

/** Why a call is not made now. */
export interface Refusal {
  readonly code: "rate_limited" | "circuit_open";
  readonly detail: string;
}

/** Whether a call may go, and if so whether it is the half-open probe. */
export type Admission = { readonly ok: true; readonly probe: boolean } | ({ ok: false } & Refusal);

/** Retry-After window and circuit breaker of one backend. */
export class BackendGuard {
  readonly #o: BackendGuardOptions;
  readonly #now: () => number;
  #state: BackendState = BackendState.Ok;
  #reason = "";
  #failures = 0;
  #openUntil = 0;
  #cooldown: number;
  #retryUntil = 0;
  #probing = false;
  #version = 0;

  constructor(options: BackendGuardOptions) {
    if (!(options.failureThreshold >= 1)) throw new RangeError("failureThreshold must be ≥ 1");
    if (!(options.cooldownMs > 0)) throw new RangeError("cooldownMs must be > 0");
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#cooldown = options.cooldownMs;
  }

  /** May a call go now? A refused one is answered by the grammar. */
  admit(): Admission {
    const now = this.#now();
    if (now < this.#retryUntil) {
      const s = Math.ceil((this.#retryUntil - now) / 1000);
      return { ok: false, code: "rate_limited", detail: `the server asked to wait ${s} s more` };
    }
    if (this.#state === BackendState.Open) {
      if (now < this.#openUntil) {
        const s = Math.ceil((this.#openUntil - now) / 1000);
        return {
          ok: false,
          code: "circuit_open",
          detail: `backend off for ${s} s more after ${this.#failures} failures (${this.#reason})`,
        };
      }
      this.#set(BackendState.HalfOpen, this.#reason);
    }
    if (this.#state === BackendState.HalfOpen) {
      if (this.#probing) {
        return {
          ok: false,
          code: "circuit_open",
          detail: `a probe of the backend is in flight (${this.#reason})`,
        };
      }
      this.#probing = true;
      return { ok: true, probe: true };
    }
    if (this.#state === BackendState.RateLimited) this.#set(BackendState.Degraded, this.#reason);
    return { ok: true, probe: false };
  }

  /** The call answered usably: the breaker closes. */
  succeeded(): void {
    this.#probing = false;
    this.#failures = 0;
    this.#cooldown = this.#o.cooldownMs;
    this.#set(BackendState.Ok, "");
  }

  /** The call failed (`reason` short, e.g. `timeout: no answer within 3000 ms`). */
  failed(reason: string): void {
    const probe = this.#probing;
    this.#probing = false;
    this.#failures += 1;
    if (probe || this.#failures >= this.#o.failureThreshold) {
      if (probe) this.#cooldown = Math.min(this.#o.maxCooldownMs, this.#cooldown * 2);
      this.#openUntil = this.#now() + this.#cooldown;
      this.#set(BackendState.Open, `circuit open after ${this.#failures} failures: ${reason}`);
      return;
    }
    this.#set(BackendState.Degraded, reason);
  }

  /**
   * The server answered 429: no call until `retryAfterMs` (from its `Retry-After`, or the
   * default when absent) has passed. Not a breaker failure: the server is up, only busy.
   */
  rateLimited(retryAfterMs: number | null, reason: string): number {
    this.#probing = false;
    const wait = Math.min(this.#o.maxRetryAfterMs, retryAfterMs ?? this.#o.defaultRetryAfterMs);
    this.#retryUntil = this.#now() + Math.max(0, wait);
    this.#set(BackendState.RateLimited, reason);
    return wait;
  }

  /** The call was abandoned by its caller: a probe slot is given back, nothing is learnt. */
  abandoned(): void {
    this.#probing = false;
  }

  health(): BackendHealth {
    const blocked = Math.max(
      this.#retryUntil,
      this.#state === BackendState.Open ? this.#openUntil : 0,
    );
    return {
      state: this.#state,
      reason: this.#reason,
      consecutiveFailures: this.#failures,
      blockedUntilMs: blocked > this.#now() ? blocked : 0,
      version: this.#version,
    };
  }

  #set(state: BackendState, reason: string): void {
    if (state === this.#state && reason === this.#reason) return;
    const changed = state !== this.#state;
    this.#state = state;
    this.#reason = reason;
    this.#version += 1;
    if (changed) this.#o.onState?.(state);
  }
}

/**
 * A `Retry-After` (or OpenAI's `retry-after-ms`) header as ms from now: delta seconds or an
 * HTTP date; null when absent or unreadable.
 */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  nowMs = Date.now(),
): number | null {
  if (!headers) return null;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(?:\.\d+)?$/.test(ms.trim())) return Number(ms);
  const value = headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+(?:\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}
