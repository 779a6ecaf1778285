/**
 * What the radio and traffic models and the agents exchange. Pure types.
 * Units: Hz, bit/s, dB, m, s; positions in the twin's `world` frame (z up).
 */
import type { Pose, Vec3 } from "../../shared/geometry.ts";

/** One OFDM band of the cell. */
export interface Band {
  /** e.g. `ul-1` … `ul-5`, `dl-1` … `dl-5`. */
  readonly id: string;
  readonly direction: "uplink" | "downlink";
  /** Centre frequency, Hz. */
  readonly centerHz: number;
  /** Occupied bandwidth, Hz. */
  readonly bandwidthHz: number;
  /** Subcarriers modelled in the band (CSI resolution). */
  readonly subcarriers: number;
}

/** A robot arm as the radio sees it: capsules around its links, `world` frame. */
export interface ArmGeometry {
  readonly id: string;
  /** Base pose, `world`. */
  readonly base: Pose;
  /** Link segments: from `a` to `b` with radius `r`, m. */
  readonly links: readonly { readonly a: Vec3; readonly b: Vec3; readonly r: number }[];
}

/** Where things are when the channel is computed or predicted. */
export interface RadioEnvironment {
  /** Base station antenna, `world`. */
  readonly gnb: Vec3;
  /** Headset (UE) antenna, `world`. */
  readonly headset: Vec3;
  /** Every arm in the cell, the real one and virtual ones. */
  readonly arms: readonly ArmGeometry[];
}

/** Channel state of one band. */
export interface BandChannel {
  readonly bandId: string;
  /** Mean SNR over the band's subcarriers, dB. */
  readonly snrDb: number;
  /** Shannon capacity of the band, bit/s (sum over subcarriers of Δf · log2(1 + SNR_k)). */
  readonly capacityBps: number;
  /** Per-subcarrier SNR, dB (length = band.subcarriers); absent in summaries. */
  readonly subcarrierSnrDb?: readonly number[];
}

/** Per-band channel prediction of the channel agent. */
export interface ChannelPrediction {
  readonly bands: readonly BandChannel[];
  /** Wall time of the inference, ms. */
  readonly inferenceMs: number;
  /** Which model answered (`pgf-diffusion`, `channel-model` for ground truth). */
  readonly source: string;
}

/** Traffic classes the server produces and the traffic agent models. */
export type FlowClass = "twin_state" | "control" | `video_${string}`;

/** Features of a flow over one window. */
export interface FlowWindow {
  readonly flowClass: FlowClass;
  /** Window length, s. */
  readonly windowS: number;
  /** Throughput over the window, bit/s. */
  readonly throughputBps: number;
  /** Mean packet (frame/message) size, bytes. */
  readonly meanPacketBytes: number;
  /** Mean inter-arrival time of packets, s. */
  readonly meanInterArrivalS: number;
}

/** A what-if question for the traffic agent: what the cell would carry. */
export interface TrafficScenario {
  /** Arms in the twin (state patch traffic grows with them). */
  readonly arms: number;
  /** Headsets receiving the room state. */
  readonly headsets: number;
  /** State patch rate, Hz. */
  readonly patchRateHz: number;
  /** Video rung each headset streams (e.g. `1080p`, `4k`, `8k`), or null for none. */
  readonly videoRung: string | null;
  /**
   * Pose messages each headset sends per second, Hz, in (0, 240]; absent:
   * {@link DEFAULT_POSE_RATE_HZ} (the Unity bridge's default). Drives the control uplink and
   * how often the operators' poses change in the state patches.
   */
  readonly poseRateHz?: number;
  /**
   * Share of pose messages that carry the hand controllers (left and/or right), 0..1; the
   * rest carry the head only. Absent: {@link DEFAULT_HANDS_SHARE} (head and both hands).
   */
  readonly handsShare?: number;
}

/** Pose rate a scenario without `poseRateHz` means: the Unity bridge's `poseRateHz`, Hz. */
export const DEFAULT_POSE_RATE_HZ = 72;
/** Hands share a scenario without `handsShare` means: every pose carries both hands. */
export const DEFAULT_HANDS_SHARE = 1;

/** The pose features of a scenario with the defaults filled in (Hz, share 0..1). */
export function poseFeatures(s: TrafficScenario): { poseRateHz: number; handsShare: number } {
  return {
    poseRateHz: s.poseRateHz ?? DEFAULT_POSE_RATE_HZ,
    handsShare: s.handsShare ?? DEFAULT_HANDS_SHARE,
  };
}

/** Predicted bandwidth demand of a scenario. */
export interface DemandPrediction {
  /** Mean aggregate demand, bit/s. */
  readonly meanBps: number;
  /** 95th percentile of per-window aggregate demand, bit/s. */
  readonly p95Bps: number;
  readonly perClass: readonly {
    readonly flowClass: FlowClass;
    readonly meanBps: number;
    readonly p95Bps: number;
  }[];
  readonly inferenceMs: number;
  readonly source: string;
}
