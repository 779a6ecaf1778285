/**
 * The media side of the server, built once at start: the video pipeline (ffmpeg ingest and
 * HLS ladder) when it is enabled and ffmpeg is usable, and the 2D→3D reconstructors (the
 * embedded CPU TSDF backend, plus an SF3D-style service when `SF3D_URL` is set). Without
 * ffmpeg the server still starts: the video routes answer 503 with the reason.
 */
import type { Logger } from "pino";
import type { MediaConfig } from "../config.ts";
import { CpuReconstructor } from "./reconstruction/cpu-reconstructor.ts";
import type { Reconstructor } from "./reconstruction/reconstructor.ts";
import { Sf3dReconstructor } from "./reconstruction/sf3d-client.ts";
import { FfmpegMissingError } from "./video/errors.ts";
import { createVideoPipeline, type VideoPipeline } from "./video/pipeline.ts";

export interface MediaService {
  /** The video pipeline, or null (see `videoOff`). */
  readonly video: VideoPipeline | null;
  /** Why there is no video pipeline (empty when there is one). */
  readonly videoOff: string;
  /** RGB-D → mesh backend. */
  readonly rgbd: CpuReconstructor;
  /** Single image → mesh backend, when configured. */
  readonly image: Reconstructor | undefined;
  /** For the agent panel, e.g. `cpu-tsdf + sf3d@http://sf3d:8000/`. */
  readonly reconstructionLabel: string;
  close(): Promise<void>;
}

/** Builds the media side; never throws for a missing ffmpeg (the pipeline is then off). */
export async function openMedia(config: MediaConfig, logger: Logger): Promise<MediaService> {
  let video: VideoPipeline | null = null;
  let videoOff = "";
  if (!config.videoEnabled) videoOff = "the video pipeline is off (VIDEO=false)";
  else {
    try {
      video = await createVideoPipeline(config.video, logger);
    } catch (err) {
      if (!(err instanceof FfmpegMissingError)) throw err;
      videoOff = `the video pipeline is off: ${err.message}`;
      // One line with the fix, not a stack: a missing tool is a setup step, not a fault.
      logger.warn(`video is off: ${err.message}`);
    }
  }
  const rgbd = new CpuReconstructor();
  const r = config.reconstruction;
  const image =
    r.sf3dUrl === undefined
      ? undefined
      : new Sf3dReconstructor({
          baseUrl: r.sf3dUrl,
          timeoutMs: r.timeoutMs,
          maxImageBytes: r.maxUploadBytes,
        });
  return {
    video,
    videoOff,
    rgbd,
    image,
    reconstructionLabel: `${rgbd.name}${r.sf3dUrl ? ` + sf3d@${r.sf3dUrl}` : ""}`,
    async close() {
      await video?.close();
    },
  };
}
