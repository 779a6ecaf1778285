/**
 * The flow classes the traffic agent models and the video ladder as the traffic
 * generators see it (names and nominal rates from the controller's ladder).
 */
import { DEFAULT_LADDER } from "../../net/allocation.ts";
import type { FlowClass } from "../../net/contracts.ts";

/** One rung of the 360° video ladder, as the traffic generators see it. */
export interface VideoRung {
  /** Rung name, e.g. `4k`; the flow class is `video_<name>`. */
  readonly name: string;
  /** Nominal (long-run mean) bitrate, bit/s. */
  readonly nominalBps: number;
}

/**
 * The controller's 360° ladder ({@link DEFAULT_LADDER} of `net/allocation.ts`, one table for
 * both): the same names and nominal mean bitrates. Streams run at 30 fps or 60 fps.
 */
export const VIDEO_LADDER: readonly VideoRung[] = DEFAULT_LADDER.map((r) => ({
  name: r.name,
  nominalBps: r.bitrateBps,
}));

/** Every flow class the traffic agent models, in model order. */
export const FLOW_CLASSES: readonly FlowClass[] = [
  "twin_state",
  "control",
  ...VIDEO_LADDER.map((r) => videoClass(r.name)),
];

/** The flow class of a video rung. */
export function videoClass(rung: string): FlowClass {
  return `video_${rung}`;
}

/** The rung of a video flow class, or undefined for other classes and unknown rungs. */
export function rungOf(flowClass: FlowClass): VideoRung | undefined {
  if (!flowClass.startsWith("video_")) return undefined;
  const name = flowClass.slice("video_".length);
  return VIDEO_LADDER.find((r) => r.name === name);
}

/** Index of a rung in {@link VIDEO_LADDER}, or -1. */
export function rungIndex(rung: string | null): number {
  return rung === null ? -1 : VIDEO_LADDER.findIndex((r) => r.name === rung);
}
