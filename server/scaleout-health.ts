/**
 * Keeps the shared matchmaking state of a scaled-out deployment true while processes crash
 * and Redis restarts (Colyseus checks other processes only when a process starts or when a
 * seat reservation times out):
 *
 * - **Dead processes leave the listing.** Every live process subscribes to its IPC channel
 *   `p:<processId>`; Redis drops a crashed process's subscriptions with its connection. Each
 *   sweep lists the processes named in `roomcount` and in the room listing; one whose channel
 *   is gone on two sweeps in a row is removed with all its rooms (two, so that a process
 *   re-subscribing after a Redis restart is not taken for dead).
 * - **Rooms come back after a Redis restart.** Redis without persistence comes back empty. On
 *   every reconnection, and on every sweep, this process re-lists any of its rooms that are
 *   missing and re-writes its `roomcount` entry, so `joinById` and `joinOrCreate` find them.
 * - **The link state is known.** Up means every Redis connection (publish, subscribe, listing)
 *   is ready; callers use it to fail matchmaking fast (see {@link guardMatchmaking}), for
 *   `/readyz` and for the `agenttwin_presence_up` metric. Connection errors are logged once on
 *   loss, once on recovery, and otherwise at most every {@link ERROR_LOG_INTERVAL_MS}.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import { matchMaker, type Room } from "@colyseus/core";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** Sweeps a process's channel must be missing on before it is declared dead. */
export const MISSES_BEFORE_REMOVAL = 2;
/** At most one routine Redis connection-error line per this many ms. */
export const ERROR_LOG_INTERVAL_MS = 10_000;

/** The parts of the Redis presence and driver the health keeper needs. */
export interface SharedMatchmaking {
  /** Channels with at least one subscriber matching a glob pattern (`PUBSUB CHANNELS`). */
  channels(pattern: string): Promise<string[]>;
  /** Every Redis connection the process depends on, named for logs. */
  connections: ReadonlyMap<string, Redis>;
}

export interface ScaleOutHealthOptions {
  shared: SharedMatchmaking;
  logger: Logger;
  /** Sweep period, ms. */
  sweepMs: number;
  /** Told of every change of the link state (metrics). */
  onLinkChange?: (up: boolean) => void;
}

/** Colyseus keeps a room's listing entry on a private field; re-listing needs it. */
function listingOf(room: Room): object | undefined {
  return (room as unknown as { _listing?: object })._listing;
}

export class ScaleOutHealth {
  readonly #opts: ScaleOutHealthOptions;
  readonly #log: Logger;
  readonly #rooms = new Set<Room>();
  readonly #misses = new Map<string, number>();
  #up = false;
  #downSince = 0;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #lastErrorLog = 0;
  #suppressedErrors = 0;
  #closed = false;
  #stalled = false;

