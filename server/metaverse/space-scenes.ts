/**
 * Metaverse rooms bound to spaces (server/store/space-store.ts): a room created with the join
 * option `space: "<name>"` opens that space — its stored scene (stream, renditions, asset,
 * version) is restored into the room's session instead of starting idle — and what uploads
 * then make of the scene (a finished clip, a new reconstruction) is stored back, so it is
 * there again when the last viewer has left, the room is gone and someone rejoins the name.
 *
 * Uploads name their target as before (`?room=`, `?sceneId=`): a room id of this process, or
 * a space name (with or without a room open on it). A clip or an asset for a room that has a
 * space is stored in that space too. A live camera stream is never stored: it ends with its
 * camera (live-scene.ts puts the stored stream back afterwards).
 *
 * Deleting a space removes its record and its media files (the stream folder, the scene's
 * GLB folder). A room open on it is told through its scene — the scene goes back to idle
 * with `error` saying the space was deleted — and stays on the name: an upload to it
 * afterwards starts the space afresh.
 *
 * Scaled out, the processes tell each other (through Colyseus's Redis presence, the
 * {@link SpaceNews} port) when a space's scene was stored or the space deleted, so a room open
 * on it in another process shows the new scene, or goes idle, too.
 */
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { SceneStore } from "../media/reconstruction/scene-jobs.ts";
import { KeyedSerial } from "../store/keyed-serial.ts";
import {
  EMPTY_SPACE_SCENE,
  isSpaceName,
  SPACE_NAME_PATTERN,
  SPACE_NAME_RULE,
  type SpaceRecord,
  type SpaceScene,
  type SpaceStore,
} from "../store/space-store.ts";
import type { EndedClip, MediaSceneHooks } from "./media-scene.ts";
import type { MetaverseSession } from "./metaverse-session.ts";

/** What spaces (and the media hooks they resolve targets for) use of a room's session. */
export type SpaceSession = Pick<MetaverseSession, "scene" | "video" | "setScene" | "setJob">;

/** Why a room may not open a space; `status` is the HTTP-like code for the client. */
export class SpaceRefusal extends Error {
  constructor(
    readonly status: 400 | 403 | 500,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SpaceRefusal";
  }
}

/** Publish/subscribe between processes (Colyseus's presence has this shape). */
export interface SpaceNews {
  publish(topic: string, data: unknown): unknown;
  subscribe(topic: string, callback: (data: unknown) => void): unknown;
  unsubscribe(topic: string, callback?: (data: unknown) => void): unknown;
}

/** The topic of {@link SpaceNewsMessage}s. */
export const SPACE_NEWS_TOPIC = "agenttwin:spaces";

/** What one process tells the others: a space's scene was stored, or the space deleted. */
const SpaceNewsMessage = z.strictObject({
  kind: z.enum(["updated", "deleted"]),
  name: z.string().regex(SPACE_NAME_PATTERN),
  /** The process that made the change (it has applied it already). */
  origin: z.string(),
});

export interface SpaceScenesDeps {
  store: SpaceStore;
  /** Metaverse sessions of this process by room id. */
  sessions: ReadonlyMap<string, SpaceSession>;
  /** Folder of the finished streams (`<mediaDir>/video`, one folder per stream id). */
  streamsDir: string;
  /** Folder of the reconstructed scenes (`<dir>/<sceneId>/v<n>.glb`). */
  scenesDir: string;
  logger: Logger;
  /** Other processes, when scaled out (none: this process is alone). */
  news?: SpaceNews;
}

/** `/media/<video|scenes>/<stream or scene id>/<rest>` in a stored stream or asset URL. */
const MEDIA_IN_URL = /\/media\/(video|scenes)\/([A-Za-z0-9_-]{1,64})\/(.*)$/;

export class SpaceScenes {
  readonly #d: SpaceScenesDeps;
  /** Room id → the space it opened. */
  readonly #spaceOf = new Map<string, string>();
  /** One read-change-write (or delete) of a space at a time. */
  readonly #serial = new KeyedSerial();
  /** This process in {@link SpaceNewsMessage}s. */
  readonly #origin = randomUUID();
  readonly #onNews = (data: unknown) => void this.#heard(data);

