/**
 * {@link SpaceStore} as one JSON file per space: `<dir>/<name>.json` (the embedded default,
 * `DATA_DIR/spaces/`). A file is written whole to a temporary name in the same folder,
 * flushed (fsync), then renamed into place — or hard-linked, for a creation that must not
 * replace an existing space — and the folder flushed, so a reader or a crash sees the old
 * record or the new one, never a mix. Changes of one space run one after another.
 */
import { randomUUID } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { KeyedSerial } from "./keyed-serial.ts";
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

const SUFFIX = ".json";

export class FileSpaceStore implements SpaceStore {
  readonly label: string;
  /** Changes of one space run one after another. */
  readonly #serial = new KeyedSerial();

  /** @param dir folder of the files (created on the first write) */
  constructor(readonly dir: string) {
    this.label = `file ${dir}`;
  }

  async get(name: string): Promise<SpaceRecord | null> {
    checkSpaceName(name);
    let text: string;
    try {
      text = await readFile(this.#path(name), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new SpaceCorruptError(name, `space ${name} is damaged: not JSON`, { cause: err });
    }
    return parseSpaceRecord(name, raw);
  }

  async list(onCorrupt?: (err: SpaceCorruptError) => void): Promise<SpaceRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const spaces = names.map((file) =>
      file.endsWith(SUFFIX) ? file.slice(0, -SUFFIX.length) : "",
    );
    return readSpaces(spaces, (name) => this.get(name), onCorrupt);
  }

  async create(
    name: string,
    scene: SpaceScene = EMPTY_SPACE_SCENE,
    now = new Date(),
  ): Promise<SpaceRecord | null> {
    checkSpaceName(name);
    return this.#serial.run(name, async () => {
      const at = now.toISOString();
      const record: SpaceRecord = { name, created: at, updated: at, scene };
      const tmp = await this.#writeTemp(name, record);
      try {
        // link() fails when the name exists: creation never replaces a space.
        await link(tmp, this.#path(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return null;
        throw err;
      } finally {
        await rm(tmp, { force: true });
      }
      await this.#syncDir();
      return record;
    });
  }

  async update(name: string, scene: SpaceScene, now = new Date()): Promise<SpaceRecord | null> {
    checkSpaceName(name);
    return this.#serial.run(name, async () => {
      let created: string;
      try {
        const old = await this.get(name);
        if (!old) return null;
        created = old.created;
      } catch (err) {
        // A damaged record is replaced by a good one (its creation time is lost).
        if (!(err instanceof SpaceCorruptError)) throw err;
        created = now.toISOString();
      }
      const record: SpaceRecord = { name, created, updated: now.toISOString(), scene };
      const tmp = await this.#writeTemp(name, record);
      try {
        await rename(tmp, this.#path(name));
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      await this.#syncDir();
      return record;
    });
  }

  async delete(name: string): Promise<boolean> {
    checkSpaceName(name);
    return this.#serial.run(name, async () => {
      try {
        await rm(this.#path(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw err;
      }
      await this.#syncDir();
      return true;
    });
  }

  async close(): Promise<void> {
    await this.#serial.idle();
  }

  #path(name: string): string {
    return join(this.dir, `${name}${SUFFIX}`);
  }

  /** Writes `record` to a new temporary file in the folder, flushed; returns its path. */
  async #writeTemp(name: string, record: SpaceRecord): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${name}.${randomUUID()}.tmp`);
    try {
      const fh = await open(tmp, "wx");
      try {
        await fh.writeFile(`${JSON.stringify(record, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return tmp;
  }

  /** Flushes the folder, so a rename or removal survives a power cut. */
  async #syncDir(): Promise<void> {
    const fh = await open(this.dir, "r");
    try {
      await fh.sync();
    } catch (err) {
      // Some file systems cannot fsync a folder; the rename itself is still atomic.
      if ((err as NodeJS.ErrnoException).code !== "EINVAL") throw err;
    } finally {
      await fh.close();
    }
  }
}
