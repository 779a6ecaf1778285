/**
 * What a live camera stream does to a metaverse room's scene: while it is live the room
 * plays it (renditions at their configured bitrates, since a live stream has no measured
 * peak yet); when it ends the room goes back to the stream it had before — unless something
 * else (a finished clip) replaced the live stream meanwhile — and a failure is shown in
 * `scene.error`.
 */
import type { MetaverseSession, SceneRendition } from "./metaverse-session.ts";

/** A rendition of a live stream as a room sees it. */
export interface LiveRendition {
  name: string;
  width: number;
  height: number;
  /** Nominal (configured) bitrate, bit/s: a live stream has no measured peak yet. */
  bitrateBps: number;
  playlistUrl: string;
}

/** What the live ingest tells the rooms. */
export interface LiveSceneHooks {
  /** A room's live stream has its first frame and is being written. */
  onLive(
    roomId: string,
    live: { streamId: string; streamUrl: string; renditions: LiveRendition[] },
  ): void;
  /** A room's live stream ended (`error` set when ffmpeg failed). */
  onEnded(roomId: string, streamId: string, reason: string, error: string | null): void;
}

/** What the hooks use of a room's session. */
export type LiveSceneTarget = Pick<MetaverseSession, "scene" | "video" | "setScene">;

interface Saved {
  streamId: string;
  /** The live stream's master playlist URL. */
  liveUrl: string;
  streamUrl: string;
  status: string;
  video: readonly SceneRendition[];
}

export function liveSceneHooks(sessions: ReadonlyMap<string, LiveSceneTarget>): LiveSceneHooks {
  /** Room id → the scene it had before going live. */
  const before = new Map<string, Saved>();
  return {
    onLive(roomId, live) {
      const session = sessions.get(roomId);
      if (!session) return;
      before.set(roomId, {
        streamId: live.streamId,
        liveUrl: live.streamUrl,
        streamUrl: session.scene.streamUrl,
        status: session.scene.status,
        video: session.video(),
      });
      session.setScene({
        streamUrl: live.streamUrl,
        video: live.renditions.map((r) => ({
          name: r.name,
          bitrateBps: r.bitrateBps,
          playlistUrl: r.playlistUrl,
        })),
        status: "live",
        error: "",
      });
    },
    onEnded(roomId, streamId, reason, error) {
      const saved = before.get(roomId);
      if (!saved || saved.streamId !== streamId) return;
      before.delete(roomId);
      const session = sessions.get(roomId);
      if (!session || session.scene.streamUrl !== saved.liveUrl) return;
      session.setScene({
        streamUrl: saved.streamUrl,
        video: saved.video,
        status: saved.status,
        error: error ? `live stream ${streamId} failed (${reason}): ${error}` : "",
      });
    },
  };
}
