/**
 * The features of one metering window of one flow — what the live traffic meter measures
 * and what the generated training traces are cut into, by one definition.
 */
import type { FlowClass, FlowWindow } from "./contracts.ts";

/** The {@link FlowWindow} of `bytes` in `packets` over `windowS`. */
export function windowOf(
  flowClass: FlowClass,
  bytes: number,
  packets: number,
  windowS: number,
): FlowWindow {
  return {
    flowClass,
    windowS,
    throughputBps: (bytes * 8) / windowS,
    meanPacketBytes: packets > 0 ? bytes / packets : 0,
    meanInterArrivalS: packets > 0 ? windowS / packets : windowS,
  };
}

// ---------------------------------------------------------------------------------------
