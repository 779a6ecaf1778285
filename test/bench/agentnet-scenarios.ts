/**
 * The paper's two scenarios, played window by window (1 s) against ground truth, with the
 * agents coordinated (AgentNet) and with each layer deciding alone. The room's headsets
 * (6 in the digital twin, 4 in the metaverse) share the cell's downlink and stream the
 * same rung; allocations are for all of them together.
 *
 * Ground truth per window: the channel model with small-scale fading redrawn every window
 * (true per-band capacity), and the link's demand measured from the project's own traffic
 * traces (real state-patch sizes, control messages, a VBR video model) at the rung played.
 *
 * Strategies:
 *  - coordinated: the AgentController decides bands, bandwidth share and rung from the
 *    channel agent's per-band prediction and the traffic agent's demand prediction, at the
 *    start, on every change (arm added, resolution asked for, headset moved) and every
 *    `monitorS` seconds, keeping a 20 % margin;
 *  - uncoordinated (each layer alone; a WEAK baseline: the strongest uncoordinated stack,
 *    BOLA/throughput ABR with proportional-fair bands and a measured reservation, is in
 *    agentnet-reliability.ts, and README reports only that comparison): the application
 *    picks the rung by throughput (highest nominal bitrate ≤ 0.85 × the harmonic mean of the last three
 *    windows' per-headset download throughput — what a segment download measures, i.e. the
 *    deliverable rate — one rung up at a time, capped by the user's request); the
 *    physical layer allocates bands statically (the two lowest downlink carriers — or, in
 *    the "greedy" variant, all five); the network layer reserves a fixed share per headset.
 *
 * Per window a link carries min(demand, true capacity of its bands, its share); spectrum
 * utilisation = carried / true capacity of its bands; bandwidth utilisation = carried /
 * share; a stall = demand above what the link delivers.
 */
import { pino } from "pino";
import type { AgentRegistry } from "../../server/agents/agent.ts";
import { AgentController } from "../../server/agents/controller.ts";
import { armGeometry } from "../../server/net/arm-geometry.ts";
import { type Allocation, DEFAULT_LADDER, playWindow } from "../../server/net/allocation.ts";
import { DEFAULT_BANDS } from "../../server/net/bands.ts";
import { computeChannel } from "../../server/net/channel-model.ts";
import type { ArmGeometry, RadioEnvironment, TrafficScenario } from "../../server/net/contracts.ts";
import { GNB_POSITION } from "../../server/net/environments.ts";
import { measureScenario } from "../../server/ml/datasets/traffic-sets.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { summarize } from "./stats.ts";

const UPRIGHT = { x: 0, y: 0, z: 0, w: 1 };
const DOWNLINK = DEFAULT_BANDS.filter((b) => b.direction === "downlink");

/** One event-driven timeline. */
export interface Scenario {
  readonly name: string;
  readonly windows: number;
  /** Headsets in the room, all streaming the same rung. */
  readonly headsets: number;
  /** Per window: headset position, extra arms, the rung the user wants, and events. */
  at(w: number): {
    headset: { x: number; y: number; z: number };
    extraArms: number;
    wantedRung: string;
    event: string | null;
  };
}

/** Digital twin: a second arm is added to the line at 40 s; the operator walks at 80 s. */
export const digitalTwinScenario: Scenario = {
  name: "digital twin: an arm is added to the line",
  windows: 120,
  headsets: 6,
  at: (w) => ({
    headset: w < 80 ? { x: 1.0, y: 2.2, z: 1.5 } : { x: 1.6, y: 1.8, z: 1.6 },
    extraArms: w >= 40 ? 1 : 0,
    wantedRung: "4k",
    event: w === 40 ? "arm added" : w === 80 ? "headset moved" : null,
  }),
};

