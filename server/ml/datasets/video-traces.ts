/**
 * `video_<rung>` traces: one headset's 360° equirectangular stream of a rung of
 * {@link VIDEO_LADDER} — a modelled VBR encoder (closed GOP of I/P frames, 2 s; scene cuts
 * that insert an IDR and restart the GOP; slowly varying content complexity; lognormal
 * frame-size noise; a slow average-bitrate rate control), frames split into ≤ 1200-byte
 * packets.
 */
import type { FlowWindow } from "../../net/contracts.ts";
import { VIDEO_LADDER, videoClass } from "./flow-classes.ts";
import { mixSeed, Rng } from "./trace-random.ts";
import { type Emission, toWindows, TraceError, WINDOW_S } from "./trace-windows.ts";

/** Largest packet payload of a video stream, bytes (fits a 1280-byte QUIC/IPv6 MTU). */
export const VIDEO_PACKET_BYTES = 1200;

/** Options of {@link videoWindows}. */
export interface VideoTraceOptions {
  /** Rung name of {@link VIDEO_LADDER}. */
  readonly rung: string;
  /** Windows to produce. */
  readonly windows: number;
  readonly seed: number;
  /** Window length, s (default {@link WINDOW_S}). */
  readonly windowS?: number;
  /** Frame rate; default: 30 (70 % of sessions) or 60, drawn from the seed. */
  readonly fps?: 30 | 60;
  /** Multiplies the encoder's target bitrate (a codec/profile shift; default 1). */
  readonly bitrateScale?: number;
  /** Seconds encoded (and dropped) before the first window, so rate control settles (8). */
  readonly warmupS?: number;
}

/** GOP length, s. */
const GOP_S = 2;
/** I-frame size / P-frame size at 30 and 60 fps (P frames shrink with frame rate). */
const I_RATIO: Record<30 | 60, number> = { 30: 7, 60: 10 };
/** Scene cuts per second (each inserts an IDR frame and restarts the GOP). */
const CUTS_PER_S = 0.12;
/** Lognormal σ of frame sizes around the rate-control target. */
const FRAME_SIGMA = 0.15;
/** Content complexity: stationary lognormal σ and correlation time, s. */
const COMPLEXITY_SIGMA = 0.2;
const COMPLEXITY_TAU_S = 5;
/** Average-bitrate control time constant, s (pulls the long-run mean to the target). */
const RATE_CONTROL_TAU_S = 20;

/**
 * One headset's 360° stream of a rung: frames of a VBR encoder with scene cuts and content
 * complexity, packetised into ≤ {@link VIDEO_PACKET_BYTES}-byte packets.
 * @throws TraceError for a rung outside {@link VIDEO_LADDER}
 */
export function videoWindows(opts: VideoTraceOptions): FlowWindow[] {
  const rung = VIDEO_LADDER.find((r) => r.name === opts.rung);
  if (!rung) throw new TraceError(`unknown video rung ${opts.rung}`);
  const windowS = opts.windowS ?? WINDOW_S;
  const rng = new Rng(mixSeed(opts.seed, 0x71de0));
  const fps = opts.fps ?? (rng.next() < 0.7 ? 30 : 60);
  const warm = opts.warmupS ?? 8;
  const bytesPerS = (rung.nominalBps * (opts.bitrateScale ?? 1)) / 8;
  const gop = Math.round(GOP_S * fps);
  const ratio = I_RATIO[fps];
  const pCut = CUTS_PER_S / fps;
  // P size so that a GOP with its I frame and the expected cuts meets the target.
  const framesPerS = fps;
  const iPerS = 1 / GOP_S + CUTS_PER_S;
  const pBase = bytesPerS / (framesPerS + iPerS * (ratio - 1));
  const aC = Math.exp(-1 / (fps * COMPLEXITY_TAU_S));
  const bC = Math.sqrt(1 - aC * aC) * COMPLEXITY_SIGMA;
  let logC = COMPLEXITY_SIGMA * rng.normal();
  let sent = 0;
  // Each headset's stream starts at its own time: random GOP phase and frame clock offset.
  let inGop = rng.int(gop);
  const offset = rng.next() / fps;
  const emissions: Emission[] = [];
  const frames = Math.round((opts.windows * windowS + warm) * fps);
  for (let f = 0; f < frames; f++) {
    const t = f / fps + offset;
    logC = aC * logC + bC * rng.normal();
    const cut = inGop > 0 && rng.next() < pCut;
    if (cut) inGop = 0;
    const isI = inGop === 0;
    inGop = (inGop + 1) % gop;
    const complexity = Math.exp(logC - (COMPLEXITY_SIGMA * COMPLEXITY_SIGMA) / 2);
    const noise = Math.exp(FRAME_SIGMA * rng.normal() - (FRAME_SIGMA * FRAME_SIGMA) / 2);
    const debtS = (sent - bytesPerS * (t - offset)) / bytesPerS;
    const rc = Math.exp(-debtS / RATE_CONTROL_TAU_S);
    const bytes = Math.max(64, Math.round(pBase * (isI ? ratio : 1) * complexity * noise * rc));
    sent += bytes;
    if (t >= warm) {
      const packets = Math.ceil(bytes / VIDEO_PACKET_BYTES);
      emissions.push({ t: t - warm, bytes, packets });
    }
  }
  return toWindows(videoClass(rung.name), emissions, opts.windows, windowS);
}
