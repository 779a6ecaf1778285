/**
 * Reliability scenarios of `npm run bench:agentnet` (server/ml/datasets/reliability.ts):
 * two uncoordinated stacks (dash.js-style BOLA/throughput ABR, hls.js's live ABR; both with
 * proportional-fair bands and measured demand + headroom) against the coordinated controller
 * rule without ML (physics + nominal bitrates) and with the models (pGF mean head + nGF q99
 * of one link's demand), each into a 4 s and a 2 s (live) buffer. Prints one table per
 * scenario and buffer; gains are against the stronger uncoordinated stack of that table
 * (least stall time, then bitrate).
 */
import { ChannelAgent } from "../../server/agents/channel-agent.ts";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import {
  BUFFER_PRESETS,
  type BufferPreset,
  coordinatedStrategy,
  hlsjsStrategy,
  RELIABILITY_KINDS,
  reliabilityScenario,
  type RunResult,
  runPlayer,
  uncoordinatedStrategy,
} from "../../server/ml/datasets/reliability.ts";
import type { ArmKinematics } from "../../server/sim/kinematics.ts";
import { reliabilityModels } from "../support/reliability-models.ts";
import { summarize } from "./stats.ts";

export async function runReliabilityBench(options: {
  quick: boolean;
  kinematics: ArmKinematics;
}): Promise<Record<string, unknown>> {
  const channel = await ChannelAgent.load("assets/models/pgf", { estimator: "mean" });
  const traffic = await TrafficAgent.load();
  try {
    const { ml, noMl } = reliabilityModels(channel, traffic);
    const seeds = options.quick ? [11] : [11, 12, 13, 14];
    const out: Record<string, unknown> = {};
    for (const kind of RELIABILITY_KINDS) {
      console.error(`reliability: ${kind} …`);
      const scenarios = seeds.map((seed) => reliabilityScenario(options.kinematics, kind, seed));
      const perBuffer: Record<string, unknown> = {};
      for (const preset of Object.keys(BUFFER_PRESETS) as BufferPreset[]) {
        const bufferMaxS = BUFFER_PRESETS[preset];
        const totals = new Map<string, RunResult[]>();
        for (const sc of scenarios) {
          for (const s of [
            uncoordinatedStrategy(),
            hlsjsStrategy(),
            coordinatedStrategy(noMl, "delta"),
            coordinatedStrategy(ml, "delta"),
            coordinatedStrategy(noMl, "ratio"),
            coordinatedStrategy(ml, "ratio"),
          ]) {
            const list = totals.get(s.name) ?? [];
            list.push(runPlayer(sc, s, { bufferMaxS }));
            totals.set(s.name, list);
          }
        }
        const rows = [...totals].map(([strategy, runs]) => summarizeRuns(strategy, runs));
        // The strongest uncoordinated stack of this run: least stall time, then bitrate.
        const base = rows
          .filter((r) => r.strategy.startsWith("uncoordinated"))
          .sort((a, b) => a.stallS - b.stallS || b.meanBitrateMbps - a.meanBitrateMbps)[0] as Row;
        const gains = rows
          .filter((r) => !r.strategy.startsWith("uncoordinated"))
          .map((r) => ({
            strategy: r.strategy,
            vsStrongestUncoordinated: {
              baseline: base.strategy,
              spectrum:
                Math.round((r.spectrumUtilisation / base.spectrumUtilisation - 1) * 1000) / 1000,
              bandwidth:
                Math.round((r.bandwidthUtilisation / base.bandwidthUtilisation - 1) * 1000) / 1000,
              bitrate: Math.round((r.meanBitrateMbps / base.meanBitrateMbps - 1) * 1000) / 1000,
              stallS: Math.round((r.stallS - base.stallS) * 100) / 100,
            },
          }));
        console.log(
          `\nReliability: ${kind}, ${bufferMaxS} s buffer (${preset}), ${seeds.length} seeds × 60 s`,
        );
        console.table(
          Object.fromEntries(
            rows.map((r) => [
              r.strategy,
              {
                stalls: r.stalls,
                "stall s": r.stallS,
                "bitrate Mbit/s": r.meanBitrateMbps,
                switches: r.switchesPerRun,
                "spectrum util.": r.spectrumUtilisation,
                "bandwidth util.": r.bandwidthUtilisation,
                "decision p50/p95 ms": `${r.decisionMs.p50} / ${r.decisionMs.p95}`,
              },
            ]),
          ),
        );
        perBuffer[preset] = { bufferMaxS, rows, gains };
      }
      out[kind] = { seeds, ...perBuffer };
    }
    return out;
  } finally {
    channel.dispose();
    traffic.dispose();
  }
}

type Row = ReturnType<typeof summarizeRuns>;

/** Totals and means of one strategy's runs over the seeds. */
function summarizeRuns(strategy: string, runs: readonly RunResult[]) {
  const avg = (f: (r: RunResult) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const lat = summarize(runs.flatMap((r) => [...r.decisionMs]));
  return {
    strategy,
    stalls: runs.reduce((a, r) => a + r.stalls, 0),
    stallS: Math.round(runs.reduce((a, r) => a + r.stallS, 0) * 100) / 100,
    meanBitrateMbps: Math.round(avg((r) => r.meanBitrateBps) / 1e5) / 10,
    switchesPerRun: Math.round(avg((r) => r.switches) * 10) / 10,
    spectrumUtilisation: Math.round(avg((r) => r.spectrumUtilisation) * 1000) / 1000,
    bandwidthUtilisation: Math.round(avg((r) => r.bandwidthUtilisation) * 1000) / 1000,
    decisionMs: {
      p50: Math.round(lat.median * 100) / 100,
      p95: Math.round(lat.p95 * 100) / 100,
    },
  };
}
