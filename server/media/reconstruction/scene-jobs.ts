/**
 * Scene assets on disk and the job queue that makes them.
 *
 * Layout: `<dir>/<sceneId>/v<version>.glb`, versions 1, 2, … per scene, each file immutable
 * once written. A new version is written to a temporary name in the same folder, flushed and
 * renamed into place, so a reader sees either no file or the whole file; a job that fails
 * writes nothing and the previous version stays the scene's latest.
 *
 * Jobs run one at a time in arrival order (reconstruction is CPU-bound; two at once would only
 * share the core), each under a time limit. The queue is bounded: beyond `maxQueue` waiting
 * jobs a submission is refused (the HTTP layer answers 503), which also bounds memory, since a
 * waiting job holds its frames. Finished jobs are remembered up to `maxHistory`, oldest
 * forgotten first.
 */
import { deadline } from "../../deadline.ts";
import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { ReconstructionError } from "./errors.ts";
import type {
  BoundsM,
  ReconstructionInput,
  ReconstructionStats,
  Reconstructor,
} from "./reconstructor.ts";
import { trafficPerResolution, type TrafficReport } from "./traffic.ts";

/**
 * A scene id: 1–64 characters, letters, digits, `_` and `-` (the alphabet of Colyseus room
 * ids, which may start with `_` or `-`; a scene of a metaverse room is named by its id).
 */
export const SCENE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION_FILE = /^v([1-9][0-9]{0,8})\.glb$/;

/** One stored version of a scene. */
export interface SceneVersion {
  readonly sceneId: string;
  readonly version: number;
  /** File name inside the scene's folder, `v<version>.glb`. */
  readonly file: string;
  /** Absolute path. */
  readonly path: string;
  readonly bytes: number;
}

/** The GLB files of every scene under one folder. */
export class SceneStore {
  readonly dir: string;
  /** Latest version per scene, learnt from the folder on first use. */
  readonly #latest = new Map<string, number>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** True for a valid scene id (safe as a folder name). */
  static isSceneId(id: string): boolean {
    return SCENE_ID_PATTERN.test(id) && id !== "jobs";
  }

  /** True for a version file name (`v<n>.glb`). */
  static isVersionFile(name: string): boolean {
    return VERSION_FILE.test(name);
  }

