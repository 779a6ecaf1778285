/**
 * The two model sets the reliability strategies run on (server/ml/datasets/reliability.ts),
 * shared by the benchmark (test/bench/agentnet-reliability.ts) and its unit test:
 * - with ML: the pGF mean head's per-band capacity and nGF's 99th percentile of one
 *   headset link's demand (24 headsets, one arm, 30 Hz patches) per rung;
 * - without ML: the physics channel (no fading) and the runtime's nominal fallback
 *   (p95 = 1.3 × the rung's nominal bitrate, plus 2 Mbit/s of state and control).
 */
import type { ChannelAgent } from "../../server/agents/channel-agent.ts";
import type { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { physicsCapacity } from "../../server/ml/datasets/channel-tasks.ts";
import type { StrategyModels } from "../../server/ml/datasets/reliability.ts";
import { DEFAULT_LADDER } from "../../server/net/allocation.ts";
import type { RadioEnvironment } from "../../server/net/contracts.ts";

export function reliabilityModels(
  channel: ChannelAgent,
  traffic: TrafficAgent,
): { readonly ml: StrategyModels; readonly noMl: StrategyModels } {
  const q99 = new Map<string, number>();
  for (const r of DEFAULT_LADDER) {
    const s = Array.from(
      traffic.demandSamples({ arms: 1, headsets: 24, patchRateHz: 30, videoRung: r.name }, 1)
        .aggregate,
    ).sort((a, b) => a - b);
    q99.set(r.name, s[Math.floor(0.99 * (s.length - 1))] as number);
  }
  return {
    ml: {
      name: "pGF mean head + nGF q99",
      capacity: (envs: readonly RadioEnvironment[]) =>
        channel.predictMany(envs).map((p) => Float64Array.from(p.bands, (b) => b.capacityBps)),
      linkDemand: (rung) => q99.get(rung) as number,
    },
    noMl: {
      name: "physics + nominal (no ML)",
      capacity: (envs: readonly RadioEnvironment[]) => envs.map((e) => physicsCapacity(e)),
      linkDemand: (rung) =>
        (DEFAULT_LADDER.find((x) => x.name === rung)?.bitrateBps ?? 0) * 1.3 + 2e6,
    },
  };
}
