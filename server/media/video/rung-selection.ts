/**
 * Which rungs of the ladder a clip gets: never one with more pixels per degree than the
 * source has. A rung above the source would only be the same picture scaled up — the same
 * detail at several times the bits, encode time and memory (a 4 s 640×360 clip took 6 GB
 * of ffmpeg RSS and minutes to reach 8K) — so it is left out, and the stream's manifest
 * says which rungs were left out and why. The lowest rung is always kept; when even it is
 * above the source it is made smaller, to the source's own resolution.
 *
 * Angular resolution, px per degree, along the horizon at the picture's centre (yaw 0,
 * pitch 0), where a 2D clip is sharpest on the sphere and where the viewer looks:
 *  - a rung (2:1 equirectangular): width / 360;
 *  - a 2D clip placed `flat` (rectilinear screen `hFov` wide): (W/2) / tan(hFov/2) px per
 *    radian — exactly where ffmpeg-args.ts's pre-scale would start enlarging the picture;
 *  - a 2D clip placed with `pad` (scaled into the window): W / hFov;
 *  - a 360° equirectangular source: W / 360.
 */
import { rungPixelsPerDegree, type VideoRung } from "../../../shared/video-ladder.ts";
import type { ProjectionMapping } from "../../config-video.ts";
import { pictureFov } from "./ffmpeg-args.ts";

/** How the source covers the sphere. */
export type SourceProjection =
  /** A 2D picture placed in front of the viewer, `fovDeg` wide, with `mapping`. */
  | { readonly kind: "flat"; readonly fovDeg: number; readonly mapping: ProjectionMapping }
  /** Already a 360° × 180° equirectangular frame. */
  | { readonly kind: "equirectangular" };

/** Why a rung is not in a stream as configured (the only reason today). */
export type RungDropReason = "above_source";

/** A rung of the ladder the stream does not have. */
export interface SkippedRung {
  readonly name: string;
  /** The rung's frame as configured, px. */
  readonly width: number;
  readonly height: number;
  readonly reason: RungDropReason;
  /** The rung's angular resolution, px/deg. */
  readonly rungPxPerDeg: number;
}

/** The lowest rung, made smaller because even it was above the source. */
export interface CappedRung {
  readonly name: string;
  /** The rung's frame as configured, px. */
  readonly fromWidth: number;
  readonly fromHeight: number;
  /** The frame encoded, px. */
  readonly width: number;
  readonly height: number;
  readonly reason: RungDropReason;
}

/** What {@link selectRungs} decided. */
export interface RungSelection {
  /** Rungs to encode, lowest first (at least one). */
  readonly rungs: readonly VideoRung[];
  /** Rungs left out, lowest first. */
  readonly skipped: readonly SkippedRung[];
  /** The lowest rung when it was made smaller, else null. */
  readonly capped: CappedRung | null;
  /** The source's angular resolution at the picture's centre, px/deg. */
  readonly sourcePxPerDeg: number;
}

/** A rung this close above the source (relative) still counts as not above it (rounding). */
const TOLERANCE = 0.01;
/** Smallest frame width a capped rung is given, px (the pipeline's lowest accepted is 32). */
const MIN_CAPPED_WIDTH = 64;
/** Lowest maxrate a capped rung is given, bit/s (a tiny frame still needs some). */
const MIN_CAPPED_BITRATE_BPS = 200e3;

/** The source's angular resolution at the centre of the picture, px/deg. */
export function sourcePixelsPerDegree(
  source: { readonly width: number; readonly height: number },
  projection: SourceProjection,
): number {
  if (projection.kind === "equirectangular") return source.width / 360;
  const { hFovDeg } = pictureFov(source, projection.fovDeg);
  if (projection.mapping === "pad") return source.width / hFovDeg;
  const pxPerRad = source.width / 2 / Math.tan((hFovDeg * Math.PI) / 360);
  return (pxPerRad * Math.PI) / 180;
}

/**
 * The rungs of `ladder` (lowest first) a `source` gets: those not above its angular
 * resolution; at least the lowest, capped to the source's resolution (a 2:1 frame whose
 * width is a multiple of 4, so both sides stay even) when even it is above.
 */
export function selectRungs(
  ladder: readonly VideoRung[],
  source: { readonly width: number; readonly height: number },
  projection: SourceProjection,
): RungSelection {
  const sourcePxPerDeg = sourcePixelsPerDegree(source, projection);
  const limit = sourcePxPerDeg * (1 + TOLERANCE);
  const rungs: VideoRung[] = [];
  const skipped: SkippedRung[] = [];
  for (const rung of ladder) {
    const rungPxPerDeg = rungPixelsPerDegree(rung);
    if (rungPxPerDeg <= limit) rungs.push(rung);
    else skipped.push({ ...pick(rung), reason: "above_source", rungPxPerDeg });
  }
  let capped: CappedRung | null = null;
  const lowest = ladder[0];
  if (rungs.length === 0 && lowest) {
    skipped.shift();
    const width = Math.max(MIN_CAPPED_WIDTH, 4 * Math.floor((360 * sourcePxPerDeg) / 4));
    const height = width / 2;
    capped = {
      name: lowest.name,
      fromWidth: lowest.width,
      fromHeight: lowest.height,
      width,
      height,
      reason: "above_source",
    };
    // Fewer pixels need proportionally fewer bits for the same quality.
    const scaled = (lowest.bitrateBps * width * height) / (lowest.width * lowest.height);
    const bitrateBps = Math.round(
      Math.min(lowest.bitrateBps, Math.max(MIN_CAPPED_BITRATE_BPS, scaled)),
    );
    rungs.push({ name: lowest.name, width, height, bitrateBps });
  }
  return { rungs, skipped, capped, sourcePxPerDeg };
}

function pick(r: VideoRung): { name: string; width: number; height: number } {
  return { name: r.name, width: r.width, height: r.height };
}
