/**
 * Scale-out across processes on Colyseus's own engine: with `REDIS_URL` set, every process
 * shares matchmaking through Redis — `@colyseus/redis-presence` (pub/sub for remote room
 * calls and per-process channels, counters) and `@colyseus/redis-driver` (the room listing).
 *
 * How a client reaches a room on another process (Colyseus 0.17): a matchmaking request
 * (`POST /matchmake/joinOrCreate|joinById|create/...`) may arrive at any process. That
 * process looks the room up in the shared listing, or creates it on the process with the
 * fewest rooms (an IPC request over the presence's `p:<processId>` channel), then reserves a
 * seat by calling `_reserveSeat` on the room's `$<roomId>` channel. The seat reservation it
 * returns carries the hosting process's `processId` and `publicAddress`; the SDK opens its
 * websocket to `ws(s)://<publicAddress>/<processId>/<roomId>`, straight to the hosting
 * process (no proxying between processes). So each process must advertise an address that
 * headsets can reach: `PUBLIC_ADDRESS`, or `HOST:PORT` when HOST is a concrete address.
 */
import { hostname } from "node:os";
import type { MatchMakerDriver, Presence } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import type { Logger } from "pino";
import { Redis, type RedisOptions } from "ioredis";
import type { Config } from "./config.ts";
import { ScaleOutHealth, withTimeout } from "./scaleout-health.ts";

/** How long the first answer from Redis may take before the start fails, ms. */
export const REDIS_CONNECT_TIMEOUT_MS = 5000;

/** What `new Server({...})` needs to matchmake across processes. */
export interface ScaleOut {
  presence: Presence;
  driver: MatchMakerDriver;
  /** `host:port[/path]` advertised in seat reservations for rooms of this process. */
  publicAddress: string;
  /** Redis URL with any password masked, for logs. */
  redisLabel: string;
  /** Keeps the shared listing true across crashes and Redis restarts; knows the link state. */
  health: ScaleOutHealth;
}

/** Redis did not answer, so the process cannot join the others. */
export class ScaleOutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ScaleOutError";
  }
}

/**
 * Connects the Redis presence and driver when `REDIS_URL` is set (null otherwise), after
 * checking within {@link REDIS_CONNECT_TIMEOUT_MS} that Redis answers: Colyseus would
 * otherwise wait forever for its first subscription. Colyseus closes both on shutdown.
 * @throws ScaleOutError when Redis does not answer in time
 */
export async function openScaleOut(
  config: Pick<Config, "scaleOut" | "host" | "port">,
  logger: Logger,
  onLinkChange?: (up: boolean) => void,
): Promise<ScaleOut | null> {
  const { redisUrl } = config.scaleOut;
  if (redisUrl === undefined) return null;
  const redisLabel = maskPassword(redisUrl);
  // Commands wait (not fail) while Redis is away, so Colyseus's own bookkeeping completes on
  // reconnection instead of rejecting; callers are failed fast by guardMatchmaking instead.
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  };
  const pub = new Redis(redisUrl, options);
  const listing = new Redis(redisUrl, options);
  const presence = new RedisPresence(pub);
  const driver = new RedisDriver(listing);
  try {
    await withTimeout(presence.exists("agenttwin:probe"), REDIS_CONNECT_TIMEOUT_MS);
  } catch (err) {
    presence.shutdown();
    await withTimeout(Promise.resolve(driver.shutdown()), 1000).catch(() => undefined);
    throw new ScaleOutError(
      `Redis at ${redisLabel} did not answer within ${REDIS_CONNECT_TIMEOUT_MS} ms`,
      { cause: err },
    );
  }
  const publicAddress = config.scaleOut.publicAddress ?? defaultPublicAddress(config);
  logger.info({ redis: redisLabel, publicAddress }, "scale-out: Redis presence and driver");
  const health = new ScaleOutHealth({
    shared: {
      channels: (pattern) => presence.channels(pattern),
      connections: new Map([
        ["publish", pub],
        ["subscribe", (presence as unknown as { sub: Redis }).sub],
        ["listing", listing],
      ]),
    },
    logger,
    sweepMs: config.scaleOut.sweepMs,
    ...(onLinkChange && { onLinkChange }),
  });
  return { presence, driver, publicAddress, redisLabel, health };
}

/**
 * `HOST:PORT`, with the machine's host name in place of a wildcard HOST (0.0.0.0, ::), which
 * no client can dial. Inside a container that name resolves only on the container network:
 * set `PUBLIC_ADDRESS` to what headsets reach.
 */
export function defaultPublicAddress(config: Pick<Config, "host" | "port">): string {
  const wildcard = config.host === "0.0.0.0" || config.host === "::" || config.host === "[::]";
  const host = wildcard ? hostname() : config.host;
  return `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${config.port}`;
}

/** The URL with its password replaced by `***`. */
function maskPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