  constructor(deps: SpaceScenesDeps) {
    this.#d = deps;
    deps.news?.subscribe(SPACE_NEWS_TOPIC, this.#onNews);
  }

  /** Stops listening to other processes. */
  close(): void {
    this.#d.news?.unsubscribe(SPACE_NEWS_TOPIC, this.#onNews);
  }

  get store(): SpaceStore {
    return this.#d.store;
  }

  /**
   * The space a new room asks for (join option `space`), created when it does not exist yet
   * and `mayCreate` (an operator asked).
   * @throws SpaceRefusal 400 for a bad name, 403 for a new space without `mayCreate`, 500
   *   when the stored space is damaged or the store fails
   */
  async open(space: unknown, mayCreate: boolean): Promise<SpaceRecord> {
    if (!isSpaceName(space)) throw new SpaceRefusal(400, `space: ${SPACE_NAME_RULE}`);
    try {
      const found = await this.#d.store.get(space);
      if (found) return found;
      if (!mayCreate) {
        throw new SpaceRefusal(
          403,
          `there is no space ${space}; creating one needs the operator role`,
        );
      }
      // Another process may have created it meanwhile: then that one is opened.
      return (await this.#d.store.create(space)) ?? (await this.#d.store.get(space)) ?? fail();
    } catch (err) {
      if (err instanceof SpaceRefusal) throw err;
      this.#d.logger.error({ err, space }, "opening a space failed");
      throw new SpaceRefusal(500, `space ${space} cannot be opened: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Binds room `roomId` to `record`'s space and restores the stored scene into `session`. */
  attach(roomId: string, record: SpaceRecord, session: SpaceSession): void {
    this.#spaceOf.set(roomId, record.name);
    restoreScene(session, record.scene);
    this.#d.logger.info(
      { roomId, space: record.name, version: record.scene.version },
      "room opened its space",
    );
  }

  /** The room has gone; its space stays. */
  detach(roomId: string): void {
    this.#spaceOf.delete(roomId);
  }

  /** The space room `roomId` opened, if any. */
  spaceOf(roomId: string): string | undefined {
    return this.#spaceOf.get(roomId);
  }

  /** The session an upload's target names: a room id, or a space with a room open here. */
  session(target: string): SpaceSession | undefined {
    const direct = this.#d.sessions.get(target);
    if (direct) return direct;
    for (const [roomId, space] of this.#spaceOf) {
      if (space === target) return this.#d.sessions.get(roomId);
    }
    return undefined;
  }

  /** Whether uploads may name `target`: a room of this process, or a stored space. */
  async exists(target: string): Promise<boolean> {
    if (this.session(target)) return true;
    if (!isSpaceName(target)) return false;
    return (await this.#d.store.get(target).catch(() => null)) !== null;
  }

  /** Stores a finished clip as the stream of the space `target` names (if it names one). */
  recordStream(target: string | undefined, clip: EndedClip): Promise<void> {
    if (target === undefined || clip.status !== "succeeded" || !clip.streamUrl) {
      return Promise.resolve();
    }
    const streamUrl = clip.streamUrl;
    return this.#change(target, (scene) => ({
      ...scene,
      streamUrl,
      renditions: [...clip.renditions]
        .sort((a, b) => a.bandwidthBps - b.bandwidthBps)
        .map((r) => ({
          name: r.name,
          bitrateBps: r.bandwidthBps,
          playlistUrl: r.playlistUrl,
          ...(r.mp4Url && { mp4Url: r.mp4Url }),
        })),
    }));
  }

  /** Stores a new reconstruction as the asset of the space `target` names (if it does). */
  recordAsset(target: string, assetUrl: string, assetBytes: number): Promise<void> {
    return this.#change(target, (scene) => ({ ...scene, assetUrl, assetBytes }));
  }

  /**
   * Deletes space `name` and its media; rooms open on it here go back to idle.
   * @returns false when there was no such space
   */
  remove(name: string): Promise<boolean> {
    return this.#serial.run(name, async () => {
      const record = await this.#d.store.get(name).catch(() => null);
      if (!(await this.#d.store.delete(name))) return false;
      if (record) await this.#removeMedia(record);
      this.#idle(name);
      this.#tell("deleted", name);
      this.#d.logger.info({ space: name }, "space deleted");
      return true;
    });
  }

  /** Rooms open on deleted space `name` here go back to idle and say why. */
  #idle(name: string): void {
    for (const session of this.#sessionsOn(name)) {
      session.setScene({
        streamUrl: "",
        video: [],
        assetUrl: "",
        assetBytes: 0,
        status: "idle",
        error: `space ${name} was deleted`,
      });
    }
  }

  #sessionsOn(name: string): SpaceSession[] {
    const out: SpaceSession[] = [];
    for (const [roomId, space] of this.#spaceOf) {
      const session = space === name ? this.#d.sessions.get(roomId) : undefined;
      if (session) out.push(session);
    }
    return out;
  }

  #tell(kind: "updated" | "deleted", name: string): void {
    try {
      this.#d.news?.publish(SPACE_NEWS_TOPIC, { kind, name, origin: this.#origin });
    } catch (err) {
      this.#d.logger.warn({ err, space: name }, "telling the other processes failed");
    }
  }

  /** Another process stored a space's scene or deleted the space: rooms here follow. */
  async #heard(data: unknown): Promise<void> {
    const news = SpaceNewsMessage.safeParse(data);
    if (!news.success || news.data.origin === this.#origin) return;
    const { kind, name } = news.data;
    const sessions = this.#sessionsOn(name);
    if (sessions.length === 0) return;
    if (kind === "deleted") return this.#idle(name);
    try {
      const record = await this.#d.store.get(name);
      if (record) for (const session of this.#sessionsOn(name)) restoreScene(session, record.scene);
    } catch (err) {
      this.#d.logger.error({ err, space: name }, "reading a space another process stored failed");
    }
  }

  /**
   * Applies `edit` to the stored scene of the space `target` names — the space itself, or
   * the space of the room `target` — and stores it with the room's scene version. A space
   * deleted while its room stays open is created again by the change.
   */
  #change(target: string, edit: (scene: SpaceScene) => SpaceScene): Promise<void> {
    const roomSpace = this.#spaceOf.get(target);
    const space = roomSpace ?? (isSpaceName(target) ? target : undefined);
    if (space === undefined) return Promise.resolve();
    const session = this.session(roomSpace ? target : space);
    const write = async () => {
      const old = await this.#d.store.get(space);
      // An upload for a space nobody stored (a plain scene id) is not a space.
      if (!old && !session) return;
      const base = old?.scene ?? EMPTY_SPACE_SCENE;
      const scene = {
        ...edit(base),
        version: Math.max(base.version + 1, session?.scene.version ?? 0),
      };
      const stored =
        (await this.#d.store.update(space, scene)) ?? (await this.#d.store.create(space, scene));
      if (!stored) return;
      this.#d.logger.info({ space, version: scene.version }, "space scene stored");
      this.#tell("updated", space);
    };
    return this.#serial.run(space, write).catch((err: unknown) => {
      this.#d.logger.error({ err, space }, "storing a space's scene failed");
    });
  }

  /**
   * Absolute paths of the media stored spaces show (stream folders, model files), for
   * retention to keep. A damaged space record is logged and left out.
   * @throws when the store cannot be listed (retention then deletes nothing)
   */
  async mediaInUse(): Promise<string[]> {
    const records = await this.#d.store.list((err) =>
      this.#d.logger.warn({ err, space: err.space }, "a damaged space's media is not kept"),
    );
    const paths: string[] = [];
    for (const r of records) {
      const { stream, model } = this.#mediaOf(r.scene);
      if (stream) paths.push(stream);
      if (model) paths.push(model);
    }
    return paths;
  }

  /**
   * Where the media a stored scene shows lie: the stream's folder, and the model file with
   * its scene's folder (each when the URL names one of this server's media).
   */
  #mediaOf(scene: SpaceScene): { stream?: string; sceneDir?: string; model?: string } {
    const stream = MEDIA_IN_URL.exec(scene.streamUrl);
    const asset = MEDIA_IN_URL.exec(scene.assetUrl);
    const out: { stream?: string; sceneDir?: string; model?: string } = {};
    if (stream?.[1] === "video") out.stream = join(this.#d.streamsDir, stream[2]!);
    if (asset?.[1] === "scenes" && SceneStore.isVersionFile(asset[3]!)) {
      out.sceneDir = join(this.#d.scenesDir, asset[2]!);
      out.model = join(out.sceneDir, asset[3]!);
    }
    return out;
  }

  async #removeMedia(record: SpaceRecord): Promise<void> {
    const { stream, sceneDir } = this.#mediaOf(record.scene);
    const paths = [stream, sceneDir].filter((p) => p !== undefined);
    for (const path of paths) {
      await rm(path, { recursive: true, force: true }).catch((err: unknown) =>
        this.#d.logger.error({ err, path }, "removing a deleted space's media failed"),
      );
    }
  }
}

/**
 * `hooks` (media-scene.ts, which show media jobs in a room's scene) plus storing what they
 * show in the space their target belongs to.
 */
export function withSpaces(hooks: MediaSceneHooks, spaces: SpaceScenes): MediaSceneHooks {
  return {
    video: {
      onUploadProgress: hooks.video.onUploadProgress,
      onJobDone(clip, room) {
        hooks.video.onJobDone(clip, room);
        void spaces.recordStream(room, clip);
      },
    },
    reconstruction: {
      onSceneReady(sceneId, url, stats) {
        hooks.reconstruction.onSceneReady(sceneId, url, stats);
        void spaces.recordAsset(sceneId, url, stats.bytes);
      },
      onJobChange: hooks.reconstruction.onJobChange,
    },
  };
}

/**
 * Puts a stored scene into a fresh session: the stream with its measured renditions, the
 * asset, and the version it had (so clients that cached version n see the same n).
 */
export function restoreScene(session: SpaceSession, scene: SpaceScene): void {
  const has = scene.streamUrl !== "" || scene.assetUrl !== "";
  if (has) {
    session.setScene({
      streamUrl: scene.streamUrl,
      video: scene.renditions,
      assetUrl: scene.assetUrl,
      assetBytes: scene.assetBytes,
      status: "ready",
      error: "",
    });
  }
  session.scene.version = Math.max(session.scene.version, scene.version);
}

function fail(): never {
  throw new Error("the space was created and deleted at once");
}
