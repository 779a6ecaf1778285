/**
 * Transcode throughput of the 360° ladder: a 1080p 30 fps 2D source (lavfi `testsrc2` with
 * mild temporal noise, so the encoder sees camera-like grain) is transcoded with the
 * pipeline's own command line, one rung at a time and then the whole ladder in one
 * process (what a job does). Figures per run: wall time, speed (seconds of video per
 * second of wall time; ≥ 1 is real time), output frames per second, mean and peak
 * output bitrate. Source creation is not timed.
 *
 *   runVideoBench({ quick: false })   10 s source, the product ladder 1080p … 8k
 *   runVideoBench({ quick: true })    3 s source, rungs up to 4k
 *
 * Run alone: `node --import tsx test/bench/video.bench.ts [--quick]` prints a table and
 * the JSON.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { VIDEO_LADDER, type VideoRung } from "../../shared/video-ladder.ts";
import { resolveVideoConfig, type VideoConfig } from "../../server/media/video/config.ts";
import { probeVideo, type VideoProbe } from "../../server/media/video/probe.ts";
import { transcodeLadder } from "../../server/media/video/transcode.ts";
import { ffmpeg } from "../fixtures/video/clips.ts";

export interface VideoBenchOptions {
  /** 3 s source and rungs up to 4k instead of 10 s and the full product ladder. */
  readonly quick?: boolean;
  /** Rungs to measure (default: the product ladder, or its first three when quick). */
  readonly rungs?: readonly VideoRung[];
}

/** One measured transcode. */
export interface TranscodeRun {
  /** Rung name, or `ladder` for all rungs in one process. */
  readonly rung: string;
  readonly resolution: string;
  /** Wall time of the ffmpeg process (including the checks and master playlist), s. */
  readonly wallS: number;
  /** Seconds of video per second of wall time (×). */
  readonly speed: number;
  /** Output frames per second of wall time (per rendition). */
  readonly fps: number;
  /** Mean output bitrate, Mbit/s (sum over renditions for `ladder`). */
  readonly meanMbps: number;
  /** Peak segment bitrate, Mbit/s (sum over renditions for `ladder`). */
  readonly peakMbps: number;
}

export interface VideoBenchResult {
  readonly source: { width: number; height: number; fps: number; durationS: number };
  readonly preset: string;
  readonly segmentDurationS: number;
  readonly mapping: string;
  readonly machine: { cpus: number; cpuModel: string };
  readonly ffmpeg: string;
  readonly perRung: readonly TranscodeRun[];
  readonly ladder: TranscodeRun;
}

const r3 = (v: number) => Number(v.toFixed(3));

async function timeLadder(
  config: VideoConfig,
  input: string,
  probe: VideoProbe,
  rungs: readonly VideoRung[],
  outDir: string,
  label: string,
): Promise<TranscodeRun> {
  const t0 = performance.now();
  const manifest = await transcodeLadder({
    config,
    input,
    probe,
    rungs,
    outDir,
    streamId: label,
    timeoutMs: 3600_000,
  });
  const wallS = (performance.now() - t0) / 1000;
  const sum = (f: (r: (typeof manifest.renditions)[number]) => number) =>
    manifest.renditions.reduce((a, r) => a + f(r), 0);
  const top = rungs[rungs.length - 1];
  return {
    rung: label,
    resolution: rungs.length === 1 && top ? `${top.width}x${top.height}` : `${rungs.length} rungs`,
    wallS: r3(wallS),
    speed: r3(manifest.durationS / wallS),
    fps: r3((manifest.durationS * manifest.fps) / wallS),
    meanMbps: r3(sum((r) => r.averageBandwidthBps) / 1e6),
    peakMbps: r3(sum((r) => r.bandwidthBps) / 1e6),
  };
}

/** Runs the transcode benchmark; returns the figures (and removes its files). */
export async function runVideoBench(options: VideoBenchOptions = {}): Promise<VideoBenchResult> {
  const quick = options.quick ?? false;
  const durationS = quick ? 3 : 10;
  const rungs = options.rungs ?? (quick ? VIDEO_LADDER.slice(0, 3) : VIDEO_LADDER);
  const dir = await mkdtemp(join(tmpdir(), "video-bench-"));
  try {
    const config = resolveVideoConfig({ mediaDir: join(dir, "media"), ladder: rungs });
    const source = join(dir, "source-1080p.mp4");
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=1920x1080:rate=30:duration=${durationS},noise=alls=8:allf=t`,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-crf",
      "18",
      "-pix_fmt",
      "yuv420p",
      source,
    ]);
    const probe = await probeVideo(source, {
      ffprobePath: config.ffprobePath,
      timeoutMs: 60_000,
      acceptedCodecs: config.acceptedCodecs,
      maxDurationS: 3600,
    });
    const perRung: TranscodeRun[] = [];
    for (const rung of config.ladder) {
      console.error(`video bench: ${rung.name} …`);
      perRung.push(
        await timeLadder(config, source, probe, [rung], join(dir, rung.name), rung.name),
      );
    }
    console.error("video bench: whole ladder in one process …");
    const ladder = await timeLadder(
      config,
      source,
      probe,
      config.ladder,
      join(dir, "all"),
      "ladder",
    );
    const version = await import("node:child_process").then(
      ({ execFileSync }) =>
        execFileSync(config.ffmpegPath, ["-version"], { encoding: "utf8" }).split("\n")[0] ?? "",
    );
    return {
      source: {
        width: probe.width,
        height: probe.height,
        fps: probe.fps,
        durationS: probe.durationS,
      },
      preset: config.preset,
      segmentDurationS: config.segmentDurationS,
      mapping: config.mapping,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" },
      ffmpeg: version,
      perRung,
      ladder,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
  const result = await runVideoBench({ quick: values.quick ?? false });
  console.table([...result.perRung, result.ladder]);
  console.log(JSON.stringify(result, null, 2));
}