  /** The scene's latest stored version, or null when it has none. */
  async latest(sceneId: string): Promise<SceneVersion | null> {
    const version = await this.#latestVersion(sceneId);
    if (version === 0) return null;
    const file = `v${version}.glb`;
    const path = join(this.dir, sceneId, file);
    try {
      const { size } = await stat(path);
      return { sceneId, version, file, path, bytes: size };
    } catch (err) {
      // Removed since it was learnt (retention, a deleted space): read the folder again.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      this.#latest.delete(sceneId);
      return (await this.#latestVersion(sceneId)) === 0 ? null : this.latest(sceneId);
    }
  }

  /**
   * Stores `glb` as the scene's next version (temp file, flush, rename). Not safe for two
   * concurrent writers of one scene; {@link SceneJobs} runs one job at a time.
   */
  async write(sceneId: string, glb: Uint8Array): Promise<SceneVersion> {
    if (!SceneStore.isSceneId(sceneId)) throw new RangeError(`invalid scene id "${sceneId}"`);
    const folder = join(this.dir, sceneId);
    await mkdir(folder, { recursive: true });
    const version = (await this.#latestVersion(sceneId)) + 1;
    const file = `v${version}.glb`;
    const path = join(folder, file);
    const tmp = join(folder, `.${file}.${randomUUID()}.tmp`);
    try {
      const fh = await open(tmp, "wx");
      try {
        await fh.writeFile(glb);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.#latest.set(sceneId, version);
    return { sceneId, version, file, path, bytes: glb.byteLength };
  }

  async #latestVersion(sceneId: string): Promise<number> {
    const known = this.#latest.get(sceneId);
    if (known !== undefined) return known;
    let names: string[] = [];
    try {
      names = await readdir(join(this.dir, sceneId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    let max = 0;
    for (const n of names) {
      const m = VERSION_FILE.exec(n);
      if (m) max = Math.max(max, Number(m[1]));
    }
    this.#latest.set(sceneId, max);
    return max;
  }
}

/** A job's life: queued → running → succeeded | failed. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed";

/** What a finished job made. */
export interface SceneReadyStats {
  readonly version: number;
  /** GLB size, bytes. */
  readonly bytes: number;
  readonly vertices: number;
  readonly triangles: number;
  /** Bounds in the GLB's frame (glTF: y up), metres. */
  readonly boundsM: BoundsM;
  /** Stage times of the reconstruction, ms. */
  readonly timing: ReconstructionStats;
  /** Wall time of the whole job (reconstruct + write), ms. */
  readonly jobMs: number;
  /** Backend that made it. */
  readonly backend: string;
  /** What each video rung would cost, with the asset as a one-off download. */
  readonly traffic: TrafficReport;
}

/** A job as the status endpoint shows it. */
export interface SceneJob {
  readonly id: string;
  readonly sceneId: string;
  status: JobStatus;
  /** Frames in the input (0 for an image). */
  readonly frames: number;
  readonly createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Set when succeeded: where the asset is and what it holds. */
  result?: SceneReadyStats & { readonly url: string };
  /** Set when failed. */
  error?: { readonly code: string; readonly message: string };
}

/** Called after a new version is stored (errors thrown by it are logged, not propagated). */
export type SceneReadyHook = (sceneId: string, url: string, stats: SceneReadyStats) => void;

/**
 * Where finished jobs are counted (the process's metrics); the domain defines this port and
 * the composition root passes an implementation (server/http/metrics.ts).
 */
export interface ReconstructionJobMetrics {
  /** A job ended: the backend's name, its status, wall time from start to end, s. */
  finished(backend: string, status: "succeeded" | "failed", seconds: number): void;
}

/** Options of {@link SceneJobs}. */
export interface SceneJobsOptions {
  readonly store: SceneStore;
  /** Backend for RGB-D input. */
  readonly rgbd: Reconstructor;
  /** Backend for single images (e.g. SF3D), if one is configured. */
  readonly image?: Reconstructor;
  /** Jobs waiting beyond the running one (default 4). */
  readonly maxQueue?: number;
  /** Time limit of one job, ms (default 120 000). */
  readonly jobTimeoutMs?: number;
  /** Finished jobs remembered (default 100). */
  readonly maxHistory?: number;
  /** URL path under which `<sceneId>/v<n>.glb` is served (default `/media/scenes`). */
  readonly urlPrefix?: string;
  readonly logger: Logger;
  readonly onSceneReady?: SceneReadyHook;
  readonly metrics?: ReconstructionJobMetrics;
}

/** The queue is full; try again later. */
export class QueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`reconstruction queue is full (${maxQueue} waiting)`);
    this.name = "QueueFullError";
  }
}

/** One-at-a-time reconstruction jobs writing into a {@link SceneStore}. */
export class SceneJobs {
  readonly store: SceneStore;
  readonly #o: SceneJobsOptions;
  readonly #jobs = new Map<string, SceneJob>();
  readonly #queue: { job: SceneJob; input: ReconstructionInput }[] = [];
  readonly #hooks: SceneReadyHook[] = [];
  #running: AbortController | null = null;
  #drain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: SceneJobsOptions) {
    this.#o = options;
    this.store = options.store;
    if (options.onSceneReady) this.#hooks.push(options.onSceneReady);
  }

  /** Adds a hook called after each new scene version. */
  onSceneReady(hook: SceneReadyHook): void {
    this.#hooks.push(hook);
  }

  /** True when a backend for this kind of input is configured. */
  accepts(kind: ReconstructionInput["kind"]): boolean {
    return kind === "rgbd" || this.#o.image !== undefined;
  }

  /** Jobs waiting (not counting the running one). */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Whether a job is running now. */
  get running(): boolean {
    return this.#running !== null;
  }

  /**
   * Queues a job and returns it (status `queued`).
   * @throws QueueFullError when `maxQueue` jobs are already waiting; RangeError for an
   *   invalid scene id or a closed queue
   */
  submit(sceneId: string, input: ReconstructionInput): SceneJob {
    if (this.#closed) throw new RangeError("reconstruction jobs are closed");
    if (!SceneStore.isSceneId(sceneId)) throw new RangeError(`invalid scene id "${sceneId}"`);
    const maxQueue = this.#o.maxQueue ?? 4;
    if (this.#queue.length >= maxQueue) throw new QueueFullError(maxQueue);
    const job: SceneJob = {
      id: randomUUID(),
      sceneId,
      status: "queued",
      frames: input.kind === "rgbd" ? input.frames.length : 0,
      createdAt: new Date().toISOString(),
    };
    this.#jobs.set(job.id, job);
    this.#queue.push({ job, input });
    this.#forget();
    this.#drain = this.#drain.then(() => this.#runNext());
    return job;
  }

  /** A job by id (a copy), or undefined. */
  get(id: string): SceneJob | undefined {
    const job = this.#jobs.get(id);
    return job && structuredClone(job);
  }

  /** Resolves when every job submitted so far has finished. */
  idle(): Promise<void> {
    return this.#drain;
  }

  /** Refuses new jobs, fails the waiting ones, aborts the running one and waits for it. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { job } of this.#queue.splice(0)) {
      this.#finish(job, { code: "aborted", message: "server shutting down" });
    }
    this.#running?.abort(new Error("server shutting down"));
    await this.#drain;
  }

  async #runNext(): Promise<void> {
    const next = this.#queue.shift();
    if (!next) return;
    const { job, input } = next;
    const backend = input.kind === "rgbd" ? this.#o.rgbd : this.#o.image;
    const log = this.#o.logger.child({ jobId: job.id, sceneId: job.sceneId });
    job.status = "running";
    job.startedAt = new Date().toISOString();
    const t0 = performance.now();
    const ctl = new AbortController();
    this.#running = ctl;
    const limit = deadline(this.#o.jobTimeoutMs ?? 120_000, ctl.signal);
    const signal = limit.signal;
    try {
      if (!backend) {
        throw new ReconstructionError("unsupported_input", `no backend for ${input.kind} input`);
      }
      const result = await backend.reconstruct(input, signal);
      const stored = await this.store.write(job.sceneId, result.glb);
      const prefix = (this.#o.urlPrefix ?? "/media/scenes").replace(/\/+$/, "");
      const url = `${prefix}/${encodeURIComponent(job.sceneId)}/${stored.file}`;
      const stats: SceneReadyStats = {
        version: stored.version,
        bytes: stored.bytes,
        vertices: result.vertices,
        triangles: result.triangles,
        boundsM: result.boundsM,
        timing: result.stats,
        jobMs: performance.now() - t0,
        backend: backend.name,
        traffic: trafficPerResolution(undefined, {
          assetBytes: stored.bytes,
          ...(input.kind === "rgbd" && { frames: input.frames }),
        }),
      };
      job.result = { ...stats, url };
      this.#finish(job);
      log.info(
        { url, bytes: stats.bytes, triangles: stats.triangles, jobMs: stats.jobMs },
        "scene ready",
      );
      for (const hook of this.#hooks) {
        try {
          hook(job.sceneId, url, stats);
        } catch (err) {
          log.error({ err }, "onSceneReady hook failed");
        }
      }
    } catch (err) {
      const code = err instanceof ReconstructionError ? err.code : "internal";
      const message =
        err instanceof ReconstructionError ? err.message : "reconstruction failed (see server log)";
      if (code === "internal") log.error({ err }, "reconstruction job failed");
      else log.warn({ code, message }, "reconstruction job failed");
      this.#finish(job, { code, message });
    } finally {
      limit.clear();
      this.#running = null;
      // #finish set the final status (the narrowing above still says "running").
      const status = job.status as JobStatus;
      if (status === "succeeded" || status === "failed") {
        this.#o.metrics?.finished(
          backend?.name ?? input.kind,
          status,
          (performance.now() - t0) / 1000,
        );
      }
    }
  }

  #finish(job: SceneJob, error?: { code: string; message: string }): void {
    job.status = error ? "failed" : "succeeded";
    job.finishedAt = new Date().toISOString();
    if (error) job.error = error;
  }

  /** Drops the oldest finished jobs beyond `maxHistory`. */
  #forget(): void {
    const max = this.#o.maxHistory ?? 100;
    if (this.#jobs.size <= max) return;
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size <= max) break;
      if (job.status === "succeeded" || job.status === "failed") this.#jobs.delete(id);
    }
  }
}
