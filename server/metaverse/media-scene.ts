/**
 * What uploaded media does to a metaverse room's scene (live-scene.ts is the same for live
 * camera streams): an upload or a reconstruction in progress shows in the scene's job list
 * with its progress; a finished clip becomes the room's stream and a finished
 * reconstruction its 3D asset; a failed job leaves the previous stream or asset in place and
 * says why in `scene.error` (a scene with neither has failed).
 *
 * The composition root hands these hooks to the HTTP media routes, which name the room
 * (`POST /media/video?room=<id>`, `POST /media/scenes?sceneId=<id>`); a room that has gone
 * meanwhile is skipped.
 */
import type { SceneJob, SceneReadyHook } from "../media/reconstruction/scene-jobs.ts";
import type { MetaverseSession, SceneJobView } from "./metaverse-session.ts";

/** What the hooks use of a room's session. */
export type MediaSceneTarget = Pick<MetaverseSession, "scene" | "setScene" | "setJob">;

/** An upload for a room as it goes: being received and probed, or transcoding. */
export interface UploadStage {
  readonly stage: "ingesting" | "transcoding";
  /** 0..1 of the transcode; 0 while receiving, queued, or before ffmpeg reports. */
  readonly progress: number;
  readonly detail: string;
}

/** A transcode job that ended, as much of it as the scene needs. */
export interface EndedClip {
  readonly id: string;
  readonly status: string;
  /** Master playlist URL (succeeded jobs), else null. */
  readonly streamUrl: string | null;
  readonly error: { readonly message: string } | null;
  /** Lowest first (succeeded jobs), else []. */
  readonly renditions: readonly {
    readonly name: string;
    /** Measured peak bitrate (HLS BANDWIDTH), bit/s. */
    readonly bandwidthBps: number;
    readonly playlistUrl: string;
    readonly mp4Url: string | null;
  }[];
}

/** The hooks, grouped by the routes that take them (media-routes.ts, reconstruction-routes.ts). */
export interface MediaSceneHooks {
  readonly video: {
    /** An upload for `room` moved on (`null`: it ended or was refused). `key` is per upload. */
    onUploadProgress(room: string, key: string, upload: UploadStage | null): void;
    /** A transcode job ended; `room` is the one its upload named, if any. */
    onJobDone(clip: EndedClip, room: string | undefined): void;
  };
  readonly reconstruction: {
    /** A new version of scene `sceneId` (a metaverse room id) is stored at `url`. */
    onSceneReady: SceneReadyHook;
    /** A reconstruction job's status changed. */
    onJobChange(job: SceneJob): void;
  };
}

/**
 * Hooks that show media jobs in the scenes of `sessions`: metaverse rooms by the target an
 * upload names (a room id, or a space name: space-scenes.ts).
 */
export function mediaSceneHooks(
  sessions: Pick<ReadonlyMap<string, MediaSceneTarget>, "get">,
): MediaSceneHooks {
  return {
    video: {
      onUploadProgress(room, key, upload) {
        const view: SceneJobView | null = upload && {
          status: upload.stage,
          progress: upload.progress,
          detail: upload.detail,
        };
        sessions.get(room)?.setJob(key, view);
      },
      onJobDone(clip, room) {
        const session = room === undefined ? undefined : sessions.get(room);
        if (!session) return;
        if (clip.status === "succeeded" && clip.streamUrl) {
          session.setScene({
            streamUrl: clip.streamUrl,
            video: clip.renditions.map((r) => ({
              name: r.name,
              bitrateBps: r.bandwidthBps,
              playlistUrl: r.playlistUrl,
              ...(r.mp4Url && { mp4Url: r.mp4Url }),
            })),
            status: "ready",
            error: "",
          });
          return;
        }
        const sc = session.scene;
        session.setScene({
          error: `video job ${clip.id} ${clip.status}: ${clip.error?.message ?? ""}`,
          // The previous stream or asset stays; a scene with neither has failed.
          ...(!sc.streamUrl && !sc.assetUrl && { status: "failed" }),
        });
      },
    },
    reconstruction: {
      onSceneReady(sceneId, url, stats) {
        sessions.get(sceneId)?.setScene({ assetUrl: url, assetBytes: stats.bytes });
      },
      onJobChange(job) {
        const session = sessions.get(job.sceneId);
        if (!session) return;
        const key = `scene:${job.id}`;
        if (job.status === "queued" || job.status === "running") {
          const what = job.frames > 0 ? `${job.frames} RGB-D frames` : "one image";
          const detail = job.status === "queued" ? `queued, ${what}` : what;
          session.setJob(key, { status: "reconstructing", progress: 0, detail });
          return;
        }
        session.setJob(key, null);
        if (job.status === "failed") {
          session.setScene({
            error: `reconstruction ${job.id} failed: ${job.error?.message ?? ""}`,
          });
        }
      },
    },
  };
}