/** Metaverse: the user asks for a sharper picture at 30 s; walks behind the arm 70–95 s. */
export const metaverseScenario: Scenario = {
  name: "metaverse: a user asks for a higher resolution",
  windows: 120,
  headsets: 4,
  at: (w) => ({
    headset: w >= 70 && w < 95 ? { x: 0.9, y: 2.3, z: 1.3 } : { x: 1.8, y: 0.9, z: 1.7 },
    extraArms: 0,
    wantedRung: w < 30 ? "1440p" : "8k",
    event: w === 30 ? "resolution asked" : w === 70 || w === 95 ? "headset moved" : null,
  }),
};

export interface StrategyResult {
  strategy: string;
  spectrumUtilisation: number;
  bandwidthUtilisation: number;
  stallRatio: number;
  /** Mean video bitrate delivered, bit/s. */
  meanVideoBps: number;
  /** Mean downlink bands used. */
  meanBands: number;
  decisions: number;
  decisionLatencyMs: { p50: number; p95: number } | null;
}

export async function runScenario(
  scenario: Scenario,
  robot: RobotDescription,
  registry: AgentRegistry,
  options: { monitorS: number; fixedShareBps: number; seed: number },
): Promise<{ scenario: string; results: StrategyResult[] }> {
  const arms = (n: number): ArmGeometry[] => {
    const out = [armGeometry(robot.kinematics, robot.home, robot.basePose, "panda")];
    if (n > 0)
      out.push(
        armGeometry(
          robot.kinematics,
          robot.home,
          { position: { x: 0, y: 1.2, z: 0.8 }, orientation: UPRIGHT },
          "arm-2",
        ),
      );
    return out;
  };
  const envAt = (w: number): RadioEnvironment => {
    const a = scenario.at(w);
    return { gnb: GNB_POSITION, headset: a.headset, arms: arms(a.extraArms) };
  };
  // Ground truth: true capacity per window and band; demand per window, rung and arm count.
  const trueCapacity: Map<string, number>[] = [];
  for (let w = 0; w < scenario.windows; w++) {
    const c = computeChannel(envAt(w), DEFAULT_BANDS, {
      seed: options.seed * 1000 + w,
      fading: true,
    });
    trueCapacity.push(new Map(c.map((b) => [b.bandId, b.capacityBps])));
  }
  const demandSeries = new Map<string, readonly number[]>();
  const demand = (w: number, armsCount: number, rung: string | null): number => {
    const key = `${armsCount}/${rung}`;
    let series = demandSeries.get(key);
    if (!series) {
      const s: TrafficScenario = {
        arms: armsCount,
        headsets: scenario.headsets,
        patchRateHz: 60,
        videoRung: rung,
      };
      series = measureScenario(s, {
        windows: scenario.windows,
        seed: options.seed + armsCount * 7,
      }).aggregateBps;
      demandSeries.set(key, series);
    }
    return series[w] as number;
  };
  const baseDemand = (w: number, armsCount: number) => demand(w, armsCount, null);
  const capOf = (w: number, bands: readonly string[]) =>
    bands.reduce((s, b) => s + (trueCapacity[w]?.get(b) ?? 0), 0);

  const results: StrategyResult[] = [];

  // Coordinated: the controller with the real agents.
  {
    const controller = new AgentController({
      registry,
      bands: DEFAULT_BANDS,
      logger: pino({ level: "silent" }),
    });
    const latencies: number[] = [];
    let alloc: Allocation | null = null;
    let lastDecision = -Infinity;
    const acc = newAccumulator();
    for (let w = 0; w < scenario.windows; w++) {
      const a = scenario.at(w);
      if (alloc === null || a.event !== null || w - lastDecision >= options.monitorS) {
        const d = await controller.allocate(
          {
            radio: envAt(w),
            traffic: {
              arms: 1 + a.extraArms,
              headsets: scenario.headsets,
              patchRateHz: 60,
              videoRung: null,
            },
            wantedRung: a.wantedRung,
          },
          a.event ? "environment_change" : w === 0 ? "start" : "monitor",
        );
        latencies.push(d.latencyMs);
        alloc = controller.allocation as Allocation;
        lastDecision = w;
      }
      const armsCount = 1 + a.extraArms;
      const offered = demand(w, armsCount, alloc.rung);
      const out = playWindow(alloc, offered, capOf(w, alloc.bands));
      acc.add(out, offered - baseDemand(w, armsCount), alloc.bands.length);
    }
    const lat = summarize(latencies);
    results.push({
      strategy: "coordinated (AgentNet)",
      ...acc.result(),
      decisions: latencies.length,
      decisionLatencyMs: { p50: round(lat.median), p95: round(lat.p95) },
    });
  }

  // Uncoordinated: each layer alone.
  for (const variant of ["static 2 bands", "greedy 5 bands"] as const) {
    const bands =
      variant === "static 2 bands"
        ? DOWNLINK.slice(0, 2).map((b) => b.id)
        : DOWNLINK.map((b) => b.id);
    const acc = newAccumulator();
    let rungIndex = 0;
    const history: number[] = [];
    for (let w = 0; w < scenario.windows; w++) {
      const a = scenario.at(w);
      const cap = DEFAULT_LADDER.findIndex((r) => r.name === a.wantedRung);
      // Throughput-based ABR on what video got through in the last windows.
      if (history.length >= 3) {
        const recent = history.slice(-3);
        const harmonic = recent.length / recent.reduce((s, v) => s + 1 / Math.max(v, 1), 0);
        const fits = DEFAULT_LADDER.map((r, i) =>
          r.bitrateBps <= 0.85 * harmonic ? i : -1,
        ).filter((i) => i >= 0);
        const best = fits.length ? Math.max(...fits) : 0;
        rungIndex = best > rungIndex ? rungIndex + 1 : best;
      }
      rungIndex = Math.min(rungIndex, cap);
      const rung = DEFAULT_LADDER[rungIndex]!.name;
      const alloc: Allocation = {
        bands,
        capacityBps: 0,
        rung,
        reservedBps: options.fixedShareBps * scenario.headsets,
        plannedDemandBps: 0,
      };
      const armsCount = 1 + a.extraArms;
      const offered = demand(w, armsCount, rung);
      const out = playWindow(alloc, offered, capOf(w, bands));
      const base = baseDemand(w, armsCount);
      // A player measures what a segment download gets: the link's deliverable rate per headset.
      const deliverable = Math.min(out.capacityBps, out.reservedBps);
      history.push(Math.max(0, (deliverable - base) / scenario.headsets));
      acc.add(out, offered - base, bands.length);
    }
    results.push({
      strategy: `uncoordinated (ABR + ${variant} + fixed share)`,
      ...acc.result(),
      decisions: scenario.windows,
      decisionLatencyMs: null,
    });
  }
  return { scenario: scenario.name, results };
}

function newAccumulator() {
  let carried = 0;
  let capacity = 0;
  let reserved = 0;
  let stalls = 0;
  let video = 0;
  let bands = 0;
  let n = 0;
  return {
    add(out: ReturnType<typeof playWindow>, videoDemand: number, bandCount: number) {
      carried += out.carriedBps;
      capacity += out.capacityBps;
      reserved += out.reservedBps;
      if (out.stalled) stalls += 1;
      video += out.stalled ? 0 : Math.max(0, videoDemand);
      bands += bandCount;
      n += 1;
    },
    result() {
      return {
        spectrumUtilisation: round(capacity > 0 ? carried / capacity : 0, 4),
        bandwidthUtilisation: round(reserved > 0 ? carried / reserved : 0, 4),
        stallRatio: round(stalls / Math.max(1, n), 4),
        meanVideoBps: round(video / Math.max(1, n), 0),
        meanBands: round(bands / Math.max(1, n), 2),
      };
    },
  };
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
