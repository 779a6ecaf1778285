/**
 * Resource orchestration for one headset link: which downlink bands to use, which video
 * rung to stream and what bandwidth share to reserve, from the agents' estimates (per-band
 * capacity from the channel agent, demand from the traffic agent), plus the utilisation
 * measures the benchmark compares. Pure functions; units bit/s.
 *
 * Definitions (also in the README):
 *  - spectrum utilisation = carried traffic / capacity of the allocated bands (how much of
 *    the spectrum handed to the link actually carries data);
 *  - bandwidth utilisation = carried traffic / reserved bandwidth share (how much of the
 *    network share reserved for the flow is used);
 *  - a stall = a window in which the demand exceeds what the link delivers (the capacity
 *    of its bands, or its bandwidth share, whichever is smaller).
 */
import { VIDEO_LADDER, type VideoRung } from "../../shared/video-ladder.ts";
import type { BandChannel, DemandPrediction, FlowClass, TrafficScenario } from "./contracts.ts";

/** One rung of the video ladder as the allocator sees it: its name and nominal bitrate. */
export type Rung = Pick<VideoRung, "name" | "bitrateBps">;

/**
 * The 360° equirectangular ladder the allocator prices: the product ladder of
 * shared/video-ladder.ts (one definition for the transcoder, the allocator and the traffic
 * models), nominal mean bitrates.
 */
export const DEFAULT_LADDER: readonly Rung[] = VIDEO_LADDER;

/** Nominal bitrate of `rung` in `ladder`, bit/s (0 for an unknown rung). */
export function rungBitrate(rung: string, ladder: readonly Rung[] = DEFAULT_LADDER): number {
  return ladder.find((r) => r.name === rung)?.bitrateBps ?? 0;
}

/**
 * Nominal mean demand of a scenario per class group when no learned traffic model answers,
 * bit/s: 48 kbit/s of state patches per arm and headset, 160 kbit/s of control per headset,
 * the rung's nominal bitrate per headset. The runtime's fallback and the evaluation's
 * `nominal` baseline both use it.
 */
export function nominalDemand(s: TrafficScenario): {
  readonly twin_state: number;
  readonly control: number;
  readonly video: number;
} {
  return {
    twin_state: 48e3 * s.arms * s.headsets,
    control: 160e3 * s.headsets,
    video: s.videoRung ? rungBitrate(s.videoRung) * s.headsets : 0,
  };
}

/** p95 over mean of the nominal figures (no model of their variation). */
export const NOMINAL_P95_FACTOR = 1.3;

/**
 * What is wrong with a traffic scenario, one line each (empty when it is usable): counts are
 * non-negative integers, the patch rate in (0, 240] Hz, the pose rate (when given) in (0, 240] Hz,
 * the hands share (when given) in [0, 1], the rung one of `rungs` (the nominal
 * figures price {@link DEFAULT_LADDER}; the traffic agent passes the rungs its model knows).
 */
export function trafficScenarioProblems(
  s: TrafficScenario,
  rungs: readonly string[] = DEFAULT_LADDER.map((r) => r.name),
): string[] {
  const bad: string[] = [];
  if (!Number.isInteger(s.arms) || s.arms < 0) bad.push(`arms ${s.arms}`);
  if (!Number.isInteger(s.headsets) || s.headsets < 0) bad.push(`headsets ${s.headsets}`);
  if (!(s.patchRateHz > 0 && s.patchRateHz <= 240)) bad.push(`patchRateHz ${s.patchRateHz}`);
  if (s.poseRateHz !== undefined && !(s.poseRateHz > 0 && s.poseRateHz <= 240))
    bad.push(`poseRateHz ${s.poseRateHz} (must be in (0, 240] Hz)`);
  if (s.handsShare !== undefined && !(s.handsShare >= 0 && s.handsShare <= 1))
    bad.push(`handsShare ${s.handsShare} (must be in [0, 1])`);
  if (s.videoRung !== null && !rungs.includes(s.videoRung)) {
    bad.push(`video rung ${s.videoRung} (known: ${rungs.join(", ")})`);
  }
  return bad;
}

/**
 * {@link nominalDemand} as a prediction (p95 = {@link NOMINAL_P95_FACTOR} × mean, per class,
 * the classes adding up to the aggregate): what the runtime answers when no learned traffic
 * model loads, and the no-ML row of the traffic agent's accuracy figures.
 * @throws RangeError for a scenario with {@link trafficScenarioProblems}
 */
export function nominalDemandPrediction(s: TrafficScenario): DemandPrediction {
  const bad = trafficScenarioProblems(s);
  if (bad.length > 0) throw new RangeError(`invalid traffic scenario: ${bad.join("; ")}`);
  const { twin_state: state, control, video } = nominalDemand(s);
  const mean = state + control + video;
  const entry = (flowClass: FlowClass, bps: number) => ({
    flowClass,
    meanBps: bps,
    p95Bps: bps * NOMINAL_P95_FACTOR,
  });
  return {
    meanBps: mean,
    p95Bps: mean * NOMINAL_P95_FACTOR,
    perClass: [
      entry("twin_state", state),
      entry("control", control),
      ...(s.videoRung !== null ? [entry(`video_${s.videoRung}`, video)] : []),
    ],
    inferenceMs: 0,
    source: "nominal",
  };
}

