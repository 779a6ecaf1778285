/**
 * The video pipeline as the composition root sees it: `createVideoPipeline(options)`
 * resolves the options, checks that ffmpeg has what the pipeline uses (libx264, v360,
 * the HLS muxer), prepares the media folders (clearing what a crash left in `video/.tmp/`
 * and `video/.uploads/`), and owns the transcode queue and the live streams so `close()` can end
 * every child process.
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { VideoPipelineOptions } from "../../config-video.ts";
import { resolveVideoConfig, type VideoConfig } from "./config.ts";
import { FfmpegMissingError } from "./errors.ts";
import { LiveIngest } from "./live-ingest.ts";
import { runProcess, SpawnError } from "./process.ts";
import { TranscodeQueue } from "./transcode.ts";

/** A running pipeline. */
export interface VideoPipeline {
  readonly config: VideoConfig;
  readonly queue: TranscodeQueue;
  /** ffmpeg's version line, e.g. `ffmpeg version 5.1.6-0+deb12u1`. */
  readonly ffmpegVersion: string;
  /** A new live stream (call `start` on it); stopped by `close()` if still running. */
  createLiveIngest(): LiveIngest;
  /** Live streams not yet ended. */
  liveStreams(): LiveIngest[];
  /** Cancels every job, stops every live stream, waits for their processes. Idempotent. */
  close(): Promise<void>;
}

async function capabilities(ffmpeg: string): Promise<{ version: string; missing: string[] }> {
  const run = async (args: string[]) => {
    try {
      const r = await runProcess(ffmpeg, ["-hide_banner", ...args], { timeoutMs: 10_000 });
      return r.exitCode === 0 ? r.stdout : "";
    } catch (err) {
      if (err instanceof SpawnError) throw new FfmpegMissingError(err.message, { cause: err });
      throw err;
    }
  };
  const version = (await run(["-version"])).split("\n")[0] ?? "";
  if (!version) throw new FfmpegMissingError(`${ffmpeg} -version failed: is it ffmpeg?`);
  const [encoders, filters, muxers] = await Promise.all([
    run(["-encoders"]),
    run(["-filters"]),
    run(["-muxers"]),
  ]);
  const missing: string[] = [];
  if (!/\blibx264\b/.test(encoders)) missing.push("encoder libx264");
  if (!/\baac\b/.test(encoders)) missing.push("encoder aac");
  if (!/\bv360\b/.test(filters)) missing.push("filter v360");
  if (!/\bhls\b/.test(muxers)) missing.push("muxer hls");
  return { version, missing };
}

async function emptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir))
    await rm(join(dir, name), { recursive: true, force: true });
}

/**
 * Builds the pipeline.
 * @throws VideoConfigError (bad options), FfmpegMissingError (ffmpeg/ffprobe absent or
 *   built without libx264/aac/v360/hls)
 */
export async function createVideoPipeline(
  options: VideoPipelineOptions,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<VideoPipeline> {
  const config = resolveVideoConfig(options, env);
  const { version, missing } = await capabilities(config.ffmpegPath);
  if (missing.length > 0) {
    throw new FfmpegMissingError(
      `${config.ffmpegPath} lacks ${missing.join(", ")} (Debian's ffmpeg package has them)`,
    );
  }
  await mkdir(config.videoDir, { recursive: true });
  await mkdir(config.liveDir, { recursive: true });
  await emptyDir(config.tmpDir);
  await emptyDir(config.uploadsDir);
  const log = logger.child({ component: "video" });
  const queue = new TranscodeQueue(config, log);
  const live = new Set<LiveIngest>();
  log.info(
    { ffmpeg: config.ffmpegPath, version, mediaDir: config.mediaDir, ladder: config.ladder },
    "video pipeline ready",
  );
  let closing: Promise<void> | undefined;
  return {
    config,
    queue,
    ffmpegVersion: version,
    createLiveIngest() {
      const ingest = new LiveIngest(config, log);
      live.add(ingest);
      ingest.onEnd(() => live.delete(ingest));
      return ingest;
    },
    liveStreams: () => [...live],
    close() {
      closing ??= (async () => {
        await Promise.all([queue.close(), ...[...live].map((l) => l.stop({ reason: "shutdown" }))]);
      })();
      return closing;
    },
  };
}
