/**
 * "The virtual environment creation aGF-agent will first evaluate the data traffic associated
 * with video streaming under different resolutions" (AgentNet, scenario 2): what each rung of
 * the 360° ladder would cost a headset, plus the one-off download of the reconstructed asset.
 *
 * Bitrates are the ladder's nominal ones (the same the controller's `DEFAULT_LADDER` and the
 * traffic agent use), not scaled by scene content. A content measure is computed and reported
 * (ITU-T P.910 spatial information of the frames' luma), but no scaling is applied: mapping it
 * to an encoder's bitrate needs a calibration against that encoder on 360° material, which
 * the project does not have; the video pipeline's measured segment sizes are the better
 * source once it runs. `complexityScale` lets a caller that has such a calibration apply it.
 */
import { DEFAULT_LADDER, type Rung } from "../../net/allocation.ts";
import type { RgbdFrame } from "./reconstructor.ts";

/** Traffic of one rung. */
export interface RungTraffic {
  readonly name: string;
  /** Expected mean stream bitrate, bit/s. */
  readonly bitrateBps: number;
  /** The ladder's nominal bitrate, bit/s. */
  readonly nominalBps: number;
  /** Bytes a headset fetches before it shows the scene: the asset plus `startupBufferS` of video. */
  readonly startupBytes: number;
}

/** What the agent reports to the controller. */
export interface TrafficReport {
  readonly rungs: readonly RungTraffic[];
  /** Size of the scene's GLB, bytes (a one-off download per headset; 0 when none yet). */
  readonly assetBytes: number;
  /** How `bitrateBps` was obtained. */
  readonly basis: "nominal" | "scaled";
  /** Factor applied to the nominal bitrates (1 for `nominal`). */
  readonly complexityScale: number;
  /** Mean P.910 spatial information of the frames (0…~250), or null without frames. */
  readonly spatialInformation: number | null;
}

/** Options of {@link trafficPerResolution}. */
export interface TrafficOptions {
  /** Size of the scene's GLB, bytes. */
  readonly assetBytes?: number;
  /** Frames to measure the scene's spatial information on (reported, not applied). */
  readonly frames?: readonly Pick<RgbdFrame, "width" | "height" | "rgb">[];
  /** Multiplies every nominal bitrate (a calibrated content factor; default 1 = nominal). */
  readonly complexityScale?: number;
  /** Video a player buffers before it starts, s (default 2). */
  readonly startupBufferS?: number;
}

/** Per rung of `ladder` (default {@link DEFAULT_LADDER}): expected bitrate and start-up bytes. */
export function trafficPerResolution(
  ladder: readonly Rung[] = DEFAULT_LADDER,
  options: TrafficOptions = {},
): TrafficReport {
  const scale = options.complexityScale ?? 1;
  if (!(scale > 0 && Number.isFinite(scale))) {
    throw new RangeError(`complexityScale must be a positive number, got ${scale}`);
  }
  const assetBytes = options.assetBytes ?? 0;
  const bufferS = options.startupBufferS ?? 2;
  const frames = options.frames ?? [];
  const si = frames.length
    ? frames.reduce((s, f) => s + spatialInformation(f), 0) / frames.length
    : null;
  return {
    rungs: ladder.map((r) => {
      const bitrateBps = r.bitrateBps * scale;
      return {
        name: r.name,
        bitrateBps,
        nominalBps: r.bitrateBps,
        startupBytes: Math.round(assetBytes + (bitrateBps / 8) * bufferS),
      };
    }),
    assetBytes,
    basis: scale === 1 ? "nominal" : "scaled",
    complexityScale: scale,
    spatialInformation: si === null ? null : Math.round(si * 100) / 100,
  };
}

/**
 * Spatial information (ITU-T P.910): the standard deviation of the Sobel gradient magnitude
 * of the luma (BT.601 weights, 0…255) over the interior pixels of one frame.
 */
export function spatialInformation(frame: Pick<RgbdFrame, "width" | "height" | "rgb">): number {
  const { width: w, height: h, rgb } = frame;
  if (w < 3 || h < 3) return 0;
  const y = new Float32Array(w * h);
  for (let p = 0; p < w * h; p++) {
    y[p] = 0.299 * rgb[p * 3]! + 0.587 * rgb[p * 3 + 1]! + 0.114 * rgb[p * 3 + 2]!;
  }
  let sum = 0;
  let sum2 = 0;
  let n = 0;
  for (let v = 1; v < h - 1; v++) {
    for (let u = 1; u < w - 1; u++) {
      const p = v * w + u;
      const gx =
        y[p - w + 1]! +
        2 * y[p + 1]! +
        y[p + w + 1]! -
        y[p - w - 1]! -
        2 * y[p - 1]! -
        y[p + w - 1]!;
      const gy =
        y[p + w - 1]! +
        2 * y[p + w]! +
        y[p + w + 1]! -
        y[p - w - 1]! -
        2 * y[p - w]! -
        y[p - w + 1]!;
      const m = Math.hypot(gx, gy);
      sum += m;
      sum2 += m * m;
      n++;
    }
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sum2 / n - mean * mean));
}
