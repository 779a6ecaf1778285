/**
 * Live camera video over socket.io (namespace `/ingest`, path `/socket.io`): an operator's
 * capture app streams JPEG frames that become a metaverse room's live 360° HLS ladder.
 *
 * Protocol (every reply is an acknowledgement; errors are `{ ok: false, error: { code,
 * message } }` with the codes of the HTTP API):
 *  - connect with `auth: { token }` (an operator's join token; others get `connect_error`);
 *  - `start` `{ room, fps?, timestamps? }` → `{ ok, streamId, streamUrl, renditions }`: the
 *    room's scene switches to the live stream once ffmpeg has the first frame's size;
 *  - `frame` (binary JPEG, one per message) → `{ ok, result }`, `result` being `written`,
 *    `dropped` (ffmpeg still busy with the previous frame: back-pressure, nothing queued)
 *    or `rejected` (not a JPEG, too large); the ack is optional, a sender at camera rate
 *    may fire and forget;
 *  - `stop` → `{ ok, stats }`; a disconnect or `VIDEO_LIVE_IDLE_S` without frames stops it
 *    too. Whenever the stream ends the socket gets `ended` `{ streamId, reason, stats }`
 *    and the room goes back to the scene it had before.
 * One live stream per socket and per room.
 */
import type { Logger } from "pino";
import type { Server as IoServer, Socket } from "socket.io";
import { z } from "zod";
import type { TokenService } from "../auth/tokens.ts";
import type { LiveRendition, LiveSceneHooks } from "../metaverse/live-scene.ts";
import type { LiveIngest, LiveStats, LiveStreamInfo } from "../media/video/live-ingest.ts";
import type { VideoPipeline } from "../media/video/pipeline.ts";
import { VideoError } from "../media/video/errors.ts";
import { type Reply, replyOf, requireToken, RoomId } from "./socket-io.ts";

export const LIVE_NAMESPACE = "/ingest";

const Start = z.strictObject({
  room: RoomId,
  /** Output frame rate, frames/s. */
  fps: z.number().min(1).max(60).optional(),
  timestamps: z.enum(["wallclock", "sequence"]).optional(),
});

export interface LiveIngestStreamDeps extends LiveSceneHooks {
  tokens: TokenService;
  /** The video pipeline, or null with `videoOff` saying why. */
  pipeline: VideoPipeline | null;
  videoOff: string;
  logger: Logger;
  roomExists(roomId: string): boolean;
}

const fail = (reply: Reply, code: string, message: string) =>
  reply({ ok: false, error: { code, message } });

export function attachLiveIngest(io: IoServer, deps: LiveIngestStreamDeps): void {
  const ns = io.of(LIVE_NAMESPACE);
  requireToken(ns, deps.tokens, ["operator"]);
  /** Room id → the socket streaming into it. */
  const liveRooms = new Map<string, string>();

  ns.on("connection", (socket: Socket) => {
    let live: { ingest: LiveIngest; info: LiveStreamInfo; announce: () => void } | null = null;
    /** True while a `start` awaits its folders, so a second `start` cannot slip in. */
    let starting = false;
    const log = deps.logger.child({ component: "live-ingest", socket: socket.id });

    socket.on("start", async (payload: unknown, ack?: unknown) => {
      const reply = replyOf(ack);
      const parsed = Start.safeParse(payload);
      if (!parsed.success) {
        return fail(
          reply,
          "invalid_message",
          `start needs { room, fps?, timestamps? }: ${parsed.error.issues[0]?.message ?? ""}`,
        );
      }
      const { room, fps, timestamps } = parsed.data;
      if (!deps.pipeline) return fail(reply, "video_off", deps.videoOff);
      if (live || starting) return fail(reply, "conflict", "this socket already streams");
      if (!deps.roomExists(room))
        return fail(reply, "unknown_room", `no metaverse room "${room}" here`);
      if (liveRooms.has(room)) return fail(reply, "conflict", `room ${room} is already live`);
      liveRooms.set(room, socket.id);
      starting = true;
      const ingest = deps.pipeline.createLiveIngest();
      let info: LiveStreamInfo;
      try {
        info = await ingest.start({
          ...(fps !== undefined && { fps }),
          ...(timestamps !== undefined && { timestamps }),
        });
      } catch (err) {
        liveRooms.delete(room);
        // Releases it from the pipeline's list of live streams (its folder, if any, is not
        // touched: it may not be this stream's).
        void ingest.stop({ reason: "did not start" });
        log.error({ err }, "live stream did not start");
        return fail(
          reply,
          err instanceof VideoError ? err.code : "internal",
          "could not start the live stream",
        );
      } finally {
        starting = false;
      }
      if (!socket.connected) {
        liveRooms.delete(room);
        await ingest.stop({ reason: "sender disconnected", removeFiles: true });
        return;
      }
      const base = `/media/live/${info.streamId}`;
      const renditions: LiveRendition[] = info.renditions.map((r) => ({
        name: r.name,
        width: r.width,
        height: r.height,
        bitrateBps: r.bitrateBps,
        playlistUrl: `${base}/${r.playlist}`,
      }));
      const streamUrl = `${base}/${info.master}`;
      // The room switches once ffmpeg has taken the first frame (its size fixes the
      // projection); until then headsets keep the scene they have.
      let announced = false;
      const announce = () => {
        if (announced) return;
        announced = true;
        deps.onLive(room, { streamId: info.streamId, streamUrl, renditions });
      };
      live = { ingest, info, announce };
      ingest.onEnd((stats: LiveStats, error) => {
        if (liveRooms.get(room) === socket.id) liveRooms.delete(room);
        if (live?.ingest === ingest) live = null;
        const reason = stats.endReason ?? (error ? "failed" : "stop");
        if (announced) deps.onEnded(room, info.streamId, reason, error?.message ?? null);
        socket.emit("ended", { streamId: info.streamId, reason, stats });
        log.info({ room, reason, ...stats }, "live stream ended");
      });
      log.info({ room, streamId: info.streamId }, "live stream started");
      reply({ ok: true, streamId: info.streamId, streamUrl, renditions });
    });

    socket.on("frame", (frame: unknown, ack?: unknown) => {
      const reply = replyOf(ack);
      if (!live) return fail(reply, "not_started", "send start before frames");
      if (!Buffer.isBuffer(frame))
        return fail(reply, "invalid_frame", "a frame is one binary JPEG");
      const result = live.ingest.pushFrame(frame);
      if (result === "written") live.announce();
      reply({ ok: true, result });
    });

    socket.on("stop", async (ack?: unknown) => {
      const reply = replyOf(ack);
      if (!live) return fail(reply, "not_started", "no live stream on this socket");
      const stats = await live.ingest.stop({ reason: "stop" });
      reply({ ok: true, stats });
    });

    socket.on("disconnect", () => {
      void live?.ingest.stop({ reason: "sender disconnected" });
    });
  });
}
