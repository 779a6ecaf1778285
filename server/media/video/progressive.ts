/**
 * Progressive MP4 per rendition: the finished HLS segments of each rung remuxed (no
 * re-encode, `ffmpeg -c copy -movflags +faststart`) into one `<rung>/progressive.mp4`
 * beside its playlist.
 *
 * Why: Unity's own `VideoPlayer` (what a PICO 4 / Android headset has without a paid
 * plug-in) plays a file or an HTTP URL of a container the platform decodes — MP4 with H.264
 * is the one Unity recommends — and documents no HLS. A faststart MP4 (the `moov` index
 * before the media data) starts playing over HTTP after the first few hundred kilobytes and
 * seeks with Range requests, which the media routes already serve. The same bytes as the
 * HLS segments, so a switch between the two shows the same picture.
 *
 * It runs as the last step of a VOD job, inside the job's temporary folder, so a stream is
 * published with its MP4s already in place (a client told about the stream never finds the
 * file missing). A rendition whose remux fails keeps its HLS playlist and simply gets no
 * `progressive` entry; the job still succeeds. Live streams get none (a sliding window has
 * no end to remux). Cost: about twice the stream's disk space (the segments and the MP4 hold
 * the same bytes) and a few seconds of disk-bound work per rendition, no CPU-heavy encoding.
 * Clients find the file as `mp4Url` beside `playlistUrl` (the job's public renditions, and
 * `StreamState.mp4Url` in a metaverse room).
 */
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { runProcess } from "./process.ts";
import { type RenditionInfo, type StreamManifest, writeManifest } from "./manifest.ts";

/** File name of a rendition's progressive MP4, beside its `index.m3u8`. */
export const PROGRESSIVE_FILE = "progressive.mp4";

/** A rendition's progressive MP4, relative to the stream folder (e.g. `4k/progressive.mp4`). */
export function progressivePath(rendition: Pick<RenditionInfo, "name">): string {
  return `${rendition.name}/${PROGRESSIVE_FILE}`;
}

/** The ffmpeg arguments that remux a finished media playlist into a faststart MP4. */
export function remuxArgs(playlist: string, out: string): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-y",
    "-i",
    playlist,
    "-map",
    "0",
    "-c",
    "copy",
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
    out,
  ];
}

/** One top-level ISO-BMFF box: its type and where it starts, bytes. */
export interface TopLevelBox {
  readonly type: string;
  readonly offset: number;
  readonly size: number;
}

/**
 * The top-level boxes of an MP4 file (`ftyp`, `moov`, `mdat`, …), read from their headers
 * only (the file is never loaded whole).
 */
export async function topLevelBoxes(file: string, maxBoxes = 64): Promise<TopLevelBox[]> {
  const fh = await open(file, "r");
  try {
    const { size: fileSize } = await fh.stat();
    const boxes: TopLevelBox[] = [];
    const head = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= fileSize && boxes.length < maxBoxes) {
      const { bytesRead } = await fh.read(head, 0, 16, offset);
      if (bytesRead < 8) break;
      let size = head.readUInt32BE(0);
      const type = head.toString("latin1", 4, 8);
      if (size === 1 && bytesRead >= 16) size = Number(head.readBigUInt64BE(8));
      else if (size === 0) size = fileSize - offset;
      if (size < 8) break;
      boxes.push({ type, offset, size });
      offset += size;
    }
    return boxes;
  } finally {
    await fh.close();
  }
}

/** Whether the file's `moov` box comes before its first `mdat` (plays while downloading). */
export async function isFaststart(file: string): Promise<boolean> {
  const types = (await topLevelBoxes(file)).map((b) => b.type);
  const moov = types.indexOf("moov");
  const mdat = types.indexOf("mdat");
  return moov >= 0 && (mdat < 0 || moov < mdat);
}

/** What `addProgressive` needs. */
export interface ProgressiveOptions {
  readonly ffmpegPath: string;
  /** Per rendition, ms; past it ffmpeg is killed and that rendition gets no MP4. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly logger?: Pick<Logger, "warn" | "info">;
}

/**
 * Remuxes every rendition of the finished stream in `streamDir` into its progressive MP4
 * and rewrites `stream.json` with each rendition's `progressive` path. Renditions are done
 * one after another (a remux is disk-bound; in parallel they would only compete).
 * @returns the manifest with `progressive` set on the renditions that have an MP4
 */
export async function addProgressive(
  streamDir: string,
  manifest: StreamManifest,
  options: ProgressiveOptions,
): Promise<StreamManifest> {
  const renditions: RenditionInfo[] = [];
  for (const r of manifest.renditions) {
    if (options.signal?.aborted) return manifest;
    const rel = progressivePath(r);
    const out = join(streamDir, rel);
    // Written under a name the media routes do not serve, renamed when complete.
    const part = `${out}.part`;
    // ffmpeg that cannot even start (EAGAIN, ENOMEM) is a failed remux like any other.
    const result = await runProcess(
      options.ffmpegPath,
      remuxArgs(join(streamDir, r.playlist), part),
      {
        timeoutMs: options.timeoutMs,
        tags: { stream: manifest.streamId },
        ...(options.signal && { signal: options.signal }),
      },
    ).catch((err: unknown) => err as Error);
    const ran = !(result instanceof Error);
    let ok = ran && result.exitCode === 0;
    if (ok) ok = await isFaststart(part).catch(() => false);
    if (!ok) {
      await rm(part, { force: true });
      options.logger?.warn(
        ran
          ? {
              rendition: r.name,
              exitCode: result.exitCode,
              timedOut: result.timedOut,
              stderrTail: result.stderrTail,
            }
          : { rendition: r.name, err: result },
        "progressive MP4 not written; the rendition stays HLS only",
      );
      renditions.push(r);
      continue;
    }
    await rename(part, out);
    renditions.push({ ...r, progressive: rel });
  }
  const withMp4: StreamManifest = { ...manifest, renditions };
  await writeManifest(streamDir, withMp4);
  return withMp4;
}
