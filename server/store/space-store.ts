/**
 * Spaces: named metaverse scenes that outlive their rooms. A space holds what a room's scene
 * was made of — the transcoded stream with its renditions, the reconstructed 3D asset and the
 * scene's version — so that a room created later under the same name starts from it instead
 * of idle. The media files themselves stay where the pipelines wrote them (`DATA_DIR/media`);
 * a space names them by URL.
 *
 * Two implementations of {@link SpaceStore}: one JSON file per space under
 * `DATA_DIR/spaces/` (space-store-file.ts) and one Redis hash per space when the server is
 * scaled out with `REDIS_URL` (space-store-redis.ts). Both validate what they read with the
 * schemas here, so a damaged record is reported, never half-used.
 */
import { z } from "zod";

/** A space name: 1–64 letters, digits, `_` and `-` (safe as a file name and a Redis key). */
export const SPACE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** True when `name` is a valid space name. */
export function isSpaceName(name: unknown): name is string {
  return typeof name === "string" && SPACE_NAME_PATTERN.test(name);
}

/** The message a bad name is refused with (HTTP 400, room creation 400). */
export const SPACE_NAME_RULE = "a space name is 1–64 characters: letters, digits, _ and -";

const Url = z.string().max(2048);

/** One rendition of a space's stream, as the video pipeline measured it. */
export const SpaceRendition = z.strictObject({
  name: z.string().min(1).max(64),
  /** Measured peak bitrate (HLS BANDWIDTH), bit/s. */
  bitrateBps: z.number().nonnegative(),
  playlistUrl: Url,
  /** The rendition as one progressive MP4, when the pipeline made one. */
  mp4Url: Url.optional(),
});
export type SpaceRendition = z.infer<typeof SpaceRendition>;

/** What a space keeps of a scene (a live stream is never kept: it ends with its camera). */
export const SpaceScene = z.strictObject({
  /** The scene's version when it was last stored (rooms count on from it). */
  version: z.number().int().nonnegative(),
  /** Master playlist of the stream, or "". */
  streamUrl: Url,
  /** The stream's renditions, lowest bitrate first ([] without a stream). */
  renditions: z.array(SpaceRendition).max(32),
  /** The reconstructed GLB, or "". */
  assetUrl: Url,
  /** Its size, bytes (0 without one). */
  assetBytes: z.number().int().nonnegative(),
});
export type SpaceScene = z.infer<typeof SpaceScene>;

/** A space as stored. */
export const SpaceRecord = z.strictObject({
  name: z.string().regex(SPACE_NAME_PATTERN),
  /** ISO 8601 (UTC). */
  created: z.iso.datetime(),
  /** ISO 8601 (UTC): the last change of its scene. */
  updated: z.iso.datetime(),
  scene: SpaceScene,
});
export type SpaceRecord = z.infer<typeof SpaceRecord>;

/** The scene of a new space: nothing to show yet. */
export const EMPTY_SPACE_SCENE: SpaceScene = {
  version: 0,
  streamUrl: "",
  renditions: [],
  assetUrl: "",
  assetBytes: 0,
};

/** A stored space that fails its schema (a damaged file, a foreign Redis value). */
export class SpaceCorruptError extends Error {
  constructor(
    readonly space: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SpaceCorruptError";
  }
}

/** Where spaces are kept. Every method validates the name first (RangeError when bad). */
export interface SpaceStore {
  /** `file <dir>` or `redis <url>`, for logs. */
  readonly label: string;
  /** The space, or null when there is none. @throws SpaceCorruptError when damaged */
  get(name: string): Promise<SpaceRecord | null>;
  /**
   * Every readable space, by name. A damaged one is passed to `onCorrupt` and left out
   * (the listing never fails because of one bad record).
   */
  list(onCorrupt?: (err: SpaceCorruptError) => void): Promise<SpaceRecord[]>;
  /**
   * Creates the space with `scene` unless one of that name exists (atomic).
   * @returns the new record, or null when the name was taken
   */
  create(name: string, scene?: SpaceScene, now?: Date): Promise<SpaceRecord | null>;
  /**
   * Replaces the scene of an existing space (keeps `created`); a deleted space stays deleted.
   * @returns the stored record, or null when there is no such space
   */
  update(name: string, scene: SpaceScene, now?: Date): Promise<SpaceRecord | null>;
  /** Removes the space. @returns whether there was one */
  delete(name: string): Promise<boolean>;
  /** Releases connections (Redis); the store is not used afterwards. */
  close(): Promise<void>;
}

/** @throws RangeError when `name` is not a space name */
export function checkSpaceName(name: string): void {
  if (!SPACE_NAME_PATTERN.test(name)) {
    throw new RangeError(`${SPACE_NAME_RULE} (got "${name.slice(0, 80)}")`);
  }
}

/** A record validated against {@link SpaceRecord}. @throws SpaceCorruptError */
export function parseSpaceRecord(name: string, raw: unknown): SpaceRecord {
  const parsed = SpaceRecord.safeParse(raw);
  if (!parsed.success) {
    throw new SpaceCorruptError(
      name,
      `space ${name} is damaged: ${parsed.error.issues[0]?.path.join(".") ?? ""} ${parsed.error.issues[0]?.message ?? ""}`.trim(),
      { cause: parsed.error },
    );
  }
  if (parsed.data.name !== name) {
    throw new SpaceCorruptError(
      name,
      `space ${name} is stored under another name (${parsed.data.name})`,
    );
  }
  return parsed.data;
}

/**
 * The spaces `names` name, by name, for {@link SpaceStore.list}: names that are no space
 * names (temporary files, foreign keys) and repeats are skipped, a space gone meanwhile is
 * left out, and a damaged one is passed to `onCorrupt` and left out.
 */
export async function readSpaces(
  names: Iterable<string>,
  get: (name: string) => Promise<SpaceRecord | null>,
  onCorrupt?: (err: SpaceCorruptError) => void,
): Promise<SpaceRecord[]> {
  const out: SpaceRecord[] = [];
  for (const name of [...new Set(names)].filter(isSpaceName).sort()) {
    try {
      const record = await get(name);
      if (record) out.push(record);
    } catch (err) {
      if (!(err instanceof SpaceCorruptError)) throw err;
      onCorrupt?.(err);
    }
  }
  return out;
}