/** What the orchestrator decides for a link. */
export interface Allocation {
  /** Downlink bands assigned, best first. */
  readonly bands: readonly string[];
  /** Capacity of those bands (as estimated when deciding), bit/s. */
  readonly capacityBps: number;
  /** Video rung, or null when no rung fits. */
  readonly rung: string | null;
  /** Bandwidth share reserved in the network for the link, bit/s. */
  readonly reservedBps: number;
  /** Demand the decision planned for (p95 of non-video + the rung), bit/s. */
  readonly plannedDemandBps: number;
}

export interface AllocationInput {
  /** Per-band channel estimates (downlink bands are used). */
  readonly channel: readonly BandChannel[];
  /** Which band ids are downlink. */
  readonly downlink: ReadonlySet<string>;
  /** Non-video demand of the link (state patches, control), p95, bit/s. */
  readonly baseDemandBps: number;
  /** Video demand by rung, p95, bit/s (from the traffic/reconstruction agents). */
  readonly videoDemandBps: Readonly<Record<string, number>>;
  readonly ladder: readonly Rung[];
  /** Highest rung the user wants (their request), or null for video off. */
  readonly wantedRung: string | null;
  /** Fraction of estimated capacity kept free against estimation error (e.g. 0.2). */
  readonly margin: number;
  /**
   * Bandwidth reserved above the planned (p95) demand, as a fraction (e.g. 0.1). The p95
   * already covers the traffic's own variation; this covers windows beyond it.
   */
  readonly shareHeadroom?: number;
}

/**
 * The coordinated choice: the highest rung not above the wanted one whose demand the
 * fewest, best bands can carry with the margin (channel uncertainty); then exactly those
 * bands, and a bandwidth share of the planned p95 demand plus the share headroom (traffic
 * beyond its p95).
 */
export function allocateCoordinated(input: AllocationInput): Allocation {
  const bands = [...input.channel]
    .filter((b) => input.downlink.has(b.bandId))
    .sort((a, b) => b.capacityBps - a.capacityBps);
  const wantedIndex =
    input.wantedRung === null ? -1 : input.ladder.findIndex((r) => r.name === input.wantedRung);
  for (let i = wantedIndex; i >= -1; i--) {
    const rung = i >= 0 ? (input.ladder[i] as Rung) : null;
    const demand =
      input.baseDemandBps + (rung ? (input.videoDemandBps[rung.name] ?? rung.bitrateBps) : 0);
    const need = demand / (1 - input.margin);
    const chosen: BandChannel[] = [];
    let capacity = 0;
    for (const b of bands) {
      if (capacity >= need) break;
      chosen.push(b);
      capacity += b.capacityBps;
    }
    if (capacity >= need) {
      return {
        bands: chosen.map((b) => b.bandId),
        capacityBps: capacity,
        rung: rung?.name ?? null,
        reservedBps: demand * (1 + (input.shareHeadroom ?? 0.1)),
        plannedDemandBps: demand,
      };
    }
  }
  // Not even the base traffic fits: give it everything and no video.
  const all = bands.reduce((s, b) => s + b.capacityBps, 0);
  return {
    bands: bands.map((b) => b.bandId),
    capacityBps: all,
    rung: null,
    reservedBps: input.baseDemandBps * (1 + (input.shareHeadroom ?? 0.1)),
    plannedDemandBps: input.baseDemandBps,
  };
}

/** Outcome of one window on a link. */
export interface WindowOutcome {
  /** What the link carried, bit/s. */
  readonly carriedBps: number;
  /** True when demand exceeded what the link delivered. */
  readonly stalled: boolean;
  readonly spectrumUtilisation: number;
  readonly bandwidthUtilisation: number;
  /** True capacity of the link's bands in this window, bit/s. */
  readonly capacityBps: number;
  /** Bandwidth share reserved, bit/s. */
  readonly reservedBps: number;
}

/**
 * Plays one window: `demandBps` offered to a link with the allocation's bands, whose TRUE
 * capacity in this window is `trueCapacityBps` (sum over its bands), and its reserved share.
 */
export function playWindow(
  a: Allocation,
  demandBps: number,
  trueCapacityBps: number,
): WindowOutcome {
  const deliverable = Math.min(trueCapacityBps, a.reservedBps);
  const carried = Math.min(demandBps, deliverable);
  return {
    carriedBps: carried,
    stalled: demandBps > deliverable * 1.0001,
    spectrumUtilisation: trueCapacityBps > 0 ? carried / trueCapacityBps : 0,
    bandwidthUtilisation: a.reservedBps > 0 ? carried / a.reservedBps : 0,
    capacityBps: trueCapacityBps,
    reservedBps: a.reservedBps,
  };
}
