/**
 * How a room's video upload goes, for the room to show (media-routes.ts, `?room=`): told
 * once per change while the clip is received and probed, queued, and transcoded, then
 * `null` when it ends or was refused.
 */
import type { Logger } from "pino";
import type { VideoPipeline } from "../media/video/pipeline.ts";
import type { VideoJob } from "../media/video/transcode.ts";

/** An upload for a room as it goes (see {@link TellUploadProgress}). */
export interface UploadProgress {
  readonly stage: "ingesting" | "transcoding";
  /** 0..1 of the transcode; 0 while receiving, queued, or before ffmpeg reports. */
  readonly progress: number;
  readonly detail: string;
}

/**
 * Where an upload for a room is: `ingesting` while the clip comes in and is probed,
 * `transcoding` once queued (progress 0) and while ffmpeg runs, then `null` when it ends or
 * was refused. `key` is stable for one upload.
 */
export type TellUploadProgress = (room: string, key: string, upload: UploadProgress | null) => void;

/** How often running jobs' progress is read for their rooms, ms. */
const PROGRESS_POLL_MS = 500;

/**
 * The uploads named for rooms and the jobs they became: tells each room how its job moves
 * on, polling the queue every {@link PROGRESS_POLL_MS} only while a room's job is under way.
 */
export class RoomUploads {
  /** Each room's job still running, by job id: the room, the upload key, the progress told last. */
  readonly #followed = new Map<string, { room: string; key: string; last: string }>();
  #poll: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly pipeline: VideoPipeline,
    private readonly logger: Logger,
    private readonly onProgress: TellUploadProgress | undefined,
  ) {}

  /** Tells `room` where its upload `key` is; a throwing listener is logged. */
  tell(room: string, key: string, upload: UploadProgress | null): void {
    try {
      this.onProgress?.(room, key, upload);
    } catch (err) {
      this.logger.error({ err, room }, "onUploadProgress threw");
    }
  }

  /** Follows the queued `job` of upload `key` for `room` until it ends. */
  follow(job: VideoJob, room: string, key: string): void {
    // Only I/O ends a job, so it is under way here; should it not be, the room just stops
    // showing the upload.
    const now = this.pipeline.queue.get(job.id);
    if (now && (now.status === "queued" || now.status === "running")) {
      this.#followed.set(job.id, { room, key, last: "" });
      this.tell(room, key, this.#progressOf(now));
      this.#watch();
    } else this.tell(room, key, null);
  }

  /** Forgets the ended `job`, telling its room; returns the room it was for, if any. */
  ended(job: VideoJob): string | undefined {
    const f = this.#followed.get(job.id);
    if (!f) return undefined;
    this.#followed.delete(job.id);
    this.tell(f.room, f.key, null);
    return f.room;
  }

  /** Stops polling and telling (on shutdown). */
  stop(): void {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = undefined;
    this.#followed.clear();
  }

  /**
   * What the room shows of a job. ffmpeg reports progress only once its encoders give out
   * their first frames, which on a large ladder takes tens of seconds: the seconds since the
   * job started say it is alive meanwhile.
   */
  #progressOf(job: VideoJob): UploadProgress {
    if (job.status === "queued") {
      const ahead = this.pipeline.queue.load();
      return {
        stage: "transcoding",
        progress: 0,
        detail: `queued (${ahead.running} running, ${ahead.queued} waiting)`,
      };
    }
    const since = job.startedAt ? Math.max(0, (Date.now() - Date.parse(job.startedAt)) / 1000) : 0;
    return {
      stage: "transcoding",
      progress: job.progress,
      detail: `${job.source.durationS.toFixed(0)} s clip, ${since.toFixed(0)} s so far`,
    };
  }

  /** Starts the poll unless it runs; it stops itself when no room's job is left. */
  #watch(): void {
    this.#poll ??= setInterval(() => this.#tick(), PROGRESS_POLL_MS);
    this.#poll.unref?.();
  }

  #tick(): void {
    for (const [jobId, f] of this.#followed) {
      const job = this.pipeline.queue.get(jobId);
      if (!job) {
        this.#followed.delete(jobId);
        continue;
      }
      const p = this.#progressOf(job);
      const last = `${p.detail}|${p.progress.toFixed(3)}`;
      if (last === f.last) continue;
      f.last = last;
      this.tell(f.room, f.key, p);
    }
    if (this.#followed.size === 0) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }
}
