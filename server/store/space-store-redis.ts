/**
 * {@link SpaceStore} in Redis, for a server scaled out with `REDIS_URL` (every process sees
 * the same spaces): one hash per space at `agenttwin:space:<name>` with the fields `created`,
 * `updated` (ISO 8601) and `scene` (JSON). Creation and update are one Lua script each, so
 * "create unless it exists" and "update unless it was deleted" hold across processes.
 * Every command has a time limit ({@link SPACE_REDIS_TIMEOUT_MS}): a request fails instead
 * of waiting while Redis is away.
 */
import { Redis } from "ioredis";
import {
  checkSpaceName,
  EMPTY_SPACE_SCENE,
  parseSpaceRecord,
  readSpaces,
  SpaceCorruptError,
  type SpaceRecord,
  type SpaceScene,
  type SpaceStore,
} from "./space-store.ts";

/** How long one Redis command may take, ms. */
export const SPACE_REDIS_TIMEOUT_MS = 3000;

const PREFIX = "agenttwin:space:";

/** KEYS[1] = space; ARGV = created, updated, scene. 1 when created, 0 when it existed. */
const CREATE = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'created', ARGV[1], 'updated', ARGV[2], 'scene', ARGV[3])
return 1`;

/** KEYS[1] = space; ARGV = updated, scene. The creation time, or false when there is none. */
const UPDATE = `if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'updated', ARGV[1], 'scene', ARGV[2])
return redis.call('HGET', KEYS[1], 'created')`;

export class RedisSpaceStore implements SpaceStore {
  readonly label: string;
  readonly #redis: Redis;

  /** @param url `redis://…` (the scale-out's `REDIS_URL`); `label` is what logs show of it */
  constructor(url: string, label = "redis") {
    this.label = label;
    this.#redis = new Redis(url, {
      commandTimeout: SPACE_REDIS_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    });
    // Errors reach the caller of each command; the connection's own events only retry.
    this.#redis.on("error", () => undefined);
  }

  async get(name: string): Promise<SpaceRecord | null> {
    checkSpaceName(name);
    const fields = await this.#redis.hgetall(PREFIX + name);
    if (Object.keys(fields).length === 0) return null;
    return toRecord(name, fields);
  }

  async list(onCorrupt?: (err: SpaceCorruptError) => void): Promise<SpaceRecord[]> {
    const names: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await this.#redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 200);
      cursor = next;
      for (const key of keys) names.push(key.slice(PREFIX.length));
    } while (cursor !== "0");
    return readSpaces(names, (name) => this.get(name), onCorrupt);
  }

  async create(
    name: string,
    scene: SpaceScene = EMPTY_SPACE_SCENE,
    now = new Date(),
  ): Promise<SpaceRecord | null> {
    checkSpaceName(name);
    const at = now.toISOString();
    const made = await this.#redis.eval(CREATE, 1, PREFIX + name, at, at, JSON.stringify(scene));
    return made === 1 ? { name, created: at, updated: at, scene } : null;
  }

  async update(name: string, scene: SpaceScene, now = new Date()): Promise<SpaceRecord | null> {
    checkSpaceName(name);
    const at = now.toISOString();
    const created = await this.#redis.eval(UPDATE, 1, PREFIX + name, at, JSON.stringify(scene));
    if (typeof created !== "string") return null;
    return parseSpaceRecord(name, { name, created, updated: at, scene });
  }

  async delete(name: string): Promise<boolean> {
    checkSpaceName(name);
    return (await this.#redis.del(PREFIX + name)) > 0;
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** A hash's fields as a validated record. @throws SpaceCorruptError */
function toRecord(name: string, fields: Record<string, string>): SpaceRecord {
  let scene: unknown;
  try {
    scene = JSON.parse(fields.scene ?? "");
  } catch (err) {
    throw new SpaceCorruptError(name, `space ${name} is damaged: its scene is not JSON`, {
      cause: err,
    });
  }
  return parseSpaceRecord(name, {
    name,
    created: fields.created,
    updated: fields.updated,
    scene,
  });
}