  constructor(opts: ScaleOutHealthOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: "scale-out" });
    for (const [name, conn] of opts.shared.connections) {
      // Replace the presence's own per-retry warnings (one line every reconnect attempt).
      conn.removeAllListeners("error");
      conn.on("error", (err: Error) => this.#onError(name, err));
      for (const ev of ["ready", "close", "end", "reconnecting"]) {
        conn.on(ev, () => this.#recompute());
      }
    }
    this.#up = this.#allReady();
    opts.onLinkChange?.(this.#up);
  }

  /** True while every Redis connection is ready. */
  get up(): boolean {
    return this.#up;
  }

  /** Starts the periodic sweep. */
  start(): void {
    this.#timer ??= setInterval(() => void this.sweep(), this.#opts.sweepMs);
    this.#timer.unref();
  }

  /** A room of this process, to be re-listed when the shared listing loses it. */
  track(room: Room): void {
    this.#rooms.add(room);
  }

  untrack(room: Room): void {
    this.#rooms.delete(room);
  }

  /**
   * One sweep: removes processes whose channel is gone (on {@link MISSES_BEFORE_REMOVAL}
   * sweeps in a row) with their rooms, and re-lists this process's missing rooms. Never
   * throws; does nothing while Redis is down. Concurrent calls share one run.
   */
  sweep(): Promise<void> {
    // Nothing before start(): Colyseus's matchmaker (its presence and driver) is set up only
    // once the server listens, and a Redis "ready" event may come before that.
    if (this.#closed || this.#timer === undefined) return Promise.resolve();
    this.#sweeping ??= this.#sweepOnce()
      .catch((err: unknown) => this.#log.debug({ err }, "sweep failed"))
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  /** Stops sweeping and reporting (call before the Redis connections are closed). */
  stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async #sweepOnce(): Promise<void> {
    await this.#probe();
    if (!this.#up) return;
    const me = matchMaker.processId;
    const [channels, stats, listed] = await Promise.all([
      this.#opts.shared.channels("p:*"),
      matchMaker.stats.fetchAll(),
      matchMaker.driver.query({}),
    ]);
    const alive = new Set(channels.map((c) => c.slice(2)));
    const known = new Set([...stats.map((s) => s.processId), ...listed.map((r) => r.processId)]);
    for (const pid of this.#misses.keys()) if (!known.has(pid)) this.#misses.delete(pid);
    for (const pid of known) {
      if (pid === me || alive.has(pid)) {
        this.#misses.delete(pid);
        continue;
      }
      const misses = (this.#misses.get(pid) ?? 0) + 1;
      this.#misses.set(pid, misses);
      if (misses < MISSES_BEFORE_REMOVAL) continue;
      const rooms = listed.filter((r) => r.processId === pid).length;
      await matchMaker.stats.excludeProcess(pid);
      await matchMaker.driver.cleanup?.(pid);
      this.#misses.delete(pid);
      this.#log.warn({ processId: pid, rooms }, "removed a process that stopped answering");
    }
    const mine = new Set(listed.filter((r) => r.processId === me).map((r) => r.roomId));
    await this.#relist(
      mine,
      stats.some((s) => s.processId === me),
    );
  }

  /** Re-lists rooms of this process missing from the listing, and its `roomcount` entry. */
  async #relist(listed: ReadonlySet<string>, counted: boolean): Promise<void> {
    let restored = 0;
    for (const room of this.#rooms) {
      const entry = listingOf(room);
      if (!entry || listed.has(room.roomId)) continue;
      await matchMaker.driver.persist(entry as never);
      restored++;
    }
    if (!counted || restored > 0) await matchMaker.stats.persist(true);
    if (restored > 0) this.#log.info({ rooms: restored }, "re-listed rooms missing from Redis");
  }

  /**
   * A stalled Redis (stopped, or a network that drops packets) closes no connection, so
   * commands would queue forever: each sweep pings every connection that can answer a PING
   * (not the subscriber) and counts the link down until one sweep's pings all return.
   */
  async #probe(): Promise<void> {
    const timeoutMs = Math.max(1000, this.#opts.sweepMs);
    const pings = [...this.#opts.shared.connections]
      .filter(([name, conn]) => name !== "subscribe" && conn.status === "ready")
      .map(([, conn]) => withTimeout(conn.ping(), timeoutMs));
    const stalled = (await Promise.allSettled(pings)).some((r) => r.status === "rejected");
    if (stalled !== this.#stalled) {
      this.#stalled = stalled;
      this.#recompute();
    }
  }

  #allReady(): boolean {
    if (this.#stalled) return false;
    for (const conn of this.#opts.shared.connections.values()) {
      if (conn.status !== "ready") return false;
    }
    return true;
  }

  #recompute(): void {
    // After stop() the connections close on purpose (shutdown): that is no outage to report.
    if (this.#closed) return;
    const up = this.#allReady();
    if (up === this.#up) return;
    this.#up = up;
    this.#opts.onLinkChange?.(up);
    if (!up) {
      this.#downSince = Date.now();
      this.#log.error("Redis unreachable: matchmaking answers 503 until it is back");
      return;
    }
    if (this.#downSince > 0) {
      const downS = (Date.now() - this.#downSince) / 1000;
      this.#log.info(
        { downS, suppressedErrors: this.#suppressedErrors },
        "Redis reachable again: re-listing this process's rooms",
      );
    }
    this.#suppressedErrors = 0;
    this.#misses.clear(); // what was seen while down says nothing about the others
    void this.sweep();
  }

  #onError(connection: string, err: Error): void {
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_INTERVAL_MS) {
      this.#suppressedErrors++;
      return;
    }
    this.#lastErrorLog = now;
    this.#log.warn(
      { connection, err: err.message, suppressed: this.#suppressedErrors },
      "Redis connection error",
    );
    this.#suppressedErrors = 0;
  }
}

/** Paths whose answers depend on the shared listing. */
const GUARDED = /^\/(matchmake|api\/rooms)(\/|$|\?)/;

/**
 * Puts a guard in front of every `request` listener of `http` (Colyseus's router and
 * express): while the shared matchmaking store is down or stalled, matchmaking and listing
 * requests get `503` with `Retry-After` at once instead of waiting on queued Redis commands.
 * Call after the server has started listening, so every listener is in place.
 */
export function guardMatchmaking(
  http: HttpServer,
  health: Pick<ScaleOutHealth, "up">,
  retryAfterS: number,
): void {
  const listeners = http.listeners("request") as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  http.removeAllListeners("request");
  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!health.up && req.method !== "OPTIONS" && GUARDED.test(req.url ?? "")) {
      res.writeHead(503, {
        "content-type": "application/json",
        "retry-after": String(retryAfterS),
      });
      res.end(
        JSON.stringify({
          error: {
            code: "matchmaking_unavailable",
            message: "the shared matchmaking store (Redis) is unreachable; retry shortly",
          },
        }),
      );
      return;
    }
    for (const listener of listeners) listener.call(http, req, res);
  });
}

/** `promise`, or a rejection once `ms` ms passed without it settling (Redis answers). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
