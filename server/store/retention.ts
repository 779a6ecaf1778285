/**
 * Retention of what the server writes to disk (recordings, video streams, scene versions):
 * per kind, units older than `maxAgeMs` are deleted, then the oldest go until the kind's
 * total is within `maxBytes`. A unit is one entry of a folder (a file, or a folder counted
 * with everything in it — a stream); with `nested`, the entries of each sub-folder (the
 * versions of each scene). The newest unit of each folder is never deleted by size, nor is
 * anything modified within `protectMs` (it may be in use right now), and units a rule's
 * `keep` names (a stored space's stream and model) are never deleted at all.
 */
import type { Dirent } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";

export interface RetentionRule {
  /** Kind, for logs: `recordings`, `streams`, `scenes`. */
  readonly name: string;
  /** Absolute folder (a missing folder has nothing to retain). */
  readonly dir: string;
  /** Delete units older than this, ms (0: no age limit). */
  readonly maxAgeMs: number;
  /** Keep the kind's total within this, bytes (0: no size limit). */
  readonly maxBytes: number;
  /** Units are the entries of each sub-folder of `dir` instead of the entries of `dir`. */
  readonly nested?: boolean;
  /** Which entry names are units (default: all but hidden ones and `.part` files). */
  readonly match?: (name: string) => boolean;
  /** Never delete by size what changed within this, ms (default 1 hour). */
  readonly protectMs?: number;
  /**
   * Absolute paths of units in use elsewhere (e.g. the media of a stored space), never
   * deleted; asked once per sweep (rules given the same function share one answer). When
   * it fails, the rule deletes nothing in that sweep.
   */
  readonly keep?: () => Promise<Iterable<string>>;
}

/** One deleted unit. */
export interface Removed {
  readonly kind: string;
  readonly path: string;
  readonly bytes: number;
  readonly reason: "age" | "size";
}

interface Unit {
  path: string;
  folder: string;
  bytes: number;
  mtimeMs: number;
  /** Listed by the rule's `keep`: counted in the total, never deleted. */
  inUse?: boolean;
}

const DEFAULT_PROTECT_MS = 3_600_000;

/** Applies every rule once. @returns what was deleted */
export async function runRetention(
  rules: readonly RetentionRule[],
  logger: Logger,
  nowMs: number = Date.now(),
): Promise<Removed[]> {
  const removed: Removed[] = [];
  /** Each `keep` function's answer in this sweep (the streams and scenes rules share one). */
  const kept = new Map<NonNullable<RetentionRule["keep"]>, Promise<Set<string>>>();
  const inUseOf = (keep: NonNullable<RetentionRule["keep"]>): Promise<Set<string>> => {
    let answer = kept.get(keep);
    if (!answer) {
      answer = keep().then((paths) => new Set([...paths].map((p) => resolve(p))));
      kept.set(keep, answer);
    }
    return answer;
  };
  for (const rule of rules) {
    if (rule.maxAgeMs <= 0 && rule.maxBytes <= 0) continue;
    let inUse: Set<string>;
    try {
      inUse = rule.keep ? await inUseOf(rule.keep) : new Set();
    } catch (err) {
      logger.warn({ err, kind: rule.name }, "retention skipped: what is in use is unknown");
      continue;
    }
    const units = await listUnits(rule);
    const keep: Unit[] = [];
    for (const u of units) {
      if (inUse.has(resolve(u.path))) u.inUse = true;
      if (!u.inUse && rule.maxAgeMs > 0 && nowMs - u.mtimeMs > rule.maxAgeMs) {
        if (await remove(u))
          removed.push({ kind: rule.name, path: u.path, bytes: u.bytes, reason: "age" });
      } else keep.push(u);
    }
    if (rule.maxBytes > 0) {
      let total = keep.reduce((s, u) => s + u.bytes, 0);
      const newest = new Map<string, Unit>();
      for (const u of keep) {
        const n = newest.get(u.folder);
        if (!n || u.mtimeMs > n.mtimeMs) newest.set(u.folder, u);
      }
      const protectMs = rule.protectMs ?? DEFAULT_PROTECT_MS;
      for (const u of keep.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
        if (total <= rule.maxBytes) break;
        if (u.inUse || newest.get(u.folder) === u || nowMs - u.mtimeMs < protectMs) continue;
        if (await remove(u)) {
          total -= u.bytes;
          removed.push({ kind: rule.name, path: u.path, bytes: u.bytes, reason: "size" });
        }
      }
      if (total > rule.maxBytes) {
        logger.warn(
          { kind: rule.name, bytes: total, maxBytes: rule.maxBytes },
          "over the retention size, but what is left is recent or current",
        );
      }
    }
  }
  for (const r of removed) logger.info(r, "retention deleted");
  return removed;
}

async function listUnits(rule: RetentionRule): Promise<Unit[]> {
  const match = rule.match ?? ((n: string) => !n.startsWith(".") && !n.endsWith(".part"));
  const folders = rule.nested
    ? (await entries(rule.dir)).filter((e) => e.isDirectory()).map((e) => join(rule.dir, e.name))
    : [rule.dir];
  const units: Unit[] = [];
  for (const folder of folders) {
    for (const e of await entries(folder)) {
      if (!match(e.name) || e.isSymbolicLink()) continue;
      const path = join(folder, e.name);
      try {
        const st = await lstat(path);
        const bytes = st.isDirectory() ? await folderBytes(path) : st.size;
        units.push({ path, folder, bytes, mtimeMs: st.mtimeMs });
      } catch {
        // Gone while listing.
      }
    }
  }
  return units;
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Bytes of everything under a folder (links not followed; each entry stat'ed once). */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await entries(dir)) {
    if (e.isSymbolicLink()) continue;
    const path = join(dir, e.name);
    total += await (e.isDirectory() ? folderBytes(path) : lstat(path).then((s) => s.size)).catch(
      () => 0,
    );
  }
  return total;
}

async function remove(u: Unit): Promise<boolean> {
  try {
    await rm(u.path, { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}
