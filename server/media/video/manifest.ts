/**
 * `stream.json` of a finished VOD stream and its renditions: written by transcode.ts,
 * rewritten by progressive.ts (each rendition's MP4), served by the HTTP routes.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ProjectionMapping, SegmentFormat } from "../../config-video.ts";
import type { VideoProbe } from "./probe.ts";
import type { RungDropReason, SkippedRung } from "./rung-selection.ts";

export type { SkippedRung } from "./rung-selection.ts";

/** File name of the manifest in a stream folder. */
export const MANIFEST_FILE = "stream.json";

/** Writes `manifest` as `<streamDir>/stream.json` (indented JSON, one trailing newline). */
export async function writeManifest(streamDir: string, manifest: StreamManifest): Promise<void> {
  await writeFile(join(streamDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** One rendition of a finished stream. */
export interface RenditionInfo {
  /** Rung name, e.g. `4k`. */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** The rung's configured bitrate (encoder maxrate), bit/s. */
  readonly nominalBitrateBps: number;
  /** Peak segment bitrate as measured (HLS `BANDWIDTH`), bit/s. */
  readonly bandwidthBps: number;
  /** Mean bitrate as measured (HLS `AVERAGE-BANDWIDTH`), bit/s. */
  readonly averageBandwidthBps: number;
  /** RFC 6381 codecs, or null when they could not be read. */
  readonly codecs: string | null;
  /** Media playlist, relative to the stream folder, e.g. `4k/index.m3u8`. */
  readonly playlist: string;
  readonly segments: number;
  /** The same media as one faststart MP4 (progressive.ts), e.g. `4k/progressive.mp4`; absent when none. */
  readonly progressive?: string;
  /**
   * The rung's frame as configured, when this rendition was encoded smaller (the lowest
   * rung of a clip whose resolution is below it); absent otherwise.
   */
  readonly cappedFrom?: {
    readonly width: number;
    readonly height: number;
    readonly reason: RungDropReason;
  };
}

/** How the 2D picture sits on the sphere (for clients that want to know). */
export interface ProjectionInfo {
  readonly type: "equirectangular";
  readonly mapping: ProjectionMapping;
  /** Angular size of the picture, degrees, centred on yaw 0 / pitch 0. */
  readonly hFovDeg: number;
  readonly vFovDeg: number;
}

/** `stream.json` of a finished stream. */
export interface StreamManifest {
  readonly streamId: string;
  readonly kind: "vod";
  /** ISO time the stream was published. */
  readonly createdAt: string;
  /** Master playlist, relative to the stream folder. */
  readonly master: string;
  /** Duration of the renditions, s. */
  readonly durationS: number;
  /** Output frame rate, frames/s. */
  readonly fps: number;
  readonly segmentDurationS: number;
  readonly segmentFormat: SegmentFormat;
  readonly projection: ProjectionInfo;
  readonly source: Pick<VideoProbe, "width" | "height" | "codec" | "durationS" | "fps"> & {
    /** Angular resolution of the clip at the picture's centre on the sphere, px/deg. */
    readonly pxPerDeg: number;
  };
  /** Lowest first. */
  readonly renditions: readonly RenditionInfo[];
  /**
   * Rungs of the configured ladder this stream does not have, and why (`above_source`: more
   * pixels per degree than the clip has, which would only scale it up), lowest first.
   */
  readonly skipped: readonly SkippedRung[];
}
