/**
 * Free disk space checks: uploads and new recordings are refused (HTTP 507 Insufficient
 * Storage, or no recording with a warning) when the file system holding their folder has
 * less than the configured minimum free.
 */
import { mkdir, statfs } from "node:fs/promises";

/** Bytes available to this process on the file system holding `dir` (created if missing). */
export async function freeBytes(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Whether `dir` has at least `minFreeBytes` free (plus `needBytes` when the size is known).
 * A file system that cannot be asked (statfs fails) counts as having room: the write itself
 * will then fail and say why.
 */
export async function hasRoom(dir: string, minFreeBytes: number, needBytes = 0): Promise<boolean> {
  if (minFreeBytes <= 0 && needBytes <= 0) return true;
  try {
    return (await freeBytes(dir)) >= minFreeBytes + needBytes;
  } catch {
    return true;
  }
}
