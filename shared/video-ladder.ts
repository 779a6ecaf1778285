/**
 * The 360° video ladder: the one definition of the product's rungs (name, frame size,
 * nominal bitrate). The transcoder encodes these frames (`server/media/video`), the
 * allocator and the traffic models price them (`server/net`), the intent grammar knows
 * their names (`server/agents/intent`), and clients see the names as rendition names.
 * Frames are 2:1 equirectangular (360° × 180°); streams are H.264/HEVC at 30 or 60 fps.
 */

/** One rendition of the equirectangular ladder. */
export interface VideoRung {
  /** Path-safe name, also the rendition name clients see, e.g. `4k`. */
  readonly name: string;
  /** Frame width, px (equirectangular: 360° across, twice the height). */
  readonly width: number;
  /** Frame height, px (180° top to bottom). */
  readonly height: number;
  /** Nominal (long-run mean) bitrate, bit/s: the encoder's maxrate (VBV buffer of 2 s of it). */
  readonly bitrateBps: number;
}

const PRODUCT_RUNGS = [
  { name: "1080p", width: 1920, height: 960, bitrateBps: 8e6 },
  { name: "1440p", width: 2560, height: 1280, bitrateBps: 14e6 },
  { name: "4k", width: 3840, height: 1920, bitrateBps: 25e6 },
  { name: "6k", width: 5760, height: 2880, bitrateBps: 45e6 },
  { name: "8k", width: 7680, height: 3840, bitrateBps: 80e6 },
] as const satisfies readonly VideoRung[];

/** Name of a product rung, e.g. `4k`. */
export type ProductRungName = (typeof PRODUCT_RUNGS)[number]["name"];

/** The product ladder, lowest first: 2:1 equirectangular, 1080p (1920×960) to 8K (7680×3840). */
export const VIDEO_LADDER: readonly VideoRung[] = Object.freeze(
  PRODUCT_RUNGS.map((r) => Object.freeze({ ...r })),
);

/** The product rungs' names, lowest first (a tuple, so `z.enum` can take it). */
export const VIDEO_RUNG_NAMES = PRODUCT_RUNGS.map((r) => r.name) as unknown as readonly [
  ProductRungName,
  ...ProductRungName[],
];

/** Angular resolution of a rung, px per degree (the same across and up: 2:1 frames). */
export function rungPixelsPerDegree(rung: Pick<VideoRung, "width">): number {
  return rung.width / 360;
}

/** `8e6` → `8M`, `300e3` → `300k`: a bitrate as ladder specs write it. */
function bitrateText(bps: number): string {
  if (bps >= 1e6 && bps % 1e5 === 0) return `${bps / 1e6}M`;
  if (bps >= 1e3 && bps % 1e3 === 0) return `${bps / 1e3}k`;
  return String(bps);
}

/** A ladder as a spec (`name:WIDTHxHEIGHT:BITRATE,…`), what {@link parseLadderSpec} reads. */
export function formatLadderSpec(ladder: readonly VideoRung[]): string {
  return ladder
    .map((r) => `${r.name}:${r.width}x${r.height}:${bitrateText(r.bitrateBps)}`)
    .join(",");
}

/** A ladder spec that cannot be read. */
export class LadderSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LadderSpecError";
  }
}

/**
 * Parses a ladder spec: comma-separated `name:WIDTHxHEIGHT:BITRATE`, the bitrate in bit/s
 * with an optional `k` or `M` suffix, e.g. `1080p:1920x960:8M,4k:3840x1920:25M`.
 * Only the syntax is checked here; the video pipeline checks each rung's shape.
 * @throws LadderSpecError on a malformed entry or an empty spec
 */
export function parseLadderSpec(spec: string): VideoRung[] {
  const rungs: VideoRung[] = [];
  for (const raw of spec.split(",")) {
    const item = raw.trim();
    if (!item) continue;
    const m = /^([^:\s]+):(\d+)x(\d+):(\d+(?:\.\d+)?)([kKmM]?)$/.exec(item);
    if (!m) {
      throw new LadderSpecError(
        `bad ladder entry "${item}": expected name:WIDTHxHEIGHT:BITRATE (e.g. 4k:3840x1920:25M)`,
      );
    }
    const [, name = "", w = "0", h = "0", rate = "0", unit = ""] = m;
    const scale = unit.toLowerCase() === "k" ? 1e3 : unit.toLowerCase() === "m" ? 1e6 : 1;
    rungs.push({ name, width: Number(w), height: Number(h), bitrateBps: Number(rate) * scale });
  }
  if (rungs.length === 0) throw new LadderSpecError("ladder spec is empty");
  return rungs;
}
