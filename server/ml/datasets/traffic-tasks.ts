/**
 * Evaluation sessions of the traffic agent's predictive task, kept apart from the runtime:
 * a session is a sequence of 1 s windows of the cell's measured traffic (the generators of
 * server/ml/datasets/*-traces.ts, real schema/msgpack frame sizes, modelled video encoder)
 * across scenario changes the controller knows before they happen:
 *
 * - `crowd-arriving`: 3 → 7 headsets (4k video each);
 * - `8k-requested`: 3 headsets step from 4k to 8k;
 * - `arm-added`: 1 → 3 arms, 5 headsets on 1440p;
 * - `steady`: one scenario throughout (5 headsets, 6k).
 *
 * Patch rates and headset counts are the held-out values of traffic-sets.ts (45/72 Hz;
 * 3, 5, 7 headsets), never in the training grid. Seeds: {@link TRAFFIC_TASK_SEEDS}.
 */
import type { FlowClass, TrafficScenario } from "../../net/contracts.ts";
import { mixSeed } from "./trace-random.ts";
import { measureScenario } from "./traffic-sets.ts";

/** Seeds of the session sets (fit: baselines' headroom and parameters; heldOut: reported). */
export const TRAFFIC_TASK_SEEDS = Object.freeze({ fit: 3_300_001, heldOut: 4_400_007 });

/** Class groups the task reports: video of any rung is one group. */
export type ClassGroup = "twin_state" | "control" | "video";
export const CLASS_GROUPS: readonly ClassGroup[] = ["twin_state", "control", "video"];

/** The group of a flow class. */
export function groupOf(c: FlowClass): ClassGroup {
  return c === "twin_state" ? "twin_state" : c === "control" ? "control" : "video";
}

export type SessionKind = "crowd-arriving" | "8k-requested" | "arm-added" | "steady";

/** A measured session. */
export interface TrafficSession {
  readonly kind: SessionKind;
  /** The scenario in force in each window (known ahead to the controller). */
  readonly scenarios: readonly TrafficScenario[];
  /** Per class group, throughput of every window, bit/s (sum over the group's flows). */
  readonly perGroup: Readonly<Record<ClassGroup, readonly number[]>>;
  /** Aggregate throughput per window, bit/s. */
  readonly aggregate: readonly number[];
}

const KINDS: readonly SessionKind[] = ["crowd-arriving", "8k-requested", "arm-added", "steady"];

function segments(kind: SessionKind, rate: number): TrafficScenario[] {
  const s = (arms: number, headsets: number, videoRung: string | null): TrafficScenario => ({
    arms,
    headsets,
    patchRateHz: rate,
    videoRung,
  });
  switch (kind) {
    case "crowd-arriving":
      return [s(2, 3, "4k"), s(2, 7, "4k")];
    case "8k-requested":
      return [s(2, 3, "4k"), s(2, 3, "8k")];
    case "arm-added":
      return [s(1, 5, "1440p"), s(3, 5, "1440p")];
    case "steady":
      return [s(2, 5, "6k"), s(2, 5, "6k")];
  }
}

/**
 * `count` sessions (the kinds in turn), each two segments of `segmentS` seconds.
 * @param seed {@link TRAFFIC_TASK_SEEDS}.fit or .heldOut
 */
export function trafficSessions(count: number, seed: number, segmentS = 30): TrafficSession[] {
  const out: TrafficSession[] = [];
  for (let i = 0; i < count; i++) {
    const kind = KINDS[i % KINDS.length] as SessionKind;
    const rate = i % 2 === 0 ? 45 : 72;
    const scenarios: TrafficScenario[] = [];
    const perGroup: Record<ClassGroup, number[]> = { twin_state: [], control: [], video: [] };
    const aggregate: number[] = [];
    segments(kind, rate).forEach((sc, k) => {
      const m = measureScenario(sc, { windows: segmentS, seed: mixSeed(seed, i, k) });
      for (let w = 0; w < segmentS; w++) {
        scenarios.push(sc);
        const sums: Record<ClassGroup, number> = { twin_state: 0, control: 0, video: 0 };
        for (const [cls, flows] of m.flows) {
          const copies = cls === "twin_state" ? sc.headsets : 1;
          for (const f of flows) sums[groupOf(cls)] += copies * (f[w]?.throughputBps ?? 0);
        }
        for (const g of CLASS_GROUPS) perGroup[g].push(sums[g]);
        aggregate.push(m.aggregateBps[w] as number);
      }
    });
    out.push({ kind, scenarios, perGroup, aggregate });
  }
  return out;
}
